// An example driver module: provides Greeter (its own interface), CharDevice (an SDK
// interface) and a console command, `hello [name]` (console_command.CommandSet). Like every
// module it is stateless code: all state is HelloState, a nucleus-owned region reached
// through the binding, which is the context of every call (docs/module-contract.md), so the
// greeting count survives a live swap to hello_driver-v2.umod and back.
#include "umka/kabi/hello_driver.hpp"

#include <stddef.h>
#include <stdint.h>

#include "umka/kabi/char_device.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/hello_driver_manifest.hpp"
#include "umka/kabi/hello_driver_state.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace hello = umka::kabi::hello_driver;
namespace chardev = umka::kabi::char_device;
namespace commands = umka::kabi::console_command;
namespace services = umka::kabi::kernel_services;
using umka::kabi::Status;

namespace {

// Manifest order of hello_driver.kabi's `module hello_driver` block.
enum Required : uint32_t { kLog = 0, kRequiredCount = 1 };
enum Provided : uint32_t { kGreeter = 0, kCharDevice = 1, kCommandSet = 2, kProvidedCount = 3 };
constexpr uint32_t kStateCount = 1;

hello::HelloState& state_of(void* context) {
    // umka_module_entry refused the binding unless the region is there and large enough.
    return *umka::kabi::module_state<hello::HelloState>(umka::kabi::binding_of(context));
}

constexpr char greeting_prefix[] = "hello, ";

struct Greeter {
    static Status greet(void* context, const char* name, uint64_t name_length, void* buffer,
                        uint64_t buffer_length, uint64_t* written) {
        if (name == nullptr && name_length != 0) return UMKA_KABI_EINVAL;
        uint64_t needed = sizeof(greeting_prefix) - 1 + name_length + 1;
        if (buffer_length < needed) return UMKA_KABI_ENOSPC;
        char* out = static_cast<char*>(buffer);
        __builtin_memcpy(out, greeting_prefix, sizeof(greeting_prefix) - 1);
        __builtin_memcpy(out + sizeof(greeting_prefix) - 1, name, name_length);
        out[needed - 1] = '\n';
        *written = needed;
        state_of(context).greetings += 1;
        state_of(context).bytes_written += needed;
        return Status::ok();
    }
    static uint64_t greeting_count(void* context) { return state_of(context).greetings; }
};
static_assert(__is_empty(Greeter));

// A /dev node that greets the world on read and counts what is written to it.
struct CharDevice {
    static Status info(void*, chardev::CharDeviceInfo* info) {
        *info = chardev::CharDeviceInfo{};
        __builtin_memcpy(info->name, "hello", 5);
        info->major = 240;  // Linux's range for local/experimental use
        info->minor = 0;
        return Status::ok();
    }
    static Status open(void*, chardev::OpenMode) { return Status::ok(); }
    static Status close(void*) { return Status::ok(); }
    static Status read(void* context, void* buffer, uint64_t length, uint64_t* transferred) {
        return Greeter::greet(context, "world", 5, buffer, length, transferred);
    }
    static Status write(void* context, const void*, uint64_t length, uint64_t* transferred) {
        state_of(context).bytes_written += length;
        *transferred = length;
        return Status::ok();
    }
    static Status control(void*, uint32_t, void*, uint64_t) { return UMKA_KABI_ENOTTY; }
    static Status poll(void*, chardev::PollEvents interest, chardev::PollEvents* ready) {
        *ready = interest & (chardev::PollEvents::Readable | chardev::PollEvents::Writable);
        return Status::ok();
    }
};
static_assert(__is_empty(CharDevice));

// This build's module version (1 for hello_driver.umod, 2 for hello_driver-v2.umod).
constexpr uint32_t kModuleVersion = hello::hello_driver_manifest.header.module_version;

using LineText = umka::LineText<160>;

// Copies `text` into a caller's buffer: ENOSPC (with what fit) when it is too small or the
// text was already cut.
Status copy_out(const LineText& text, void* output, uint64_t capacity, uint64_t* written) {
    uint64_t length = text.length() < capacity ? text.length() : capacity;
    __builtin_memcpy(output, text.data(), length);
    *written = length;
    return length < text.length() || text.truncated() ? Status(UMKA_KABI_ENOSPC) : Status::ok();
}

uint64_t text_length(const char* text) {
    uint64_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

// `hello [name]` on the console: greets through Greeter, so the count in HelloState goes
// on from whatever instance made the last greeting.
struct Commands {
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        LineText text;
        text.add("hello [name]  greets NAME (default: world); hello_driver counts greetings\n");
        return copy_out(text, output, capacity, written);
    }
    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t capacity, uint64_t* written) {
        const char* words = static_cast<const char*>(arguments);
        *written = 0;
        if (count == 0 || arguments_length == 0 || words[arguments_length - 1] != '\0') {
            return UMKA_KABI_EINVAL;
        }
        uint64_t command_length = text_length(words);
        if (command_length != 5 || __builtin_memcmp(words, "hello", 5) != 0) {
            return UMKA_KABI_ENOENT;
        }
        LineText out;
        if (count > 2) {
            out.add("hello: takes at most one name\n");
            (void)copy_out(out, output, capacity, written);
            return UMKA_KABI_EINVAL;
        }
        const char* name = count == 2 ? words + command_length + 1 : "world";
        char greeting[96];
        uint64_t greeting_length = 0;
        if (Status status = Greeter::greet(context, name, text_length(name), greeting,
                                           sizeof greeting, &greeting_length);
            status.is_error()) {
            out.add("hello: the name is too long\n");
            (void)copy_out(out, output, capacity, written);
            return UMKA_KABI_EINVAL;
        }
        out.add(greeting, greeting_length)
            .add("greeting ")
            .number(state_of(context).greetings)
            .add(" from hello_driver version ")
            .number(kModuleVersion)
            .add("\n");
        return copy_out(out, output, capacity, written);
    }
    // An ordinary module's set: after the shell's (console_command.kabi).
    static uint8_t precedence(void*) { return 128; }
};
static_assert(__is_empty(Commands));

// Once the module is bound and committed (at boot, or after a live swap's pause): the
// first moment it may call another service. Entry cannot (docs/module-contract.md §5).
int32_t start(UmkaModuleBinding* binding) {
    services::LogRef log;
    if (umka::kabi::bind_required(binding, kLog, &log).is_error()) return UMKA_KABI_OK;
    LineText out;
    out.add("hello_driver version ")
        .number(kModuleVersion)
        .add(" started, ")
        .number(state_of(binding).greetings)
        .add(" greeting(s) so far");
    log.write(services::LogLevel::Info, out.data(), out.length());
    return UMKA_KABI_OK;
}

constexpr hello::GreeterVtable greeter_vtable = hello::make_greeter_vtable<Greeter>();
constexpr chardev::CharDeviceVtable char_device_vtable =
    chardev::make_char_device_vtable<CharDevice>();
constexpr commands::CommandSetVtable command_set_vtable =
    commands::make_command_set_vtable<Commands>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_HELLO_DRIVER();

// The nucleus (or the host harness) calls this once, with the state region mapped; the
// module answers with its vtables and its start function and calls no service (entry also
// runs for a swap that is only tried). Nothing else is exported.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<hello::HelloState>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no HelloState region", 20);
    }
    if (int32_t status = umka_module_set_start(binding, start); status != UMKA_KABI_OK) {
        return status;
    }
    if (int32_t status = umka_module_provide(binding, kGreeter, &greeter_vtable, binding);
        status != UMKA_KABI_OK) {
        return status;
    }
    if (int32_t status = umka_module_provide(binding, kCommandSet, &command_set_vtable, binding);
        status != UMKA_KABI_OK) {
        return status;
    }
    return umka_module_provide(binding, kCharDevice, &char_device_vtable, binding);
}
