// The nucleus's own commands (docs/console.md):
//  the fallback console's (help, mods, poweroff): just enough to see why no console
//  module loaded and to switch the machine off. The shell module (services/shell) serves
//  the full versions through a console module; workloads live in modules/workload.
#include <arch/interrupts.h>

#include "nucleus/console/console.h"
#include "nucleus/console/text_output.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/system.h"

namespace umka::console {
namespace {

void help(const char*, TextOutput& out);

// The fallback's `mods`: which modules loaded and why the others were refused.
void mods(const char*, TextOutput& out) {
    loader::ModuleSystem& system = loader::module_system();
    if (!system.initialized() || system.record_count() == 0) {
        const bundle::Inventory& inventory = system.inventory();
        if (inventory.archive == nullptr) {
            out.print("no modules (no bundle was loaded)\n");
        } else if (!inventory.usable()) {
            out.print("no modules (the bundle was refused: %s; the boot log says why)\n",
                      bundle::inventory_problem_name(inventory.problem));
        } else {
            out.print("no modules (the bundle's manifest lists none)\n");
        }
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

constexpr Command kCommands[] = {
    {"help", "list the commands", help},
    {"mods", "modules: loaded, or refused and why", mods},
    {"poweroff", "power the machine off (ACPI S5)", poweroff},
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
