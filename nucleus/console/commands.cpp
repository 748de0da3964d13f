// Console commands of the boot console.
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/memory.h>

#include "nucleus/boot/timeline.h"
#include "nucleus/console/console.h"
#include "nucleus/console/text_output.h"
#include "nucleus/evolution/evolution_commands.h"
#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/mm/physical_memory.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/smp/rendezvous.h"
#include "nucleus/system.h"
#include "nucleus/time/clock.h"

namespace umka::console {
namespace {

void help(const char*, TextOutput& out);

void cpus(const char*, TextOutput& out) {
    out.print("cpu  hw-id  state     online-at-us\n");
    for (Cpu& cpu : cpu_table()) {
        CpuState state = cpu.state.load(std::memory_order_acquire);
        uint64_t online_us =
            state == CpuState::Online && cpu.online_cycles >= timeline::entry_cycles()
                ? clock::cycles_to_microseconds(cpu.online_cycles - timeline::entry_cycles())
                : 0;
        out.print("%3u  %5u  %-8s  %lu\n", cpu.index, cpu.hardware_id, cpu_state_name(state), online_us);
    }
    out.print("%u of %u CPUs online\n", cpu_table().online_count(), cpu_table().count());
}

void mem(const char*, TextOutput& out) {
    FrameAllocatorStatistics statistics = physical_memory().statistics();
    const SystemDescription& system = system_description();
    out.print("frames: total %lu, free %lu, used %lu, reserved %lu (4 KiB each)\n",
        statistics.total_frames, statistics.free_frames,
        statistics.total_frames - statistics.free_frames, system.reserved_frames_at_boot);
    out.print("free blocks by order:");
    for (unsigned order = 0; order <= FrameAllocator::kMaxOrder; ++order) {
        out.print(" %u:%lu", order, statistics.free_blocks_by_order[order]);
    }
    out.print("\nmemory map:\n");
    for (const MemoryRegion& region : system.memory_map) {
        out.print("  %016lx-%016lx %s\n", region.base, region.end() - 1,
            memory_region_kind_name(region.kind));
    }
}

void timeline_command(const char*, TextOutput& out) {
    uint64_t entry = timeline::entry_cycles();
    uint64_t previous = entry;
    out.print("      since entry      step time  step\n");
    for (size_t index = 0; index < timeline::count(); ++index) {
        const timeline::Step& step = timeline::step(index);
        out.print("  %10lu us  %10lu us  %s\n", clock::cycles_to_microseconds(step.cycles - entry),
            clock::cycles_to_microseconds(step.cycles - previous), step.name);
        previous = step.cycles;
    }
}

void count_cpu(void* argument) {
    static_cast<std::atomic<uint32_t>*>(argument)->fetch_add(1, std::memory_order_relaxed);
}

void rendezvous_command(const char*, TextOutput& out) {
    std::atomic<uint32_t> ran{0};
    Result<smp::RendezvousResult> everywhere =
        smp::rendezvous(smp::RendezvousMode::RunEverywhere, count_cpu, &ran);
    if (everywhere.is_error()) {
        out.print("rendezvous: %s\n", errno_name(everywhere.error()));
        return;
    }
    out.print("rendezvous run-everywhere: function ran on %u of %u CPUs, %lu ns\n", ran.load(),
        everywhere.value().participants,
        clock::cycles_to_nanoseconds(everywhere.value().cycles_total));
    ran.store(0);
    Result<smp::RendezvousResult> held =
        smp::rendezvous(smp::RendezvousMode::HoldUntilReleased, count_cpu, &ran);
    if (held.is_error()) {
        out.print("rendezvous: %s\n", errno_name(held.error()));
        return;
    }
    out.print("rendezvous stop-the-world: %u CPUs held, gathered in %lu ns, released after %lu ns\n",
        held.value().participants, clock::cycles_to_nanoseconds(held.value().cycles_to_gather),
        clock::cycles_to_nanoseconds(held.value().cycles_total));
}

// Prints bytes as hex, 32 to a line, in the form test/data/acpi/ captures are made from.
void print_hex(const uint8_t* bytes, size_t length, TextOutput& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (size_t offset = 0; offset < length; offset += 32) {
        char line[65];
        size_t used = 0;
        for (size_t index = offset; index < length && index < offset + 32; ++index) {
            line[used++] = kHex[bytes[index] >> 4];
            line[used++] = kHex[bytes[index] & 15];
        }
        line[used] = '\0';
        out.print("  %s\n", line);
    }
}

void dump_table(uint64_t physical, TextOutput& out) {
    PhysicalView view = arch::kernel_physical_view();
    const acpi::TableHeader* header = view.as<acpi::TableHeader>(physical);
    if (header == nullptr) return;
    const uint8_t* bytes = view.as<uint8_t>(physical, header->length);
    if (bytes == nullptr) return;
    char signature[5] = {header->signature[0], header->signature[1], header->signature[2],
                         header->signature[3], '\0'};
    out.print("table %s at 0x%lx length %u\n", signature, physical, header->length);
    print_hex(bytes, header->length, out);
}

void acpidump(const char*, TextOutput& out) {
    const SystemDescription& system = system_description();
    if (system.acpi_rsdp == 0) {
        out.print("acpidump: firmware gave no RSDP\n");
        return;
    }
    PhysicalView view = arch::kernel_physical_view();
    const acpi::Rsdp* rsdp = view.as<acpi::Rsdp>(system.acpi_rsdp);
    if (rsdp == nullptr) {
        out.print("acpidump: RSDP unreadable\n");
        return;
    }
    size_t rsdp_length = rsdp->revision >= 2 ? sizeof(acpi::Rsdp) : 20;
    out.print("rsdp at 0x%lx length %zu\n", system.acpi_rsdp, rsdp_length);
    print_hex(view.as<uint8_t>(system.acpi_rsdp, rsdp_length), rsdp_length, out);
    uint64_t root = system.acpi.root_kind == acpi::RootTableKind::Xsdt ? rsdp->xsdt_address
                                                                       : rsdp->rsdt_address;
    dump_table(root, out);
    const acpi::TableHeader* root_header = view.as<acpi::TableHeader>(root);
    if (root_header == nullptr) return;
    size_t entry_size = system.acpi.root_kind == acpi::RootTableKind::Xsdt ? 8 : 4;
    const uint8_t* entries =
        view.as<uint8_t>(root, root_header->length) + sizeof(acpi::TableHeader);
    for (size_t offset = 0; offset + entry_size <= root_header->length - sizeof(acpi::TableHeader);
         offset += entry_size) {
        uint64_t table = 0;
        __builtin_memcpy(&table, entries + offset, entry_size);
        dump_table(table, out);
    }
    if (system.acpi.dsdt_physical != 0) dump_table(system.acpi.dsdt_physical, out);
    out.print("acpidump: end\n");
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

void mods(const char*, TextOutput& out) { loader::print_modules(out); }
void services(const char*, TextOutput& out) { loader::print_services(out); }
void threads(const char*, TextOutput& out) { sched::print_threads(out); }

// For scripts: lets other threads run for a while (the console keeps yielding).
void wait_command(const char* arguments, TextOutput& out) {
    uint64_t milliseconds = 0;
    const char* cursor = arguments;
    while (*cursor >= '0' && *cursor <= '9') milliseconds = milliseconds * 10 + uint64_t(*cursor++ - '0');
    if (cursor == arguments || *cursor != '\0' || milliseconds > 600000) {
        out.print("usage: wait MS   (0..600000)\n");
        return;
    }
    uint64_t start = arch::read_cycle_counter();
    uint64_t cycles = clock::microseconds_to_cycles(milliseconds * 1000);
    while (arch::read_cycle_counter() - start < cycles) {
        if (sched::running()) {
            sched::yield();
        } else {
            arch::cpu_relax();
        }
    }
    out.print("waited %lu ms\n", milliseconds);
}

void caps(const char* arguments, TextOutput& out) { loader::print_capabilities(arguments, out); }
void rings(const char*, TextOutput& out) { loader::print_ring_bindings(out); }

constexpr Command kCommands[] = {
    {"help", "list the commands", help},
    {"cpus", "one line per CPU: index, hardware id, state", cpus},
    {"mem", "physical frames: total, free, reserved; the memory map", mem},
    {"timeline", "every boot step, microseconds since nucleus entry", timeline_command},
    {"rendezvous", "run a function on every CPU, then stop all CPUs briefly; print timings",
     rendezvous_command},
    {"mods", "modules: version, tier, transport, text size, load time, signature", mods},
    {"services", "service bindings: consumer -> provider, interface, version, transport", services},
    {"caps", "caps <module>: the capabilities a module holds", caps},
    {"wait", "wait MS: let other threads run for MS milliseconds", wait_command},
    {"threads", "threads: id, name, CPU, state, switches, nice, virtual runtime, lag", threads},
    {"rings", "ring bindings: consumer -> provider.interface, entries, counters, provider thread", rings},
    {"evolve", "evolve [--dry-run] <service> <file> | cycle <service> <A> <B> <n>: live module swap", evolution::evolve_command},
    {"history", "the evolution log, its SHA-256 hash chain checked", evolution::history_command},
    {"acpidump", "print the ACPI tables in hex", acpidump},
    {"poweroff", "power the machine off (ACPI S5)", poweroff},
};

void help(const char*, TextOutput& out) {
    out.print("  %-11s %s\n", "help", "list the commands");
    describe(out);
}

}  // namespace

const Command* commands() { return kCommands; }
size_t command_count() { return sizeof(kCommands) / sizeof(kCommands[0]); }

void describe(TextOutput& out) {
    // `help` itself belongs to whichever console is asking (this one or a console module).
    for (const Command& command : kCommands) {
        if (command.run != help) out.print("  %-11s %s\n", command.name, command.help);
    }
}

}  // namespace umka::console
