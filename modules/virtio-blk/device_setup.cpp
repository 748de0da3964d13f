// Bringing up one device the registry bound to this driver: its virtio structures located
// from the published configuration space, the BARs that hold them mapped (bus_access.Mmio
// windows first_window + bar), the function claimed and bus mastering on (pci_bus.PciBus),
// one DMA buffer for the queue and the request slots, features negotiated, queue 0 set up,
// DRIVER_OK. A device that refuses any step is left Failed with the reason in the log; the
// others go on.
//
// A device Inherited from a crashed instance (import_state) is brought up on the handles that
// instance held: its windows, claim, DMA buffer and MSI-X binding are the crashed instance's,
// handed over by the nucleus's restart. The device is reset first, so it no longer touches
// the queue; then each request the old queue held in flight completes with EIO, once, and
// the queue is set up again in the same buffer.
#include <new>

#include "umka/kabi/device_registry.hpp"
#include "umka/kabi/pci_bus.hpp"
#include "umka/line_text.h"
#include "umka/virtio/pci_capabilities.h"
#include "virtio_blk_driver.h"

namespace umka::virtio_blk {
namespace {

namespace bus = kabi::bus_access;
namespace pcibus = kabi::pci_bus;
namespace registry = kabi::device_registry;
namespace services = kabi::kernel_services;

constexpr uint64_t kQueueBytes = (virtio::SplitQueue::memory_bytes(kQueueEntries) + 63) & ~63ull;
constexpr uint64_t kBufferBytes = kQueueBytes + uint64_t(kQueueEntries) * virtio::block::kSlotBytes;

struct Setup {
    const UmkaModuleBinding* binding;
    uint32_t index;  // bind order: the device's BlockDevice number and Irq ordinal
    DeviceRecord& record;
    const registry::DeviceDescription& device;
    LineText<200> line;
    // What has been taken so far, given back by fail().
    virtio::Transport* transport = nullptr;
    pcibus::PciFunction function{};
    uint64_t irq_binding = 0;
    // An Inherited device until its reset: the device may still write the buffer, so a
    // failure keeps it (and leaves the requests in flight to their callers' timeout).
    bool device_may_write_buffer = false;
    // The requests a crashed instance left in flight, failed after the reset: answered once,
    // when the device serves again or is given up.
    Finished failed[kQueueEntries] = {};
    uint32_t failed_count = 0;

    // Logs "virtio-blk bb:dd.f: <what>", tells the device the driver gave up on it (FAILED,
    // virtio 1.2 §3.1.1), gives back what was taken (interrupt, DMA buffer, claim, windows)
    // and leaves the device Failed.
    uint32_t fail(const char* what, int32_t error = 0) {
        line.add(what);
        if (error != 0) line.add(" (errno ").number(uint64_t(error)).add(")");
        if (device_may_write_buffer)
            line.add("; its DMA buffer is kept (the device was not reset)");
        log_text(binding, services::LogLevel::Error, line.data(), line.length());
        if (transport != nullptr) transport->set_failed();
        give_back();
        record.function = 0;
        record.irq_binding = 0;
        record.queue_size = 0;
        __atomic_store_n(&record.phase, uint32_t(Phase::Failed), __ATOMIC_RELEASE);
        deliver(binding, failed, failed_count);
        return 0;
    }

    void give_back() {
        bus::IrqRef irq;
        if (irq_binding != 0 && kabi::bind_required(binding, kIrq, &irq).is_ok()) {
            (void)irq.detach(bus::IrqBinding{irq_binding});
        }
        bus::DmaRef dma;
        if (record.dma_buffer != 0 && !device_may_write_buffer &&
            kabi::bind_required(binding, kDma, &dma).is_ok()) {
            (void)dma.release(bus::DmaBuffer{record.dma_buffer});
            record.dma_buffer = 0;
            record.dma_cpu = 0;
            record.dma_device = 0;
        }
        pcibus::PciBusRef bus;
        if (function.value != 0 && kabi::bind_required(binding, kPciBus, &bus).is_ok()) {
            (void)bus.release(function);
        }
        bus::MmioRef mmio;
        if (kabi::bind_required(binding, kMmio, &mmio).is_ok()) {
            for (uint64_t& window : record.windows) {
                if (window != 0) (void)mmio.unmap(bus::MmioWindow{window});
                window = 0;
            }
        }
    }
};

// The function at `address` claimed through the bus driver, with bus mastering on.
Status claim_function(const UmkaModuleBinding* binding, const pcibus::PciAddress& address,
                      pcibus::PciFunction* claimed) {
    pcibus::PciBusRef bus;
    if (Status status = kabi::bind_required(binding, kPciBus, &bus); status.is_error()) {
        return status;
    }
    for (uint32_t index = 0; index < bus.function_count(); ++index) {
        pcibus::PciDeviceInfo info{};
        if (bus.describe(index, &info).is_error()) continue;
        if (info.address.bus != address.bus || info.address.device != address.device ||
            info.address.function != address.function) {
            continue;
        }
        if (Status status = bus.claim(index, claimed); status.is_error()) return status;
        return bus.enable(*claimed, 1);
    }
    return UMKA_KABI_ENODEV;
}

// MSI-X table entry 0 for queue 0, delivered to IrqHandler with the device's index; MSI-X
// on in the function. The reason it could not, when it could not (the device is polled).
const char* attach_interrupt(const UmkaModuleBinding* binding, uint32_t index,
                             pcibus::PciFunction function, uint64_t* irq_binding) {
    bus::IrqRef irq;
    pcibus::PciBusRef pci;
    if (kabi::bind_required(binding, kIrq, &irq).is_error() ||
        kabi::bind_required(binding, kPciBus, &pci).is_error()) {
        return "Irq or PciBus not bound";
    }
    constexpr uint32_t kEntryBits = 11;  // bus_access.Irq: device ordinal, then table entry
    bus::IrqBinding bound{};
    if (irq.attach(bus::IrqKind::MsiX, uint16_t(index << kEntryBits), index, &bound).is_error()) {
        return "the nucleus gave no MSI-X vector (see its log line)";
    }
    if (pci.set_interrupts(function, bus::IrqKind::MsiX).is_error()) {
        (void)irq.detach(bound);
        return "the bus driver could not turn MSI-X on";
    }
    *irq_binding = bound.value;
    return nullptr;
}

uint32_t set_up(Setup& setup) {
    const registry::DeviceDescription& device = setup.device;
    DeviceRecord& record = setup.record;
    // An Inherited device's handles are this instance's to give back from the first failure.
    bool inherited = __atomic_load_n(&record.phase, __ATOMIC_ACQUIRE) == uint32_t(Phase::Inherited);
    if (inherited) {
        setup.function = pcibus::PciFunction{record.function};
        setup.irq_binding = record.irq_binding;
        setup.device_may_write_buffer = record.dma_buffer != 0;
    }
    uint64_t bar_lengths[6]{};
    for (uint32_t bar = 0; bar < 6; ++bar) {
        pcibus::BarKind kind = device.bars[bar].kind;
        if (kind == pcibus::BarKind::Memory32 || kind == pcibus::BarKind::Memory64) {
            bar_lengths[bar] = device.bars[bar].length;
        }
    }
    virtio::StructureLocations locations;
    virtio::CapabilityProblem problem =
        virtio::find_structures(device.config, bar_lengths, &locations);
    if (problem != virtio::CapabilityProblem::None) {
        return setup.fail(virtio::capability_problem_name(problem));
    }
    bus::MmioRef mmio;
    bus::DmaRef dma;
    if (kabi::bind_required(setup.binding, kMmio, &mmio).is_error() ||
        kabi::bind_required(setup.binding, kDma, &dma).is_error()) {
        return setup.fail("Mmio or Dma not bound");
    }
    const virtio::StructureLocation* structures[4] = {&locations.common, &locations.notify,
                                                      &locations.isr, &locations.device};
    MmioRegisters::Place places[4];
    for (uint32_t index = 0; index < 4; ++index) {
        uint8_t bar = structures[index]->bar;
        if (record.windows[bar] == 0) {
            bus::MmioWindow window{};
            uint64_t length = 0;
            Status mapped = mmio.map(uint8_t(device.first_window + bar), &window, &length);
            if (mapped.is_error()) return setup.fail("its BAR window was refused", mapped.code());
            record.windows[bar] = window.value;
        }
        places[index] = MmioRegisters::Place{record.windows[bar], structures[index]->offset};
    }
    pcibus::PciFunction function{inherited ? record.function : 0};
    if (function.value == 0) {
        if (Status claimed = claim_function(setup.binding, device.info.address, &function);
            claimed.is_error()) {
            return setup.fail("the PCI bus driver refused the claim", claimed.code());
        }
        setup.function = function;
        record.function = function.value;
    }
    if (!inherited || record.dma_buffer == 0) {
        bus::DmaBuffer buffer{};
        bus::DmaMapping mapping{};
        Status allocated =
            dma.allocate(kBufferBytes, bus::DmaDirection::ToDevice | bus::DmaDirection::FromDevice,
                         &buffer, &mapping);
        if (allocated.is_error())
            return setup.fail("no DMA memory for the queue", allocated.code());
        record.dma_buffer = buffer.value;
        record.dma_cpu = mapping.cpu_address;
        record.dma_device = mapping.device_address.value;
        record.queue_size = 0;
    }

    auto* objects = reinterpret_cast<DeviceObjects*>(record.objects);
    new (&objects->registers) MmioRegisters(mmio, places);
    new (&objects->transport)
        virtio::Transport(objects->registers, virtio::Transport::Layout{locations.notify_multiplier,
                                                                        locations.notify.length,
                                                                        locations.device.length});
    new (&objects->queue) virtio::SplitQueue();
    new (&objects->blocks) virtio::block::BlockQueue();
    virtio::Transport& transport = objects->transport;
    setup.transport = &transport;
    auto* cpu = reinterpret_cast<uint8_t*>(uintptr_t(record.dma_cpu));
    virtio::QueueMemory rings{cpu, record.dma_device, kQueueBytes};
    virtio::QueueMemory slots{cpu + kQueueBytes, record.dma_device + kQueueBytes,
                              kBufferBytes - kQueueBytes};
    if (inherited) {
        // Until the reset the device may still complete into the old rings.
        if (virtio::TransportProblem refused = transport.reset();
            refused != virtio::TransportProblem::None) {
            return setup.fail(virtio::transport_problem_name(refused));
        }
        setup.device_may_write_buffer = false;
        setup.failed_count = virtio::block::BlockQueue::fail_abandoned(
            rings, record.queue_size, slots, [&](uint64_t cookie, int32_t result, uint64_t route) {
                if (setup.failed_count < kQueueEntries)
                    setup.failed[setup.failed_count++] = Finished{cookie, route, result};
            });
        // Every request the crashed instance was given is accounted for now.
        __atomic_store_n(&record.completed, __atomic_load_n(&record.submitted, __ATOMIC_ACQUIRE),
                         __ATOMIC_RELEASE);
        setup.line.add("taken over after a crash: reset, ")
            .number(setup.failed_count)
            .add(" request(s) in flight failed (EIO); ");
    }
    const char* polled = nullptr;
    if (setup.irq_binding == 0) {
        polled = attach_interrupt(setup.binding, setup.index, function, &setup.irq_binding);
    }
    record.irq_binding = setup.irq_binding;
    objects->interrupt_driven = polled == nullptr;
    objects->kicked = __atomic_load_n(&record.submitted, __ATOMIC_ACQUIRE);
    uint64_t features = 0;
    if (virtio::TransportProblem refused =
            transport.negotiate(virtio::block::kDriverFeatures, &features);
        refused != virtio::TransportProblem::None) {
        return setup.fail(virtio::transport_problem_name(refused));
    }
    virtio::block::Geometry geometry;
    if (!virtio::block::read_geometry(transport, features, &geometry)) {
        transport.set_failed();
        return setup.fail("its configuration is unstable or nonsense");
    }
    if (virtio::TransportProblem refused =
            transport.setup_queue(0, objects->queue, rings, kQueueEntries,
                                  objects->interrupt_driven ? 0 : virtio::kNoVector);
        refused != virtio::TransportProblem::None) {
        return setup.fail(virtio::transport_problem_name(refused));
    }
    if (!objects->blocks.initialize(objects->queue, slots, geometry)) {
        transport.set_failed();
        return setup.fail("request slots do not fit");
    }
    // Without a vector the completion thread polls the used ring.
    if (!objects->interrupt_driven) objects->queue.disable_interrupts();
    transport.ready();
    if (objects->registers.first_error() != 0) {
        return setup.fail("a register access was refused", objects->registers.first_error());
    }

    kabi::block_device::BlockGeometry& out = record.geometry;
    out.sector_count = geometry.sectors;
    out.sector_size = geometry.block_size;
    out.max_request_sectors =
        uint32_t(objects->blocks.largest_transfer() / virtio::block::kSectorBytes);
    out.optimal_alignment = geometry.physical_block_size / virtio::block::kSectorBytes;
    out.read_only = geometry.read_only ? 1 : 0;
    out.supports_discard = geometry.discard ? 1 : 0;
    out.supports_fua = 0;
    out.queue_depth = objects->queue.size();
    record.address = device.info.address;
    record.queue_size = objects->queue.size();
    setup.line.number(geometry.sectors)
        .add(" sectors, block ")
        .number(geometry.block_size)
        .add(", queue ")
        .number(objects->queue.size())
        .add(geometry.read_only ? ", read-only" : ", read-write")
        .add(geometry.flush ? ", flush" : "")
        .add(geometry.discard ? ", discard" : "")
        .add(objects->interrupt_driven ? ", MSI-X" : ", polled: ");
    if (!objects->interrupt_driven) setup.line.add(polled);
    log_text(setup.binding, services::LogLevel::Info, setup.line.data(), setup.line.length());
    __atomic_store_n(&record.phase, uint32_t(Phase::Ready), __ATOMIC_RELEASE);
    // Ready first: a consumer that retries from its completion finds the device serving.
    deliver(setup.binding, setup.failed, setup.failed_count);
    return 1;
}

}  // namespace

uint32_t set_up_devices(const UmkaModuleBinding* binding, uint32_t* polled) {
    State& state = state_of(binding);
    registry::DevicesRef devices;
    if (kabi::bind_required(binding, kDevices, &devices).is_error()) return 0;
    uint32_t ready = 0;
    for (uint32_t index = 0; index < kMaximumDevices; ++index) {
        registry::DeviceDescription device{};
        if (devices.bound(index, &device).is_error()) break;
        DeviceRecord& record = state.devices[index];
        record.address = device.info.address;  // BlockDevice.device_origin, even if it fails
        Setup setup{binding, index, record, device, {}};
        const pcibus::PciAddress& where = device.info.address;
        setup.line.add("virtio-blk ")
            .hex_digits(where.bus, 2)
            .add(":")
            .hex_digits(where.device, 2)
            .add(".")
            .hex_digits(where.function, 1)
            .add(": ");
        uint32_t up = set_up(setup);
        ready += up;
        if (up != 0 && !objects_of(record).interrupt_driven) ++*polled;
        state.device_count = index + 1;
    }
    return ready;
}

}  // namespace umka::virtio_blk
