// An example driver module: provides Greeter (its own interface) and CharDevice (an SDK
// interface). Like every module it is stateless code: all state is HelloState, a
// nucleus-owned region reached through the binding, which is the context of every call
// (docs/module-contract.md).
#include "umka/kabi/hello_driver.hpp"

#include <stddef.h>
#include <stdint.h>

#include "umka/kabi/char_device.hpp"
#include "umka/kabi/hello_driver_manifest.hpp"
#include "umka/kabi/hello_driver_state.hpp"
#include "umka/module_entry.h"

namespace hello = umka::kabi::hello_driver;
namespace chardev = umka::kabi::char_device;
using umka::kabi::Status;

namespace {

// Manifest order of hello_driver.kabi's `module hello_driver` block.
enum Required : uint32_t { kLog = 0, kRequiredCount = 1 };
enum Provided : uint32_t { kGreeter = 0, kCharDevice = 1, kProvidedCount = 2 };
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

constexpr hello::GreeterVtable greeter_vtable = hello::make_greeter_vtable<Greeter>();
constexpr chardev::CharDeviceVtable char_device_vtable =
    chardev::make_char_device_vtable<CharDevice>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_HELLO_DRIVER();

// The nucleus (or the host harness) calls this once, with the `requires` bound and the
// state region mapped; the module answers with its vtables. Nothing else is exported.
UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount) ||
        umka::kabi::module_state<hello::HelloState>(binding) == nullptr) {
        return UMKA_KABI_EINVAL;
    }
    if (int32_t status = umka_module_provide(binding, kGreeter, &greeter_vtable, binding);
        status != UMKA_KABI_OK) {
        return status;
    }
    return umka_module_provide(binding, kCharDevice, &char_device_vtable, binding);
}
