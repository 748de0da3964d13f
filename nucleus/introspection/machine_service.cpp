// introspection.Machine: CPUs, physical memory, the boot timeline, ACPI tables, and the
// two machine actions (the rendezvous timing test, power-off).
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/memory.h>

#include "nucleus/acpi/acpi_tables.h"
#include "nucleus/boot/timeline.h"
#include "nucleus/interrupts/device_interrupts.h"
#include "nucleus/introspection/introspection.h"
#include "nucleus/introspection/record_text.h"
#include "nucleus/lib/log.h"
#include "nucleus/mm/physical_memory.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/smp/rendezvous.h"
#include "nucleus/system.h"
#include "nucleus/time/clock.h"

namespace umka::introspection {
namespace {

namespace api = umka::kabi::introspection;

void count_cpu(void* argument) {
    static_cast<std::atomic<uint32_t>*>(argument)->fetch_add(1, std::memory_order_relaxed);
}

// ACPI tables in acpidump's order: the RSDP, the root table, each table the root lists,
// then the DSDT (which no root lists). Unreadable entries keep their place (EIO).
struct AcpiLocation {
    uint64_t physical;
    uint32_t length;
    api::AcpiTableKind kind;
};

Result<AcpiLocation> acpi_location(uint32_t index) {
    const SystemDescription& system = system_description();
    if (system.acpi_rsdp == 0) return Errno::NoDevice;
    PhysicalView view = arch::kernel_physical_view();
    const acpi::Rsdp* rsdp = view.as<acpi::Rsdp>(system.acpi_rsdp);
    if (rsdp == nullptr) return Errno::IoError;
    if (index == 0) {
        uint32_t length = rsdp->revision >= 2 ? uint32_t(sizeof(acpi::Rsdp)) : 20;
        return AcpiLocation{system.acpi_rsdp, length, api::AcpiTableKind::Rsdp};
    }
    bool extended = system.acpi.root_kind == acpi::RootTableKind::Xsdt;
    uint64_t root = extended ? rsdp->xsdt_address : rsdp->rsdt_address;
    uint64_t physical = 0;
    if (index == 1) {
        physical = root;
    } else {
        const acpi::TableHeader* root_header = view.as<acpi::TableHeader>(root);
        size_t entry_size = extended ? 8 : 4;
        size_t entries = root_header == nullptr || root_header->length < sizeof(acpi::TableHeader)
                             ? 0
                             : (root_header->length - sizeof(acpi::TableHeader)) / entry_size;
        size_t entry = index - 2;
        if (entry < entries) {
            const uint8_t* bytes = view.as<uint8_t>(root, root_header->length);
            if (bytes == nullptr) return Errno::IoError;
            __builtin_memcpy(&physical, bytes + sizeof(acpi::TableHeader) + entry * entry_size,
                             entry_size);
        } else if (entry == entries && system.acpi.dsdt_physical != 0) {
            physical = system.acpi.dsdt_physical;
        } else {
            return Errno::NotFound;
        }
    }
    const acpi::TableHeader* header = view.as<acpi::TableHeader>(physical);
    if (header == nullptr || view.as<uint8_t>(physical, header->length) == nullptr) {
        return Errno::IoError;
    }
    return AcpiLocation{physical, header->length, api::AcpiTableKind::Table};
}

struct MachineService {
    static uint32_t cpu_count(void*) { return uint32_t(cpu_table().count()); }
    static uint32_t online_cpu_count(void*) { return uint32_t(cpu_table().online_count()); }

    static Status cpu(void*, uint32_t index, api::CpuRecord* record) {
        if (index >= cpu_table().count()) return Errno::NotFound;
        const Cpu& cpu = cpu_table()[index];
        CpuState state = cpu.state.load(std::memory_order_acquire);
        *record = api::CpuRecord{};
        record->index = cpu.index;
        record->hardware_id = cpu.hardware_id;
        if (state == CpuState::Online && cpu.online_cycles >= timeline::entry_cycles()) {
            record->online_us =
                clock::cycles_to_microseconds(cpu.online_cycles - timeline::entry_cycles());
        }
        copy_text(record->state, cpu_state_name(state));
        return Status::ok();
    }

    static Status memory(void*, api::MemorySummary* summary) {
        FrameAllocatorStatistics statistics = physical_memory().statistics();
        const SystemDescription& system = system_description();
        *summary = api::MemorySummary{};
        summary->total_frames = statistics.total_frames;
        summary->free_frames = statistics.free_frames;
        summary->reserved_frames = system.reserved_frames_at_boot;
        constexpr unsigned kOrders = FrameAllocator::kMaxOrder + 1;
        static_assert(kOrders <= sizeof(summary->free_blocks_by_order) / sizeof(uint64_t));
        for (unsigned order = 0; order < kOrders; ++order) {
            summary->free_blocks_by_order[order] = statistics.free_blocks_by_order[order];
        }
        summary->order_count = kOrders;
        summary->region_count = uint32_t(system.memory_map.count());
        return Status::ok();
    }

    static Status memory_region(void*, uint32_t index, api::MemoryRegion* region) {
        const MemoryMap& map = system_description().memory_map;
        if (index >= map.count()) return Errno::NotFound;
        *region = api::MemoryRegion{};
        region->base = map[index].base;
        region->last = map[index].end() - 1;
        copy_text(region->kind, memory_region_kind_name(map[index].kind));
        return Status::ok();
    }

    static uint32_t timeline_step_count(void*) { return uint32_t(timeline::count()); }

    static Status timeline_step(void*, uint32_t index, api::TimelineStep* step) {
        if (index >= timeline::count()) return Errno::NotFound;
        uint64_t entry = timeline::entry_cycles();
        uint64_t previous = index == 0 ? entry : timeline::step(index - 1).cycles;
        const timeline::Step& current = timeline::step(index);
        *step = api::TimelineStep{};
        step->since_entry_us = clock::cycles_to_microseconds(current.cycles - entry);
        step->step_us = clock::cycles_to_microseconds(current.cycles - previous);
        copy_text(step->name, current.name);
        return Status::ok();
    }

    static Status rendezvous(void*, api::RendezvousTiming* timing) {
        std::atomic<uint32_t> ran{0};
        Result<smp::RendezvousResult> everywhere =
            smp::rendezvous(smp::RendezvousMode::RunEverywhere, count_cpu, &ran);
        if (everywhere.is_error()) return everywhere.error();
        *timing = api::RendezvousTiming{};
        timing->everywhere_ran = ran.load();
        timing->everywhere_participants = everywhere.value().participants;
        timing->everywhere_ns = clock::cycles_to_nanoseconds(everywhere.value().cycles_total);
        ran.store(0);
        Result<smp::RendezvousResult> held =
            smp::rendezvous(smp::RendezvousMode::HoldUntilReleased, count_cpu, &ran);
        if (held.is_error()) return held.error();
        timing->held_participants = held.value().participants;
        timing->held_gather_ns = clock::cycles_to_nanoseconds(held.value().cycles_to_gather);
        timing->held_total_ns = clock::cycles_to_nanoseconds(held.value().cycles_total);
        return Status::ok();
    }

    static Status acpi_table(void*, uint32_t index, api::AcpiTable* table) {
        Result<AcpiLocation> location = acpi_location(index);
        if (location.is_error()) return location.error();
        *table = api::AcpiTable{};
        table->physical = location.value().physical;
        table->length = location.value().length;
        table->kind = location.value().kind;
        const uint8_t* bytes =
            arch::kernel_physical_view().as<uint8_t>(table->physical, sizeof table->signature);
        if (bytes != nullptr) __builtin_memcpy(table->signature, bytes, sizeof table->signature);
        return Status::ok();
    }

    static Status acpi_read(void*, uint32_t index, uint32_t offset, void* output, uint64_t capacity,
                            uint64_t* written) {
        *written = 0;
        Result<AcpiLocation> location = acpi_location(index);
        if (location.is_error()) return location.error();
        uint32_t length = location.value().length;
        if (offset >= length) return Status::ok();
        uint64_t count = length - offset < capacity ? length - offset : capacity;
        const uint8_t* bytes =
            arch::kernel_physical_view().as<uint8_t>(location.value().physical, length);
        if (bytes == nullptr) return Errno::IoError;
        __builtin_memcpy(output, bytes + offset, count);
        *written = count;
        return Status::ok();
    }

    static Status interrupt_binding(void*, uint32_t index, api::InterruptBinding* record) {
        interrupts::BindingView view{};
        if (record == nullptr || !interrupts::binding_view(index, &view)) return Errno::NotFound;
        *record = api::InterruptBinding{};
        for (size_t at = 0; at + 1 < sizeof record->module && view.module[at] != '\0'; ++at) {
            record->module[at] = uint8_t(view.module[at]);
        }
        record->cookie = view.cookie;
        record->delivered = view.delivered;
        record->unhandled = view.unhandled;
        record->vector = view.vector;
        record->masked = view.masked ? 1 : 0;
        record->cpu = view.cpu;
        record->latency_average_ns = view.latency_average_ns;
        record->latency_max_ns = view.latency_max_ns;
        return Status::ok();
    }

    static void interrupt_totals(void*, api::InterruptTotals* totals) {
        if (totals == nullptr) return;
        interrupts::Counters counters = interrupts::counters();
        *totals = api::InterruptTotals{counters.delivered, counters.spurious, counters.storms,
                                       counters.unhandled};
    }

    static api::PowerOffMethod power_off_method(void*) {
        return system_description().acpi.power_off == acpi::PowerOffMethod::Unavailable
                   ? api::PowerOffMethod::Halt
                   : api::PowerOffMethod::AcpiS5;
    }

    static void power_off(void*, const char* notice, uint64_t length) {
        if (notice != nullptr && length > 0) {
            log_write(notice, length > 512 ? 512 : size_t(length));
            if (notice[length - 1] != '\n') log("\n");
        }
        arch::power_off(system_description().acpi);
    }
};

}  // namespace

const api::MachineVtable kMachineVtable = api::make_machine_vtable<MachineService>();

}  // namespace umka::introspection
