// The virtio-blk driver module (kabi-idl/modules/virtio_blk.kabi): at start it brings up every
// device the nucleus's device registry bound to it (device_setup.cpp) and starts its
// completion thread (completions.cpp); it serves the devices as block_device.BlockDevice
// v2, devices 0, 1, ... in bind order (v1's methods act on device 0).
//
// A request's sectors are 512-byte units whatever the device's block (BlockGeometry.
// sector_size): the library refuses one that is not whole blocks (EINVAL), past the end
// (ERANGE), larger than max_request_sectors (E2BIG), a write or discard on a read-only
// device (EROFS) or a full queue (EAGAIN), before the device sees it.
#include "virtio_blk_driver.h"

#include "umka/kabi/block_device.hpp"
#include "umka/kabi/virtio_blk_manifest.hpp"

namespace umka::virtio_blk {
namespace {

namespace block = kabi::block_device;
namespace bus = kabi::bus_access;
namespace services = kabi::kernel_services;

DeviceRecord* ready_device(State& state, uint32_t device) {
    if (device >= state.device_count) return nullptr;
    DeviceRecord& record = state.devices[device];
    if (__atomic_load_n(&record.phase, __ATOMIC_ACQUIRE) != uint32_t(Phase::Ready)) return nullptr;
    return &record;
}

virtio::block::Operation operation_of(block::BlockOperation operation, bool* known) {
    *known = true;
    switch (operation) {
    case block::BlockOperation::Read:
        return virtio::block::Operation::Read;
    case block::BlockOperation::Write:
        return virtio::block::Operation::Write;
    case block::BlockOperation::Flush:
        return virtio::block::Operation::Flush;
    case block::BlockOperation::Discard:
        return virtio::block::Operation::Discard;
    }
    *known = false;
    return virtio::block::Operation::Read;
}

Status submit_to(State& state, uint32_t device, const block::BlockRequest* request,
                 uint64_t route = kDefaultRoute) {
    if (request == nullptr) return UMKA_KABI_EINVAL;
    DeviceRecord* record = ready_device(state, device);
    if (record == nullptr) {
        // Between a crash restart's swap and its start: the device is about to serve again.
        bool inherited = device < state.device_count &&
                         __atomic_load_n(&state.devices[device].phase, __ATOMIC_ACQUIRE) ==
                             uint32_t(Phase::Inherited);
        return inherited ? UMKA_KABI_EAGAIN : UMKA_KABI_ENODEV;
    }
    bool known = false;
    virtio::block::Operation operation = operation_of(request->operation, &known);
    if (!known) return UMKA_KABI_EINVAL;
    uint64_t bytes = uint64_t(request->sector_count) * virtio::block::kSectorBytes;
    if (bytes > 0xFFFFFFFFu) return UMKA_KABI_E2BIG;
    if (operation == virtio::block::Operation::Flush) bytes = 0;
    DeviceObjects& objects = objects_of(*record);
    lock_queue(*record);
    uint16_t before = objects.queue.available_index();
    int32_t result =
        objects.blocks.submit(operation, request->first_sector, request->device_address.value,
                              uint32_t(bytes), request->cookie, route);
    if (result == UMKA_KABI_OK) {
        __atomic_add_fetch(&record->submitted, 1, __ATOMIC_ACQ_REL);
        // Batched: the doorbell rings at kick, unless the ring is full enough to need it.
        if (objects.queue.needs_notify(before) && objects.queue.free_descriptors() == 0) {
            objects.transport.notify(0);
        }
    }
    unlock_queue(*record);
    return result;
}

Status kick_device(const UmkaModuleBinding* binding, uint32_t device) {
    State& state = state_of(binding);
    DeviceRecord* record = ready_device(state, device);
    if (record == nullptr) return UMKA_KABI_ENODEV;
    DeviceObjects& objects = objects_of(*record);
    lock_queue(*record);
    objects.transport.notify(0);
    __atomic_store_n(&objects.kicked, __atomic_load_n(&record->submitted, __ATOMIC_ACQUIRE),
                     __ATOMIC_RELEASE);
    unlock_queue(*record);
    if (objects.interrupt_driven) return Status::ok();
    // The completion thread polls while anything is in flight.
    __atomic_add_fetch(&state.kick_word, 1u, __ATOMIC_RELEASE);
    services::ThreadsRef threads;
    if (kabi::bind_required(binding, kThreads, &threads).is_ok()) {
        uint32_t woken = 0;
        (void)threads.queue_wake(services::WaitQueue{state.wait_queue}, 1, &woken);
    }
    return Status::ok();
}

struct BlockDevice {
    static Status geometry(void* context, block::BlockGeometry* geometry) {
        return device_geometry(context, 0, geometry);
    }
    static Status submit(void* context, const block::BlockRequest* request) {
        return submit_to(state_of(binding_of(context)), 0, request);
    }
    static void kick(void* context) { (void)kick_device(binding_of(context), 0); }
    // Synchronous flush of device 0 is not offered: a flush is a request (device_submit with
    // BlockOperation::Flush) whose completion says when it is durable.
    static Status flush(void*) { return UMKA_KABI_EIO; }
    static uint32_t device_count(void* context) {
        return state_of(binding_of(context)).device_count;
    }
    static Status device_geometry(void* context, uint32_t device, block::BlockGeometry* geometry) {
        if (geometry == nullptr) return UMKA_KABI_EINVAL;
        DeviceRecord* record = ready_device(state_of(binding_of(context)), device);
        if (record == nullptr) return UMKA_KABI_ENODEV;
        *geometry = record->geometry;
        return Status::ok();
    }
    static Status device_submit(void* context, uint32_t device,
                                const block::BlockRequest* request) {
        return submit_to(state_of(binding_of(context)), device, request);
    }
    static Status device_kick(void* context, uint32_t device) {
        return kick_device(binding_of(context), device);
    }
    static Status device_submit_routed(void* context, uint32_t device,
                                       const block::BlockRequest* request, uint64_t completion) {
        const UmkaModuleBinding* binding = binding_of(context);
        uint64_t route = 0;
        if (Status status = route_for(binding, completion, &route); status.is_error()) {
            return status;
        }
        return submit_to(state_of(binding), device, request, route);
    }
    static Status device_origin(void* context, uint32_t device, block::BlockDeviceOrigin* origin) {
        if (origin == nullptr) return UMKA_KABI_EINVAL;
        State& state = state_of(binding_of(context));
        if (device >= state.device_count) return UMKA_KABI_ENODEV;
        *origin = block::BlockDeviceOrigin{};
        static constexpr char kDriver[] = "virtio_blk";
        __builtin_memcpy(origin->driver, kDriver, sizeof kDriver - 1);
        const kabi::pci_bus::PciAddress& where = state.devices[device].address;
        static constexpr char kDigits[] = "0123456789abcdef";
        const char location[] = {kDigits[where.bus >> 4],    kDigits[where.bus & 15],    ':',
                                 kDigits[where.device >> 4], kDigits[where.device & 15], '.',
                                 kDigits[where.function & 7]};
        __builtin_memcpy(origin->location, location, sizeof location);
        return Status::ok();
    }
};
static_assert(__is_empty(BlockDevice), "module code keeps no state of its own");

// Runs on the nucleus's interrupt thread, the device's MSI-X entry masked until it returns.
// An interrupt that finds no used entry (its completions were reaped by an earlier run) is
// NotMine, which the nucleus counts as unhandled.
struct IrqHandler {
    static bus::IrqOutcome handle_interrupt(void* context, uint64_t device) {
        uint32_t reaped = 0;
        for (uint32_t batch; (batch = reap(binding_of(context), uint32_t(device))) != 0;) {
            reaped += batch;
        }
        return reaped != 0 ? bus::IrqOutcome::Handled : bus::IrqOutcome::NotMine;
    }
};
static_assert(__is_empty(IrqHandler), "module code keeps no state of its own");

constexpr block::BlockDeviceVtable block_device_vtable =
    block::make_block_device_vtable<BlockDevice>();
constexpr bus::IrqHandlerVtable irq_handler_vtable = bus::make_irq_handler_vtable<IrqHandler>();

int32_t start_virtio_blk(UmkaModuleBinding* binding) {
    State& state = state_of(binding);
    services::ThreadsRef threads;
    if (Status status = kabi::bind_required(binding, kThreads, &threads); status.is_error()) {
        return status.code();
    }
    // A crash restart keeps the crashed instance's queue (the nucleus handed it over).
    if (state.wait_queue == 0) {
        services::WaitQueue queue{};
        if (Status status = threads.queue_create(&queue); status.is_error()) return status.code();
        state.wait_queue = queue.value;
    }
    uint32_t polled = 0;
    (void)set_up_devices(binding, &polled);
    if (state.device_count == 0) {
        static constexpr char kNone[] = "virtio-blk: no device is bound to this driver";
        log_text(binding, services::LogLevel::Info, kNone, sizeof kNone - 1);
    }
    if (polled == 0) return UMKA_KABI_OK;  // every ready device interrupts
    static constexpr char kName[] = "virtio-blk";
    services::Thread thread{};
    Status spawned = threads.spawn_thread(
        reinterpret_cast<uint64_t>(&completion_thread), reinterpret_cast<uint64_t>(binding),
        services::ThreadPriority::Normal, services::ThreadPlacement::Anywhere, 0, kName,
        sizeof kName - 1, &thread);
    if (spawned.is_error()) {
        static constexpr char kReason[] = "the completion thread could not be started";
        return umka_module_refuse(binding, spawned.code(), kReason, sizeof kReason - 1);
    }
    state.thread = thread.value;
    return UMKA_KABI_OK;
}

// A live swap carries VirtioBlkState to the replacement, but the library objects in it
// (DeviceObjects) hold a C++ vtable pointer into this image, which the swap unloads: while
// a device is driven the swap is refused (the old module keeps running), with no device
// the replacement starts fresh.
//
// A restart after a crash (UMKA_STATE_IMPORT_CAUSE_CRASH) is the same file, and the nucleus
// hands the new instance everything the crashed one held: the state is kept but for the
// objects, and each device it drove is Inherited, which start resets and sets up again on
// the same handles (device_setup.cpp). The queue lock may have been held when it crashed.
// Refused (the restart then starts fresh) while a polling completion thread exists: it runs
// on in the crashed image over the old state and would reap the queue set up again.
int32_t import_state(const UmkaStateImport* import) {
    if (import == nullptr || import->old_base == nullptr) return UMKA_KABI_EINVAL;
    if (import->old_size < sizeof(State::device_count)) return UMKA_KABI_EINVAL;
    const auto* old = static_cast<const State*>(import->old_base);
    if (old->device_count == 0) return UMKA_KABI_OK;
    if (import->cause != UMKA_STATE_IMPORT_CAUSE_CRASH) return UMKA_KABI_EOPNOTSUPP;
    if (import->old_schema_version != kabi::virtio_blk::virtio_blk_state_version ||
        import->old_size < sizeof(State) || import->new_size < sizeof(State) ||
        old->device_count > kMaximumDevices) {
        return UMKA_KABI_EOPNOTSUPP;
    }
    if (old->thread != 0) return UMKA_KABI_EBUSY;
    auto* state = static_cast<State*>(import->new_base);
    __builtin_memcpy(state, old, sizeof(State));
    state->stopping = 0;
    for (uint32_t index = 0; index < state->device_count; ++index) {
        DeviceRecord& record = state->devices[index];
        record.queue_lock = 0;
        __builtin_memset(record.objects, 0, sizeof record.objects);
        // A Broken device (it lied about its used ring) stays out of service.
        if (record.phase == uint32_t(Phase::Ready)) record.phase = uint32_t(Phase::Inherited);
    }
    return UMKA_KABI_OK;
}

}  // namespace

uint32_t MmioRegisters::read(virtio::Structure structure, uint32_t offset, uint8_t bytes) {
    const Place& place = places_[uint32_t(structure)];
    uint64_t value = 0;
    Status status = mmio_.read(bus::MmioWindow{place.window}, uint64_t(place.offset) + offset,
                               bus::AccessWidth(bytes), &value);
    if (status.is_error()) {
        if (first_error_ == 0) first_error_ = status.code();
        return 0xFFFFFFFFu;  // what a read of an absent device gives
    }
    return uint32_t(value);
}

void MmioRegisters::write(virtio::Structure structure, uint32_t offset, uint8_t bytes,
                          uint32_t value) {
    const Place& place = places_[uint32_t(structure)];
    Status status = mmio_.write(bus::MmioWindow{place.window}, uint64_t(place.offset) + offset,
                                bus::AccessWidth(bytes), value);
    if (status.is_error() && first_error_ == 0) first_error_ = status.code();
}

void log_text(const UmkaModuleBinding* binding, services::LogLevel level, const char* text,
              uint64_t length) {
    services::LogRef log;
    if (kabi::bind_required(binding, kLog, &log).is_ok()) log.write(level, text, length);
}

}  // namespace umka::virtio_blk

UMKA_KABI_DEFINE_MANIFEST_VIRTIO_BLK();

// Touches no device: they are brought up by start, once the binding is committed and the
// bus driver (which this module requires, so it started first) has published them.
UMKA_MODULE_ENTRY(binding) {
    using namespace umka::virtio_blk;
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount)) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "binding of another manifest", 27);
    }
    if (umka::kabi::module_state<State>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no VirtioBlkState region", 24);
    }
    if (int32_t status = umka_module_set_start(binding, start_virtio_blk); status != UMKA_KABI_OK) {
        return status;
    }
    if (int32_t status = umka_module_set_state_import(binding, import_state);
        status != UMKA_KABI_OK) {
        return status;
    }
    if (Status status = umka_module_provide(binding, kBlockDevice, &block_device_vtable, binding);
        status.is_error()) {
        return status.code();
    }
    return umka_module_provide(binding, kIrqHandler, &irq_handler_vtable, binding);
}
