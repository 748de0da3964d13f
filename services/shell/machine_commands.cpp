// cpus, mem, timeline, rendezvous, acpidump, poweroff, wait.
#include "commands.h"
#include "umka/number_text.h"

namespace umka::shell {
namespace {

namespace api = kabi::introspection;
using kabi::Status;

constexpr uint64_t kMaximumWaitMilliseconds = 600000;
// How often a wait asks for Ctrl-C (console_command.Interrupt asks for at most 50 ms).
constexpr uint64_t kPollNanoseconds = 50 * 1000 * 1000;

void errno_line(const char* command, Status status, Output& out) {
    out.text(command).text(": failed (errno ").number(uint64_t(status.code())).text(")\n");
}

// 32 bytes as hex per line, in the form test/data/acpi/ captures are made from.
Status dump_bytes(const api::MachineRef& machine, uint32_t index, uint32_t length, Output& out) {
    for (uint32_t offset = 0; offset < length; offset += 32) {
        uint8_t bytes[32];
        uint64_t written = 0;
        if (Status status = machine.acpi_read(index, offset, bytes, sizeof bytes, &written);
            status.is_error()) {
            return status;
        }
        out.text("  ").hex_bytes(bytes, written).character('\n');
        if (out.state() == OutputState::Truncated) return Status::ok();
    }
    return Status::ok();
}

}  // namespace

bool interrupted(const Services& services) {
    if (services.interrupt.vtable() == nullptr) return false;
    uint8_t flag = 0;
    return services.interrupt.poll(&flag).is_ok() && flag != 0;
}

Status cpus(const Services& services, const Words&, Output& out) {
    if (!bound(services.machine.vtable(), "cpus", "introspection.Machine", out))
        return Status::ok();
    out.text("cpu  hw-id  state     online-at-us\n");
    uint32_t count = services.machine.cpu_count();
    for (uint32_t index = 0; index < count; ++index) {
        api::CpuRecord cpu{};
        if (services.machine.cpu(index, &cpu).is_error()) continue;
        out.right(cpu.index, 3).text("  ").right(cpu.hardware_id, 5).text("  ");
        out.left_field(cpu.state, 8).text("  ").number(cpu.online_us).character('\n');
    }
    out.number(services.machine.online_cpu_count())
        .text(" of ")
        .number(count)
        .text(" CPUs online\n");
    return Status::ok();
}

Status mem(const Services& services, const Words&, Output& out) {
    if (!bound(services.machine.vtable(), "mem", "introspection.Machine", out)) return Status::ok();
    api::MemorySummary summary{};
    if (Status status = services.machine.memory(&summary); status.is_error()) {
        errno_line("mem", status, out);
        return Status::ok();
    }
    out.text("frames: total ")
        .number(summary.total_frames)
        .text(", free ")
        .number(summary.free_frames);
    out.text(", used ").number(summary.total_frames - summary.free_frames);
    out.text(", reserved ").number(summary.reserved_frames).text(" (4 KiB each)\n");
    out.text("free blocks by order:");
    uint32_t orders = summary.order_count;
    uint32_t limit = sizeof summary.free_blocks_by_order / sizeof summary.free_blocks_by_order[0];
    for (uint32_t order = 0; order < orders && order < limit; ++order) {
        out.character(' ').number(order).character(':').number(summary.free_blocks_by_order[order]);
    }
    out.text("\nmemory map:\n");
    for (uint32_t index = 0; index < summary.region_count; ++index) {
        api::MemoryRegion region{};
        if (services.machine.memory_region(index, &region).is_error()) continue;
        out.text("  ").hex(region.base, 16).character('-').hex(region.last, 16).character(' ');
        out.field(region.kind).character('\n');
    }
    return Status::ok();
}

Status timeline(const Services& services, const Words&, Output& out) {
    if (!bound(services.machine.vtable(), "timeline", "introspection.Machine", out)) {
        return Status::ok();
    }
    out.text("      since entry      step time  step\n");
    uint32_t count = services.machine.timeline_step_count();
    for (uint32_t index = 0; index < count; ++index) {
        api::TimelineStep step{};
        if (services.machine.timeline_step(index, &step).is_error()) continue;
        out.text("  ").right(step.since_entry_us, 10).text(" us  ").right(step.step_us, 10);
        out.text(" us  ").field(step.name).character('\n');
    }
    return Status::ok();
}

Status rendezvous(const Services& services, const Words&, Output& out) {
    if (!bound(services.machine.vtable(), "rendezvous", "introspection.Machine", out)) {
        return Status::ok();
    }
    api::RendezvousTiming timing{};
    if (Status status = services.machine.rendezvous(&timing); status.is_error()) {
        errno_line("rendezvous", status, out);
        return Status::ok();
    }
    out.text("rendezvous run-everywhere: function ran on ").number(timing.everywhere_ran);
    out.text(" of ").number(timing.everywhere_participants).text(" CPUs, ");
    out.number(timing.everywhere_ns).text(" ns\n");
    out.text("rendezvous stop-the-world: ").number(timing.held_participants);
    out.text(" CPUs held, gathered in ").number(timing.held_gather_ns);
    out.text(" ns, released after ").number(timing.held_total_ns).text(" ns\n");
    return Status::ok();
}

Status acpidump(const Services& services, const Words&, Output& out) {
    if (!bound(services.machine.vtable(), "acpidump", "introspection.Machine", out)) {
        return Status::ok();
    }
    for (uint32_t index = 0;; ++index) {
        api::AcpiTable table{};
        Status status = services.machine.acpi_table(index, &table);
        if (status.code() == UMKA_KABI_ENODEV) {
            out.text("acpidump: firmware gave no RSDP\n");
            return Status::ok();
        }
        if (status.code() == UMKA_KABI_EIO && index == 0) {
            out.text("acpidump: RSDP unreadable\n");
            return Status::ok();
        }
        if (status.code() == UMKA_KABI_ENOENT) break;
        if (status.is_error()) continue;  // an unreadable table: the next may be readable
        if (table.kind == api::AcpiTableKind::Rsdp) {
            out.text("rsdp at 0x").hex(table.physical, 0).text(" length ").number(table.length);
        } else {
            out.text("table ").text(reinterpret_cast<const char*>(table.signature), 4);
            out.text(" at 0x").hex(table.physical, 0).text(" length ").number(table.length);
        }
        out.character('\n');
        if (Status dumped = dump_bytes(services.machine, index, table.length, out);
            dumped.is_error()) {
            errno_line("acpidump", dumped, out);
            return Status::ok();
        }
        if (out.state() == OutputState::Truncated) return Status::ok();
    }
    out.text("acpidump: end\n");
    return Status::ok();
}

Status poweroff(const Services& services, const Words&, Output& out) {
    if (!bound(services.machine.vtable(), "poweroff", "introspection.Machine", out)) {
        return Status::ok();
    }
    // Nothing returns to the console: the nucleus shows the notice before it powers off.
    static constexpr char kS5[] = "poweroff: entering ACPI S5\n";
    static constexpr char kHalt[] =
        "poweroff: firmware describes no ACPI S5 state; halting instead\n";
    if (services.machine.power_off_method() == api::PowerOffMethod::AcpiS5) {
        services.machine.power_off(kS5, sizeof kS5 - 1);
    } else {
        services.machine.power_off(kHalt, sizeof kHalt - 1);
    }
    out.text("poweroff: the machine did not power off\n");
    return Status::ok();
}

// For scripts: lets other threads run for a while.
Status wait(const Services& services, const Words& words, Output& out) {
    ParsedNumber parsed = words.count == 2 ? parse_unsigned(words.word[1], kMaximumWaitMilliseconds)
                                           : ParsedNumber{0, NumberError::Empty};
    if (parsed.error != NumberError::None) {
        out.text("usage: wait MS   (0..600000)\n");
        return UMKA_KABI_EINVAL;
    }
    if (!bound(services.clock.vtable(), "wait", "kernel_services.Clock", out)) return Status::ok();
    uint64_t milliseconds = parsed.value;
    uint64_t start = services.clock.now_ns();
    uint64_t duration = milliseconds * 1000 * 1000;
    for (;;) {
        uint64_t elapsed = services.clock.now_ns() - start;
        if (elapsed >= duration) break;
        if (interrupted(services)) {
            out.text("interrupted\n");
            return UMKA_KABI_ECANCELED;
        }
        uint64_t nap =
            duration - elapsed < kPollNanoseconds ? duration - elapsed : kPollNanoseconds;
        // Before the scheduler runs there is no sleeping: yield (a no-op) and poll the clock.
        if (services.threads.vtable() == nullptr || services.threads.sleep_ns(nap).is_error()) {
            if (services.threads.vtable() != nullptr) services.threads.yield_now();
        }
    }
    out.text("waited ").number(milliseconds).text(" ms\n");
    return Status::ok();
}

}  // namespace umka::shell
