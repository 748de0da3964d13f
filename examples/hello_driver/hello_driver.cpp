// An example driver module: provides Greeter (its own interface) and CharDevice (an SDK
// interface). Like every module it is stateless code: all state is HelloState, reached
// through the context pointer the binding hands to each call.
#include "umka/kabi/hello_driver.hpp"

#include <stddef.h>
#include <stdint.h>

#include "umka/kabi/char_device.hpp"
#include "umka/kabi/hello_driver_manifest.hpp"
#include "umka/kabi/hello_driver_state.hpp"

namespace hello = umka::kabi::hello_driver;
namespace chardev = umka::kabi::char_device;
using umka::kabi::Status;

namespace {

hello::HelloState& state_of(void* context) {
    return *static_cast<hello::HelloState*>(context);
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

}  // namespace

// The module's vtables: read-only data the loader finds by symbol. How the loader binds
// them (the entry contract) is defined by the module system, issue 4.
extern "C" [[gnu::visibility("default")]] const hello::GreeterVtable hello_driver_greeter =
    hello::make_greeter_vtable<Greeter>();
extern "C" [[gnu::visibility("default")]] const chardev::CharDeviceVtable hello_driver_char_device =
    chardev::make_char_device_vtable<CharDevice>();

UMKA_KABI_DEFINE_MANIFEST_HELLO_DRIVER();
