// The host world of virtio_blk_driver_test.cpp: virtio-blk PCI functions whose BAR 4 is the
// device model (virtio_blk_model.h) behind the driver module's real interfaces —
// device_registry.Devices (the bound functions, configuration space laid out as QEMU's
// virtio-blk-pci), bus_access.Mmio (BAR windows routed to the model's structures),
// pci_bus.PciBus v2 (claims, enables and interrupt modes recorded), bus_access.Irq (attaches
// recorded; the test delivers interrupts by calling the module's IrqHandler) — and a
// block_device.BlockCompletion that records what the module completes.
#pragma once

#include <stdint.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "module_harness.h"
#include "umka/kabi/block_device.hpp"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/device_registry.hpp"
#include "umka/kabi/pci_bus.hpp"
#include "virtio_blk_model.h"

namespace umka::virtio_blk_test {

namespace block = kabi::block_device;
namespace bus = kabi::bus_access;
namespace pcibus = kabi::pci_bus;
namespace registry = kabi::device_registry;
using virtio::testing::Fault;
using virtio::testing::VirtioBlkModel;

// Where QEMU puts the virtio structures in BAR 4 (each 0x1000 bytes).
inline constexpr uint8_t kStructureBar = 4;
inline constexpr uint64_t kStructureBarBytes = 0x4000;
inline constexpr uint8_t kMsixTableBar = 1;

// One virtio-blk PCI function at 00:(04 + index).0: the model and what the bus recorded.
struct FakeFunction {
    FakeFunction(uint32_t index, uint64_t sectors, uint64_t features);

    std::unique_ptr<VirtioBlkModel> model;
    registry::DeviceDescription description{};
    bool claimed = false;
    uint32_t enables = 0;
    bool bus_master = false;
    std::vector<bus::IrqKind> interrupt_modes;  // every set_interrupts, in order
    uint32_t windows_mapped = 0;
};

struct Attachment {
    bus::IrqKind kind;
    uint16_t vector_index;
    uint64_t cookie;
    bool detached;
};

// Devices, Mmio, PciBus and Irq over the functions. One mutex serialises every model access:
// the module reaches the model from the test's thread and from its completion thread.
class DeviceWorld {
public:
    FakeFunction& add_function(uint64_t sectors, uint64_t features);
    FakeFunction& function(uint32_t index) { return *functions_[index]; }
    // Publishes Devices, Mmio, PciBus and Irq from the nucleus; false when one is refused.
    bool publish(harness::ModuleHarness& harness);

    // Irq.attach answers ENODEV (the nucleus has no vector for the device).
    void refuse_interrupts() { refuse_interrupts_ = true; }
    std::vector<Attachment> attachments();
    // The model of function `index` under the world's lock: serve held requests, set a fault.
    void serve(uint32_t index);
    void hold(uint32_t index, bool held);
    void set_fault(uint32_t index, Fault fault);
    uint64_t interrupts(uint32_t index);

    struct Vtables;  // the four vtables' functions (driver_test_world.cpp)

private:
    std::vector<std::unique_ptr<FakeFunction>> functions_;
    std::vector<Attachment> attachments_;
    bool refuse_interrupts_ = false;
    std::mutex mutex_;
};

// block_device.BlockCompletion: every (cookie, result), in order, from any thread.
class Completions {
public:
    struct Completion {
        uint64_t cookie;
        int32_t result;
    };
    static const block::BlockCompletionVtable* vtable();
    // Waits until at least `count` completions arrived; false when `timeout` passed first.
    bool wait_for(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    std::vector<Completion> all();
    size_t count();

    struct Vtable;

private:
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<Completion> completions_;
};

}  // namespace umka::virtio_blk_test
