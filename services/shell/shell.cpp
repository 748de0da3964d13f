// The shell module (kabi-idl/modules/shell.kabi): provides console_command.CommandSet with
// the commands of commands.h, each run against the interfaces its binding holds. Stateless
// code: every call binds what it needs from the binding (its context), so a swap of a
// provider is seen by the next command.
#include "commands.h"
#include "umka/kabi/service_directory.hpp"
#include "umka/kabi/shell_manifest.hpp"
#include "umka/module_entry.h"

namespace commands_api = umka::kabi::console_command;
namespace directory_api = umka::kabi::service_directory;
using umka::kabi::Status;
using umka::shell::Output;

namespace {

// Manifest order of shell.kabi.
enum Required : uint32_t {
    kMachine = 0,
    kModules = 1,
    kScheduling = 2,
    kHistory = 3,
    kEvolution = 4,
    kClock = 5,
    kThreads = 6,
    kMemory = 7,
    kDirectory = 8,
    kCrashes = 9,
    kRequiredCount = 10
};
enum Provided : uint32_t { kCommandSet = 0, kProvidedCount = 1 };
constexpr uint32_t kStateCount = 0;

constexpr char kInterruptPackage[] = "console_command";
constexpr char kInterruptInterface[] = "Interrupt";

const UmkaModuleBinding* binding_of(void* context) {
    return umka::kabi::binding_of(context);
}

// Binds what the binding holds; a missing provider leaves that reference unbound.
umka::shell::Services bind_services(void* context) {
    const UmkaModuleBinding* binding = binding_of(context);
    umka::shell::Services services;
    (void)umka::kabi::bind_required(binding, kMachine, &services.machine);
    (void)umka::kabi::bind_required(binding, kModules, &services.modules);
    (void)umka::kabi::bind_required(binding, kScheduling, &services.scheduling);
    (void)umka::kabi::bind_required(binding, kHistory, &services.history);
    (void)umka::kabi::bind_required(binding, kEvolution, &services.evolution);
    (void)umka::kabi::bind_required(binding, kClock, &services.clock);
    (void)umka::kabi::bind_required(binding, kThreads, &services.threads);
    (void)umka::kabi::bind_required(binding, kMemory, &services.memory);
    (void)umka::kabi::bind_required(binding, kCrashes, &services.crashes);
    directory_api::DirectoryRef directory;
    uint64_t slot = 0;
    if (umka::kabi::bind_required(binding, kDirectory, &directory).is_ok() &&
        directory
            .provider(kInterruptPackage, sizeof(kInterruptPackage) - 1, kInterruptInterface,
                      sizeof(kInterruptInterface) - 1, 0,
                      commands_api::InterruptRef::interface_version, &slot)
            .is_ok()) {
        (void)umka::kabi::bind_service(reinterpret_cast<const UmkaServiceSlot*>(uintptr_t(slot)),
                                       &services.interrupt);
    }
    return services;
}

bool same_word(const char* left, const char* right) {
    while (*left != '\0' && *left == *right) {
        ++left;
        ++right;
    }
    return *left == *right;
}

Status finish(const Output& out, Status status, uint64_t* written) {
    *written = out.length();
    if (status.is_ok() && out.state() == umka::shell::OutputState::Truncated) {
        return UMKA_KABI_ENOSPC;
    }
    return status;
}

struct CommandSet {
    static Status describe(void*, void* output, uint64_t capacity, uint64_t* written) {
        Output out(static_cast<char*>(output), capacity);
        for (uint32_t index = 0; index < umka::shell::command_count(); ++index) {
            const umka::shell::CommandEntry& command = umka::shell::commands()[index];
            out.text("  ").left(command.name, 11).character(' ').text(command.help).character('\n');
        }
        return finish(out, Status::ok(), written);
    }

    static Status execute(void* context, const void* arguments, uint64_t length, uint32_t count,
                          void* output, uint64_t capacity, uint64_t* written) {
        *written = 0;
        const char* bytes = static_cast<const char*>(arguments);
        if (count == 0 || count > umka::shell::kMaximumWords || length == 0 ||
            bytes[length - 1] != '\0') {
            return UMKA_KABI_EINVAL;
        }
        umka::shell::Words words{};
        uint64_t start = 0;
        for (uint64_t index = 0; index < length && words.count < count; ++index) {
            if (bytes[index] != '\0') continue;
            words.word[words.count++] = bytes + start;
            start = index + 1;
        }
        if (words.count != count) return UMKA_KABI_EINVAL;
        for (uint32_t index = 0; index < umka::shell::command_count(); ++index) {
            const umka::shell::CommandEntry& command = umka::shell::commands()[index];
            if (!same_word(command.name, words.word[0])) continue;
            Output out(static_cast<char*>(output), capacity);
            Status status = command.run(bind_services(context), words, out);
            return finish(out, status, written);
        }
        return UMKA_KABI_ENOENT;
    }

    // The shell's commands come first in `help` and win their names (console_command.kabi).
    static uint8_t precedence(void*) { return 0; }
};
static_assert(__is_empty(CommandSet), "module code keeps no state of its own");

constexpr commands_api::CommandSetVtable command_set_vtable =
    commands_api::make_command_set_vtable<CommandSet>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_SHELL();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    return umka_module_provide(binding, kCommandSet, &command_set_vtable, binding);
}
