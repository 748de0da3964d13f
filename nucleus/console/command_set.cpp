// console_command.CommandSet for the nucleus commands of Reach::Everywhere: the workload
// commands no module serves yet. The console module asks the shell module and the other
// providers first, so this set only answers names they do not know.
#include "nucleus/console/console.h"
#include "nucleus/loader/nucleus_services.h"
#include "umka/kabi/console_command.hpp"

namespace umka::console {
namespace {

namespace api = umka::kabi::console_command;

constexpr size_t kLineCapacity = 256;

struct NucleusCommandSet {
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        TextOutput out(static_cast<char*>(output), capacity);
        for (size_t index = 0; index < command_count(); ++index) {
            const Command& command = commands()[index];
            if (command.reach == Reach::Everywhere) {
                out.print("  %-11s %s\n", command.name, command.help);
            }
        }
        *written = out.length();
        return out.state() == OutputState::Truncated ? Status(Errno::NoSpace) : Status::ok();
    }

    // The words joined by single spaces into one line, as the fallback console reads it.
    static Status execute(void*, const void* arguments, uint64_t length, uint32_t count,
                          void* output, uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* words = static_cast<const char*>(arguments);
        if (count == 0 || length == 0 || length > kLineCapacity || words[length - 1] != '\0') {
            return Errno::InvalidArgument;
        }
        char line[kLineCapacity];
        for (uint64_t index = 0; index + 1 < length; ++index) {
            line[index] = words[index] == '\0' ? ' ' : words[index];
        }
        TextOutput out(static_cast<char*>(output), capacity);
        Status status = console::execute(line, length - 1, Reach::Everywhere, out);
        if (status.error() == Errno::NotFound) return Errno::NotFound;
        *written = out.length();
        return out.state() == OutputState::Truncated ? Status(Errno::NoSpace) : status;
    }

    // Last: a module that serves one of these names takes it over (console_command.kabi).
    static uint8_t precedence(void*) { return 255; }
};

constexpr api::CommandSetVtable kCommandSetVtable =
    api::make_command_set_vtable<NucleusCommandSet>();

}  // namespace

Status publish_command_set(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return loader::publish_vtable(
        registry, "console_command", "CommandSet",
        reinterpret_cast<const umka_kabi_vtable_header*>(&kCommandSetVtable),
        kCommandSetVtable.version, diagnostic);
}

}  // namespace umka::console
