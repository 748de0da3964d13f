#include "commands.h"

namespace umka::shell {
namespace {

constexpr CommandEntry kCommands[] = {
    {"cpus", "one line per CPU: index, hardware id, state", cpus},
    {"mem", "physical frames: total, free, reserved; the memory map", mem},
    {"timeline", "every boot step, microseconds since nucleus entry", timeline},
    {"rendezvous", "run a function on every CPU, then stop all CPUs briefly; print timings",
     rendezvous},
    {"mods", "modules: version, tier, transport, sizes, load time, signature, crashes", mods},
    {"services", "service bindings: consumer -> provider, interface, version, transport",
     services_command},
    {"caps", "caps <module>: the capabilities a module holds", caps},
    {"wait", "wait MS: let other threads run for MS milliseconds (at most 600000)", wait},
    {"threads", "threads: id, name, CPU, state, switches, nice, virtual runtime, lag", threads},
    {"irqs", "device interrupts: vector, CPU, module, cookie, delivered, masked; totals", irqs},
    {"rings", "ring bindings: consumer -> provider.interface, entries, counters, provider thread",
     rings},
    {"evolve",
     "evolve [--dry-run] [--allow-downgrade] <service> <file> | [--allow-downgrade] cycle "
     "<service> <A> <B> <n>: live module swap",
     evolve},
    {"history", "the evolution log, its SHA-256 hash chain checked", history},
    {"crashes", "contained module faults: each module's health, then every report kept", crashes},
    {"acpidump", "print the ACPI tables in hex", acpidump},
    {"poweroff", "power the machine off (ACPI S5)", poweroff},
};

}  // namespace

bool bound(const void* vtable, const char* command, const char* interface, Output& out) {
    if (vtable != nullptr) return true;
    out.text(command).text(": ").text(interface).text(" is not bound\n");
    return false;
}

const CommandEntry* commands() {
    return kCommands;
}
uint32_t command_count() {
    return sizeof(kCommands) / sizeof(kCommands[0]);
}

}  // namespace umka::shell
