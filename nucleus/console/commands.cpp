// The nucleus's own commands. Two kinds (docs/console.md):
//  - the fallback console's (help, mods, poweroff): just enough to see why no console
//    module loaded and to switch the machine off; the shell module (services/shell) serves
//    the full versions of mods and poweroff through a console module;
//  - workload commands not yet moved into a module (load, heap, probe, measure), offered to
//    the console module as a console_command.CommandSet (command_set.cpp) until they are.
#include <arch/interrupts.h>

#include "nucleus/console/console.h"
#include "nucleus/console/text_output.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/sched/load.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/system.h"

namespace umka::console {
namespace {

void help(const char*, TextOutput& out);

// The fallback's `mods`: which modules loaded and why the others were refused.
void mods(const char*, TextOutput& out) {
    loader::ModuleSystem& system = loader::module_system();
    if (!system.initialized() || system.record_count() == 0) {
        out.print("no modules (the bundle's manifest lists none)\n");
        return;
    }
    for (size_t index = 0; index < system.record_count(); ++index) {
        const loader::ModuleRecord& record = system.record(index);
        if (record.state == loader::ModuleState::Loaded) {
            out.print("%-17s loaded\n", record.image.manifest_view.name());
        } else if (record.state == loader::ModuleState::Refused) {
            out.print("%-17s refused: %s\n", record.file, record.reason);
        }
    }
}

void poweroff(const char*, TextOutput& out) {
    const SystemDescription& system = system_description();
    if (system.acpi.power_off == acpi::PowerOffMethod::Unavailable) {
        out.print("poweroff: firmware describes no ACPI S5 state; halting instead\n");
    } else {
        out.print("poweroff: entering ACPI S5\n");
    }
    out.show_now();
    arch::power_off(system.acpi);
}

// "NAME" or "NAME ROUNDS" with ROUNDS <= 10^7; *rounds is 0 when absent. False if malformed.
bool parse_rounds(const char* arguments, const char* name, uint64_t* rounds) {
    size_t length = __builtin_strlen(name);
    if (__builtin_memcmp(arguments, name, length) != 0 ||
        (arguments[length] != '\0' && arguments[length] != ' ')) {
        return false;
    }
    *rounds = 0;
    const char* cursor = arguments[length] == ' ' ? arguments + length + 1 : arguments + length;
    while (*cursor >= '0' && *cursor <= '9') *rounds = *rounds * 10 + uint64_t(*cursor++ - '0');
    return *cursor == '\0' && *rounds <= 10000000;
}

void measure(const char* arguments, TextOutput& out) {
    uint64_t rounds = 0;
    if (__builtin_strcmp(arguments, "caps") == 0) {
        loader::measure_capability_lookup(out);
    } else if (parse_rounds(arguments, "switch", &rounds)) {
        sched::measure_switch(rounds == 0 ? 20000 : rounds, out);
    } else if (parse_rounds(arguments, "ring", &rounds)) {
        loader::measure_ring(rounds == 0 ? 20000 : rounds, out);
    } else {
        out.print("usage: measure caps | measure switch [ROUNDS] | measure ring [ROUNDS]\n");
    }
}

constexpr Command kCommands[] = {
    {"help", "list the commands", help, Reach::Fallback},
    {"mods", "modules: loaded, or refused and why", mods, Reach::Fallback},
    {"poweroff", "power the machine off (ACPI S5)", poweroff, Reach::Fallback},
    {"load",
     "load start cpu|alloc|sleep|ring N | load stats | load stop: threads that prove progress",
     sched::load_command, Reach::Everywhere},
    {"heap", "heap: per size class usage of the heap module; heap exercise N: N checked pairs",
     loader::heap_command, Reach::Everywhere},
    {"probe",
     "probe threads N: N threads of the thread_probe module (spawn, hand-off, join, bad calls)",
     loader::probe_command, Reach::Everywhere},
    {"measure",
     "measure caps | switch | ring: cycles per capability lookup / context switch / ring round "
     "trip, beside a baseline",
     measure, Reach::Everywhere},
};

void help(const char*, TextOutput& out) {
    for (const Command& command : kCommands) out.print("  %-11s %s\n", command.name, command.help);
}

}  // namespace

const Command* commands() {
    return kCommands;
}
size_t command_count() {
    return sizeof(kCommands) / sizeof(kCommands[0]);
}

}  // namespace umka::console
