// Nucleus bring-up: from BootInfo to the console prompt. Each step is timestamped.
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/memory.h>
#include <arch/traps.h>

#include "nucleus/boot/timeline.h"
#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/console/console.h"
#include "nucleus/lib/lock_checks.h"
#include "nucleus/lib/log.h"
#include "nucleus/loader/boot_modules.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/mm/physical_memory.h"
#include "nucleus/panic.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/smp/rendezvous.h"
#include "nucleus/smp/secondary.h"
#include "nucleus/system.h"
#include "nucleus/time/clock.h"

namespace umka {
namespace {

constinit SystemDescription description;
constexpr uint32_t kTimerTicksPerSecond = 1000;

void print_timeline_so_far() {
    uint64_t entry = timeline::entry_cycles();
    for (size_t index = 0; index < timeline::count(); ++index) {
        const timeline::Step& step = timeline::step(index);
        log("  %8lu us  %s\n", clock::cycles_to_microseconds(step.cycles - entry), step.name);
    }
}

void set_up_memory_map(const BootInfo& boot_info) {
    MemoryRegion entries[kBootMemoryRegionCapacity + 2];
    size_t count = 0;
    for (uint32_t index = 0; index < boot_info.region_count; ++index) {
        entries[count++] = boot_info.regions[index];
    }
    arch::NucleusImage image = arch::nucleus_image();
    entries[count++] = MemoryRegion{image.physical_start, image.physical_end - image.physical_start,
                                    MemoryRegionKind::Nucleus};
    if (boot_info.bundle_size != 0) {
        entries[count++] = MemoryRegion{boot_info.bundle_physical, boot_info.bundle_size,
                                        MemoryRegionKind::Bundle};
    }
    if (boot_info.regions_dropped != 0) {
        log("memory map: firmware listed %u more entries than fit; they were ignored\n",
            boot_info.regions_dropped);
    }
    MemoryMapReport report = description.memory_map.build(entries, count);
    if (report.overlaps != 0) {
        log("memory map: %u overlapping entries; first at 0x%lx, %s kept over %s\n",
            report.overlaps, report.first_overlap_base,
            memory_region_kind_name(report.first_overlap_winner),
            memory_region_kind_name(report.first_overlap_loser));
    }
    if (report.empty_entries != 0) {
        log("memory map: %u empty or wrapping entries ignored\n", report.empty_entries);
    }
    if (report.truncated) log("memory map: too many regions; the highest were ignored\n");
    log("memory map: %zu regions, %u holes, %lu KiB usable\n", description.memory_map.count(),
        report.holes, description.memory_map.total_bytes(MemoryRegionKind::Usable) / 1024);
    timeline::mark("memory map");
}

void set_up_physical_memory() {
    Result<PhysicalMemorySetup> setup =
        physical_memory().initialize(description.memory_map, arch::physical_to_virtual);
    if (setup.is_error()) {
        panic("frame allocator: no usable memory for its metadata (%s)", errno_name(setup.error()));
    }
    FrameAllocatorStatistics statistics = physical_memory().statistics();
    uint64_t ram_frames = 0;
    for (const MemoryRegion& region : description.memory_map) {
        if (region.kind != MemoryRegionKind::Reserved && region.kind != MemoryRegionKind::Bad) {
            ram_frames += region.length / kFrameSize;
        }
    }
    description.reserved_frames_at_boot =
        ram_frames > statistics.total_frames ? ram_frames - statistics.total_frames : 0;
    log("frames: %lu free of %lu managed, metadata %lu KiB at 0x%lx\n", statistics.free_frames,
        setup.value().managed_frames, setup.value().metadata_bytes / 1024,
        setup.value().metadata_physical);
    timeline::mark("frame allocator");
}

void set_up_address_space() {
    Status status = arch::build_kernel_address_space(physical_memory(), description.memory_map);
    if (status.is_error()) panic("page tables: %s", errno_name(status.error()));
    arch::AddressSpaceAudit audit = arch::audit_kernel_address_space();
    if (audit.write_execute_violations != 0) {
        panic("page tables: %lu writable and executable mappings", audit.write_execute_violations);
    }
    log("page tables: %lu mappings (%lu of 2 MiB) in %lu tables, W^X holds\n", audit.leaf_entries,
        audit.large_leaf_entries, audit.table_frames);
    timeline::mark("page tables");
}

void set_up_acpi() {
    const char* warning = nullptr;
    Status status = acpi::parse(arch::kernel_physical_view(), description.acpi_rsdp,
                                description.acpi, &warning);
    if (warning != nullptr) log("%s\n", warning);
    if (status.is_ok()) {
        log("acpi: %s with %u tables; %u CPUs (%u enabled), %u I/O interrupt controllers\n",
            description.acpi.root_kind == acpi::RootTableKind::Xsdt ? "XSDT" : "RSDT",
            description.acpi.table_count, description.acpi.processor_count,
            description.acpi.enabled_processor_count, description.acpi.io_controller_count);
        const char* ecam_warning = nullptr;
        (void)acpi::read_mcfg(arch::kernel_physical_view(), description.acpi, description.ecam,
                              &ecam_warning);
        if (ecam_warning != nullptr) log("%s\n", ecam_warning);
        for (uint32_t index = 0; index < description.ecam.count; ++index) {
            const acpi::EcamRegion& region = description.ecam.regions[index];
            log("acpi: PCI segment %u buses %u-%u: configuration space at 0x%lx\n",
                region.segment, region.first_bus, region.last_bus, region.base);
        }
    }
    timeline::mark("acpi");
}

void add_processor(void* context, const acpi::Processor& processor) {
    uint32_t boot_hardware_id = *static_cast<uint32_t*>(context);
    if (processor.hardware_id == boot_hardware_id) return;  // already entry 0
    CpuState state =
        processor.state == acpi::ProcessorState::Disabled ? CpuState::Absent : CpuState::Offline;
    if (cpu_table().add(processor.hardware_id, state) == nullptr) {
        log("smp: more processor entries than the MADT counted; cpu %u ignored\n",
            processor.hardware_id);
    }
}

void set_up_cpu_table() {
    uint32_t capacity = description.acpi.processor_count ? description.acpi.processor_count : 1;
    uint64_t bytes = uint64_t(capacity) * sizeof(Cpu);
    unsigned order = 0;
    while ((kFrameSize << order) < bytes) ++order;
    Result<uint64_t> frames = physical_memory().allocate(order);
    if (frames.is_error()) panic("smp: no memory for %u CPU records", capacity);
    Cpu* storage = static_cast<Cpu*>(arch::physical_to_virtual(frames.value()));
    __builtin_memset(static_cast<void*>(storage), 0, kFrameSize << order);
    (void)cpu_table().initialize(storage, capacity);

    uint32_t boot_hardware_id = arch::current_hardware_cpu_id();
    Cpu* boot = cpu_table().add(boot_hardware_id, CpuState::Online);
    boot->online_cycles = timeline::entry_cycles();
    acpi::for_each_processor(arch::kernel_physical_view(), description.acpi, add_processor,
                             &boot_hardware_id);
}

void set_up_clocks() {
    Result<arch::ClockCalibration> clocks = arch::calibrate_clocks(description.acpi);
    if (clocks.is_error()) panic("timer: calibration failed (%s)", errno_name(clocks.error()));
    description.clocks = clocks.value();
    clock::set_cycle_frequency(description.clocks.cycle_counter_hz);
    arch::start_periodic_timer(description.clocks, kTimerTicksPerSecond);
    log("timer: cycle counter %lu kHz, local timer %lu kHz, against %s\n",
        description.clocks.cycle_counter_hz / 1000, description.clocks.timer_hz / 1000,
        arch::reference_clock_name(description.clocks.reference));
    timeline::mark("timer calibration");
}

void report_bundle(const bundle::Inventory& inventory) {
    const char* manifest = bundle::kManifestName;
    switch (inventory.problem) {
    case bundle::InventoryProblem::None:
        log("bundle: %lu bytes, %u entries, %u modules requested\n", description.bundle_size,
            inventory.entry_count, inventory.request_count);
        break;
    case bundle::InventoryProblem::Archive:
        log("bundle: corrupt at byte %zu: %s; continuing without modules\n",
            inventory.archive_error.offset, inventory.archive_error.reason);
        break;
    case bundle::InventoryProblem::TooManyEntries:
        log("bundle: more than %zu entries; continuing without modules\n",
            bundle::kMaximumBundleEntries);
        break;
    case bundle::InventoryProblem::DuplicateEntry:
        log("bundle: two entries are named '%.*s' (which one is meant is unknown); continuing "
            "without modules\n",
            int(inventory.duplicate_name.length), inventory.duplicate_name.text);
        break;
    case bundle::InventoryProblem::ManifestMissing:
        log("bundle: no %s; no modules to load\n", manifest);
        break;
    case bundle::InventoryProblem::TooManyRequests:
        log("bundle: %s has more than %zu module lines; continuing without modules\n", manifest,
            bundle::kMaximumModuleRequests);
        break;
    }
    // A bad line refuses only what it names (module lines show as refused modules too).
    uint32_t kept = inventory.manifest_error_count < bundle::kMaximumReportedManifestErrors
                        ? inventory.manifest_error_count
                        : uint32_t(bundle::kMaximumReportedManifestErrors);
    for (uint32_t index = 0; index < kept; ++index) {
        const bundle::ManifestError& error = inventory.manifest_errors[index];
        log("bundle: %s:%u:%u: %s; this line is skipped\n", manifest, error.line, error.column,
            error.reason);
    }
    if (inventory.manifest_error_count > kept) {
        log("bundle: %s has %u more malformed lines\n", manifest,
            inventory.manifest_error_count - kept);
    }
    for (uint32_t index = 0; index < inventory.request_count; ++index) {
        const bundle::InventoryRequest& request = inventory.requests[index];
        if (request.problem != bundle::RequestProblem::FileMissing) continue;
        log("bundle: %s names '%.*s', which the bundle does not hold; it is skipped\n", manifest,
            int(request.request.file.length), request.request.file.text);
    }
}

// Returns the bundle's bytes (nullptr when there is none or it cannot be mapped).
const uint8_t* open_bundle() {
    const uint8_t* bytes = nullptr;
    if (description.bundle_size == 0) {
        log("bundle: none loaded\n");
    } else {
        Result<void*> mapped =
            arch::map_physical(description.bundle_physical, description.bundle_size,
                               arch::DeviceAccess::ReadOnlyCached);
        if (mapped.is_error()) {
            log("bundle: cannot map %lu bytes at 0x%lx (%s)\n", description.bundle_size,
                description.bundle_physical, errno_name(mapped.error()));
        } else {
            bytes = static_cast<const uint8_t*>(mapped.value());
            const bundle::Inventory& inventory = loader::read_bundle(bytes, description.bundle_size);
            description.bundle_entries = inventory.entry_count;
            report_bundle(inventory);
        }
    }
    timeline::mark("bundle");
    return bytes;
}

void noop_on_cpu(void*) {}

}  // namespace

const SystemDescription& system_description() {
    return description;
}

void nucleus_main(const BootInfo& boot_info) {
    description.boot_protocol = boot_info.boot_protocol;
    description.acpi_rsdp = boot_info.acpi_rsdp_physical;
    description.bundle_physical = boot_info.bundle_physical;
    description.bundle_size = boot_info.bundle_size;
    __builtin_memcpy(description.command_line, boot_info.command_line, kBootCommandLineCapacity);
    log("UmkaOS nucleus: booted by %s, command line '%s'\n", boot_info.boot_protocol,
        boot_info.command_line);
    if constexpr (lock_checks::kEnabled) {
        log("locks: order and owners checked on every acquisition (%u levels)\n",
            unsigned(LockLevel::Count) - 1);
    }

    set_up_memory_map(boot_info);
    set_up_physical_memory();
    set_up_address_space();
    Status status = arch::load_cpu_descriptors(arch::bootstrap_cpu());
    if (status.is_error()) panic("traps: %s", errno_name(status.error()));
    timeline::mark("descriptors and traps");

    set_up_acpi();
    status = arch::initialize_interrupt_controller(description.acpi);
    if (status.is_error()) panic("interrupt controller: %s", errno_name(status.error()));
    set_up_cpu_table();
    status = arch::adopt_boot_cpu(cpu_table()[0]);
    if (status.is_error()) panic("traps: %s", errno_name(status.error()));
    timeline::mark("interrupt controller");

    set_up_clocks();
    arch::enable_interrupts();

    SecondaryStartReport smp = start_secondary_cpus();
    log("smp: %u of %u CPUs online%s\n", cpu_table().online_count(), cpu_table().count(),
        smp.failed ? " (some failed to start)" : "");
    timeline::mark("secondary cpus");

    Result<smp::RendezvousResult> check =
        smp::rendezvous(smp::RendezvousMode::RunEverywhere, noop_on_cpu, nullptr);
    if (check.is_error()) {
        log("rendezvous: not every CPU answered (%s)\n", errno_name(check.error()));
    } else {
        log("rendezvous: %u CPUs answered in %lu ns\n", check.value().participants,
            clock::cycles_to_nanoseconds(check.value().cycles_total));
    }
    timeline::mark("rendezvous");

    const uint8_t* bundle = open_bundle();
    if (bundle != nullptr) {
        loader::load_boot_modules();
        timeline::mark("modules");
    }
    Status scheduler = sched::initialize();
    if (scheduler.is_ok()) {
        log("sched: threads run under the scheduler policy module on %u CPUs\n",
            cpu_table().count());
    } else {
        log("sched: no scheduler policy module (%s); the console runs without threads\n",
            errno_name(scheduler.error()));
    }
    timeline::mark("scheduler");
    // Provider threads need the scheduler; without it the prepared bindings stay direct.
    loader::start_boot_ring_bindings();
    timeline::mark("ring bindings");
    loader::start_boot_modules();
    timeline::mark("module start");
    boot_test_hook();
    timeline::mark("console ready");
    log("boot timeline (us since nucleus entry):\n");
    print_timeline_so_far();
    loader::start_console();
}

}  // namespace umka
