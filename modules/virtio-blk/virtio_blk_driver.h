// What the virtio-blk driver module's files share: its manifest order, its state, and the
// per-device objects of the SDK's virtio library kept in the state (VirtioBlkDevice.objects).
// One concept per file: virtio_blk_driver.cpp (entry, start, BlockDevice), device_setup.cpp
// (bringing one bound device up), completions.cpp (the completion thread and IrqHandler).
#pragma once

#include <stdint.h>

#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/virtio_blk.hpp"
#include "umka/kabi/virtio_blk_state.hpp"
#include "umka/module_entry.h"
#include "umka/virtio/block.h"

namespace umka::virtio_blk {

using State = kabi::virtio_blk::VirtioBlkState;
using DeviceRecord = kabi::virtio_blk::VirtioBlkDevice;
using kabi::Status;

// Manifest order of kabi-idl/modules/virtio_blk.kabi.
enum Required : uint32_t {
    kLog = 0,
    kThreads = 1,
    kMmio = 2,
    kDma = 3,
    kPciBus = 4,
    kDevices = 5,
    kDirectory = 6,
    kIrq = 7,
    kRequiredCount = 8
};
enum Provided : uint32_t { kBlockDevice = 0, kIrqHandler = 1, kProvidedCount = 2 };
inline constexpr uint32_t kStateCount = 1;
inline constexpr uint32_t kMaximumDevices = sizeof(State::devices) / sizeof(DeviceRecord);

// Inherited: taken over from a crashed instance (import_state); start resets the device,
// fails what it held in flight with EIO and sets it up again on the same handles.
enum class Phase : uint32_t { Absent = 0, Ready = 1, Failed = 2, Broken = 3, Inherited = 4 };

// The largest queue this driver sets up (the device may offer more).
inline constexpr uint16_t kQueueEntries = 64;

// The transport's structures through the device's bus_access.Mmio windows.
class MmioRegisters final : public virtio::Registers {
public:
    struct Place {
        uint64_t window;  // MmioWindow handle
        uint32_t offset;  // of the structure in the window
    };
    MmioRegisters(const kabi::bus_access::MmioRef& mmio, const Place (&places)[4]) : mmio_(mmio) {
        for (uint32_t index = 0; index < 4; ++index) places_[index] = places[index];
    }
    uint32_t read(virtio::Structure structure, uint32_t offset, uint8_t bytes) override;
    void write(virtio::Structure structure, uint32_t offset, uint8_t bytes,
               uint32_t value) override;
    // The first refused access (0 while none): a window the nucleus took back.
    int32_t first_error() const { return first_error_; }

private:
    kabi::bus_access::MmioRef mmio_;
    Place places_[4];
    int32_t first_error_ = 0;
};

// The library's objects for one device. They point into the device's DMA buffer and at each
// other, so they live in the state (nucleus memory) and are built by each instance's start
// (a crash restart's import zeroes them: VirtioBlkDevice keeps the handles they were built on).
struct DeviceObjects {
    MmioRegisters registers;
    virtio::Transport transport;
    virtio::SplitQueue queue;
    virtio::block::BlockQueue blocks;
    // VirtioBlkDevice.submitted at the last kick: the polling thread waits for those only
    // (requests not yet kicked are not the device's yet).
    uint64_t kicked;
    // VirtioBlkDevice.irq_binding != 0; else the completion thread polls this device.
    bool interrupt_driven;
};
static_assert(sizeof(DeviceObjects) <= sizeof(DeviceRecord::objects));

inline DeviceObjects& objects_of(DeviceRecord& record) {
    return *reinterpret_cast<DeviceObjects*>(record.objects);
}

inline const UmkaModuleBinding* binding_of(void* context) {
    return kabi::binding_of(context);
}
inline State& state_of(const UmkaModuleBinding* binding) {
    return *kabi::module_state<State>(binding);
}

// Brings up every device the registry bound to this module (device_setup.cpp); returns how
// many are ready, and in *polled how many of those have no interrupt.
uint32_t set_up_devices(const UmkaModuleBinding* binding, uint32_t* polled);

// Where a request's completion goes: kDefaultRoute (the first BlockCompletion in the
// directory) or 1 + an index into State::completion_routes.
inline constexpr uint64_t kDefaultRoute = 0;
inline constexpr uint32_t kMaximumRoutes = sizeof(State::completion_routes) / sizeof(uint64_t);
// The route of `completion`, a BlockCompletion slot a consumer named (completions.cpp):
// ENOENT when no BlockCompletion provider has that slot, ENOSPC when every route is taken.
Status route_for(const UmkaModuleBinding* binding, uint64_t completion, uint64_t* route);

// A finished request and where its completion goes.
struct Finished {
    uint64_t cookie;
    uint64_t route;
    int32_t result;
};
// Sends each completion to the BlockCompletion its route names, outside the queue lock
// (completions.cpp); a route no consumer was given is counted in completions_lost.
void deliver(const UmkaModuleBinding* binding, const Finished* finished, uint32_t count);

// The completion thread's body and one pass over a device (completions.cpp).
int32_t completion_thread(uint64_t binding);
// Completes what device `index` finished; how many.
uint32_t reap(const UmkaModuleBinding* binding, uint32_t index);

// The queue lock of one device (submit from any thread, reap from the completion thread).
void lock_queue(DeviceRecord& record);
void unlock_queue(DeviceRecord& record);

void log_text(const UmkaModuleBinding* binding, kabi::kernel_services::LogLevel level,
              const char* text, uint64_t length);

}  // namespace umka::virtio_blk
