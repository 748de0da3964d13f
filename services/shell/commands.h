// The shell's commands (README.md): each formats what the nucleus's introspection
// interfaces (kabi-idl/introspection.kabi) report, or acts through them and through
// evolution.EvolutionControl. The functions take the bound interfaces, so the host tests
// run them against fake providers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "output.h"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/containment.hpp"
#include "umka/kabi/evolution.hpp"
#include "umka/kabi/introspection.hpp"
#include "umka/kabi/kernel_services.hpp"

namespace umka::shell {

// CommandSet.execute's words: at most 32 (console_command.kabi), the first the command.
inline constexpr uint32_t kMaximumWords = 32;
struct Words {
    const char* word[kMaximumWords];
    uint32_t count;
};

// What the commands reach. An interface the binding lacks stays unbound (a null vtable);
// the command that needs it says so.
struct Services {
    kabi::introspection::MachineRef machine;
    kabi::introspection::ModulesRef modules;
    kabi::introspection::SchedulingRef scheduling;
    kabi::introspection::EvolutionHistoryRef history;
    kabi::evolution::EvolutionControlRef evolution;
    kabi::kernel_services::ClockRef clock;
    kabi::kernel_services::ThreadsRef threads;
    // Sample memory of `evolve cycle`.
    kabi::kernel_services::ModuleMemoryRef memory;
    // The console's Ctrl-C (unbound when no console provides it: long commands then run on).
    kabi::console_command::InterruptRef interrupt;
    kabi::containment::CrashesRef crashes;
};

// A command's result: Ok, or EINVAL for bad arguments (the output says why), ECANCELED
// when Ctrl-C stopped it (the output ends with "interrupted").
using Command = kabi::Status (*)(const Services& services, const Words& words, Output& out);

struct CommandEntry {
    const char* name;
    const char* help;
    Command run;
};

// The table, in `help` order.
const CommandEntry* commands();
uint32_t command_count();

// Ctrl-C: true if the user interrupted (asks the console; false when it cannot be asked).
bool interrupted(const Services& services);

// False, with a line naming `interface`, when the binding lacks it (`vtable` is null).
bool bound(const void* vtable, const char* command, const char* interface, Output& out);

kabi::Status cpus(const Services&, const Words&, Output&);
kabi::Status mem(const Services&, const Words&, Output&);
kabi::Status irqs(const Services&, const Words&, Output&);
kabi::Status timeline(const Services&, const Words&, Output&);
kabi::Status rendezvous(const Services&, const Words&, Output&);
kabi::Status acpidump(const Services&, const Words&, Output&);
kabi::Status poweroff(const Services&, const Words&, Output&);
kabi::Status wait(const Services&, const Words&, Output&);
kabi::Status mods(const Services&, const Words&, Output&);
kabi::Status services_command(const Services&, const Words&, Output&);
kabi::Status caps(const Services&, const Words&, Output&);
kabi::Status threads(const Services&, const Words&, Output&);
kabi::Status rings(const Services&, const Words&, Output&);
kabi::Status history(const Services&, const Words&, Output&);
kabi::Status evolve(const Services&, const Words&, Output&);
kabi::Status crashes(const Services&, const Words&, Output&);
// For `mods`: ", crashed N, restarted M, <health>, last: <fault>" when `module` has crashed
// since boot (nothing otherwise, or when containment.Crashes is not bound).
void crash_summary(const Services&, const uint8_t* module, size_t module_bytes, Output&);

}  // namespace umka::shell
