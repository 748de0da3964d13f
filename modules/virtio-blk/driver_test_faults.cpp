// The virtio-blk driver module against devices that misbehave or lack something: a used
// ring that lies (reset, EIO once for each request in flight), a queue of size 0, a
// configuration that never settles, a BAR of size 0, no interrupt vector (the module's
// thread polls), and an interrupt storm. None of them may crash the module or complete a
// request twice.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "driver_test_fixture.h"

namespace umka::virtio_blk_test {
namespace {

TEST_F(VirtioBlkDriver, ABrokenUsedRingResetsTheDeviceAndFailsWhatWasInFlightOnce) {
    FakeFunction& function = add_device();
    start();
    Buffer data = buffer(8);
    world_.hold(0, true);
    for (uint64_t cookie = 1; cookie <= 5; ++cookie) {
        ASSERT_TRUE(submit(0, Operation::Read, cookie * 8, 8, data, cookie).is_ok());
    }
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    world_.set_fault(0, Fault::UsedIdOutOfRange);  // the first completion names id 0xFFFF
    world_.serve(0);
    handler_.handle_interrupt(0);
    std::map<uint64_t, std::vector<int32_t>> seen = by_cookie();
    ASSERT_EQ(seen.size(), 5u);
    for (const auto& [cookie, results] : seen) {
        EXPECT_EQ(results, std::vector<int32_t>{UMKA_KABI_EIO}) << "cookie " << cookie;
    }
    EXPECT_EQ(function.model->status(), 0);  // reset
    EXPECT_TRUE(logged("the device broke its used ring; reset, requests in flight failed"))
        << log_text();
    // Out of service: later interrupts complete nothing, later requests are refused.
    handler_.handle_interrupt(0);
    EXPECT_EQ(completions_.count(), 5u);
    Status later = submit(0, Operation::Read, 0, 8, data, 6);
    EXPECT_TRUE(later.code() == UMKA_KABI_ENODEV || later.code() == UMKA_KABI_EIO) << later.code();
    EXPECT_EQ(device_.device_kick(0).code(), UMKA_KABI_ENODEV);
    EXPECT_EQ(completions_.count(), 5u);
}

// A device that sets DEVICE_NEEDS_RESET completes nothing more: the next interrupt resets it,
// every request it held completes with EIO once, and it stays out of service.
TEST_F(VirtioBlkDriver, DeviceNeedsResetFailsWhatWasInFlightOnce) {
    FakeFunction& function = add_device();
    start();
    Buffer data = buffer(8);
    world_.set_fault(0, Fault::NeedsResetAfterNext);
    for (uint64_t cookie = 1; cookie <= 3; ++cookie) {
        ASSERT_TRUE(submit(0, Operation::Read, cookie * 8, 8, data, cookie).is_ok());
    }
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    handler_.handle_interrupt(0);
    std::map<uint64_t, std::vector<int32_t>> seen = by_cookie();
    ASSERT_EQ(seen.size(), 3u);
    for (const auto& [cookie, results] : seen) {
        EXPECT_EQ(results, std::vector<int32_t>{UMKA_KABI_EIO}) << "cookie " << cookie;
    }
    EXPECT_EQ(function.model->status(), 0);  // reset
    EXPECT_TRUE(logged("the device set DEVICE_NEEDS_RESET; reset, requests in flight failed"))
        << log_text();
    handler_.handle_interrupt(0);
    EXPECT_EQ(completions_.count(), 3u);
    EXPECT_EQ(device_.device_kick(0).code(), UMKA_KABI_ENODEV);
}

// A live swap of the driver while it drives a device is refused through its state import
// (its queue objects point into the running image): the old instance keeps serving.
TEST_F(VirtioBlkDriver, ALiveSwapWhileDrivingADeviceIsRefused) {
    add_device();
    start();
    harness::HostModule* replacement = harness_.evolve(module_, harness::module_under_test());
    EXPECT_EQ(replacement, nullptr);
    EXPECT_EQ(int32_t(harness_.last_error()), UMKA_KABI_EOPNOTSUPP) << harness_.last_reason();
    Buffer data = buffer(8);
    ASSERT_TRUE(submit(0, Operation::Read, 0, 8, data, 7).is_ok());
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    handler_.handle_interrupt(0);
    EXPECT_EQ(completions_.count(), 1u);
}

// The nucleus's restart after a crash hands the new instance what the crashed one held. Its
// import keeps the handles and start takes the device over: reset, every request the
// crashed instance had in flight completes with EIO once, and the same claim, windows, DMA
// buffer and MSI-X binding serve new requests (nothing claimed, mapped or allocated again).
TEST_F(VirtioBlkDriver, ARestartAfterACrashTakesTheDeviceOverAndFailsWhatWasInFlightOnce) {
    FakeFunction& function = add_device();
    start();
    Buffer data = buffer(24);
    world_.hold(0, true);
    for (uint64_t cookie = 1; cookie <= 3; ++cookie) {
        ASSERT_TRUE(
            submit(0, Operation::Read, cookie * 8, 8, data, cookie, (cookie - 1) * 4096).is_ok());
    }
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    ASSERT_EQ(completions_.count(), 0u);
    uint32_t windows = function.windows_mapped;
    uint32_t enables = function.enables;
    size_t buffers = dma_.count();
    size_t attachments = world_.attachments().size();
    // As a crash can leave it: the queue lock taken.
    state().devices[0].queue_lock = 1;

    harness::HostModule* replacement =
        harness_.evolve(module_, harness::module_under_test(), UMKA_STATE_IMPORT_CAUSE_CRASH);
    ASSERT_NE(replacement, nullptr) << harness_.last_reason();
    module_ = replacement;
    ASSERT_TRUE(harness_.bind_provided(*module_, "block_device", "BlockDevice", &device_).is_ok());
    ASSERT_TRUE(harness_.bind_provided(*module_, "bus_access", "IrqHandler", &handler_).is_ok());
    EXPECT_TRUE(logged("taken over after a crash: reset, 3 request(s) in flight failed (EIO)"))
        << log_text();
    std::map<uint64_t, std::vector<int32_t>> seen = by_cookie();
    ASSERT_EQ(seen.size(), 3u);
    for (uint64_t cookie = 1; cookie <= 3; ++cookie) {
        EXPECT_EQ(seen[cookie], std::vector<int32_t>{UMKA_KABI_EIO}) << "cookie " << cookie;
    }
    EXPECT_NE(function.model->status() & kDriverOk, 0);
    EXPECT_EQ(function.windows_mapped, windows);
    EXPECT_EQ(function.enables, enables) << "the claim was taken over, not made again";
    EXPECT_TRUE(function.claimed);
    EXPECT_EQ(dma_.count(), buffers);
    EXPECT_EQ(world_.attachments().size(), attachments);
    EXPECT_EQ(state().devices[0].phase, 1u);

    // The retry: served by the new instance, on the same interrupt binding.
    world_.hold(0, false);
    fill(function.model->disk().data() + 8 * 512, 8 * 512, 0x5A);
    ASSERT_TRUE(submit(0, Operation::Read, 8, 8, data, 1).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 4u);
    EXPECT_EQ(completions_.all().back().result, UMKA_KABI_OK);
    EXPECT_EQ(0, std::memcmp(function.model->disk().data() + 8 * 512, data.memory, 8 * 512));
    handler_.handle_interrupt(0);
    EXPECT_EQ(completions_.count(), 4u) << "the old requests do not come back";
}

// A polled device's completion thread runs on in the crashed image over the old state: the
// restart's import refuses (EBUSY) rather than have two instances reap one queue.
TEST_F(VirtioBlkDriver, ARestartAfterACrashWithAPollingThreadRefusesTheState) {
    add_device();
    world_.refuse_interrupts();
    start();
    harness::HostModule* replacement =
        harness_.evolve(module_, harness::module_under_test(), UMKA_STATE_IMPORT_CAUSE_CRASH);
    EXPECT_EQ(replacement, nullptr);
    EXPECT_EQ(int32_t(harness_.last_error()), UMKA_KABI_EBUSY) << harness_.last_reason();
}

struct Refusal {
    const char* name;  // of the test case
    Fault fault;
    const char* reason;  // what follows "virtio-blk 00:04.0: " in the log
};

class RefusedDevice : public VirtioBlkDriver, public ::testing::WithParamInterface<Refusal> {};

// A step refused during bring-up leaves the device out, with its reason, and given up: FAILED
// set (virtio 1.2 §3.1.1 step 8), whichever step it was. Device numbers keep bind order.
TEST_P(RefusedDevice, IsLeftOutWithItsReasonAndMarkedFailed) {
    FakeFunction& function = add_device();
    function.model->set_fault(GetParam().fault);
    start();
    EXPECT_TRUE(logged(std::string("virtio-blk 00:04.0: ") + GetParam().reason)) << log_text();
    EXPECT_EQ(device_.device_count(), 1u);
    block::BlockGeometry geometry{};
    EXPECT_EQ(device_.device_geometry(0, &geometry).code(), UMKA_KABI_ENODEV);
    Buffer data = buffer(8);
    EXPECT_EQ(submit(0, Operation::Read, 0, 8, data, 1).code(), UMKA_KABI_ENODEV);
    EXPECT_EQ(device_.device_kick(0).code(), UMKA_KABI_ENODEV);
    EXPECT_EQ(function.model->status() & kDriverOk, 0);
    EXPECT_NE(function.model->status() & kFailed, 0) << "status " << int(function.model->status());
    handler_.handle_interrupt(0);
    EXPECT_EQ(completions_.count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, RefusedDevice,
    ::testing::Values(
        Refusal{"QueueSizeZero", Fault::QueueSizeZero, "queue missing or of size 0"},
        Refusal{"NotModern", Fault::NotModern, "device does not offer VIRTIO_F_VERSION_1"},
        Refusal{"FeaturesRefused", Fault::RefuseFeatures, "device refused the negotiated features"},
        Refusal{"ConfigAlwaysChanging", Fault::ConfigAlwaysChanging,
                "its configuration is unstable or nonsense"}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return std::string(info.param.name); });

TEST_F(VirtioBlkDriver, AStructureInABarOfSizeZeroIsRefusedBeforeTouchingTheDevice) {
    FakeFunction& function = add_device();
    function.description.bars[kStructureBar].length = 0;
    start();
    EXPECT_TRUE(logged("virtio-blk 00:04.0: virtio structure in a BAR that is not memory"))
        << log_text();
    EXPECT_EQ(function.windows_mapped, 0u);
    EXPECT_FALSE(function.claimed);
    EXPECT_TRUE(world_.attachments().empty());
    EXPECT_EQ(function.model->status(), 0);
    EXPECT_EQ(device_.device_count(), 1u);
    block::BlockGeometry geometry{};
    EXPECT_EQ(device_.device_geometry(0, &geometry).code(), UMKA_KABI_ENODEV);
}

TEST_F(VirtioBlkDriver, ABadDeviceDoesNotStopTheNextOne) {
    add_device().model->set_fault(Fault::QueueSizeZero);
    FakeFunction& good = add_device();
    start();
    EXPECT_TRUE(logged("virtio-blk 00:04.0: queue missing or of size 0")) << log_text();
    EXPECT_TRUE(logged("virtio-blk 00:05.0: 2048 sectors")) << log_text();
    EXPECT_EQ(device_.device_count(), 2u);
    Buffer data = buffer(8);
    ASSERT_TRUE(submit(1, Operation::Write, 0, 8, data, 1).is_ok());
    kick_and_interrupt(1);
    ASSERT_EQ(completions_.count(), 1u);
    EXPECT_EQ(good.model->requests(), 1u);
}

TEST_F(VirtioBlkDriver, WithoutAnInterruptTheModulesThreadCompletes) {
    FakeFunction& function = add_device();
    world_.refuse_interrupts();
    start();
    EXPECT_TRUE(
        logged("virtio-blk 00:04.0: 2048 sectors, block 512, queue 64, read-write, "
               "flush, discard, polled: "))
        << log_text();
    EXPECT_EQ(threads_.spawned(), 1u);
    EXPECT_EQ(function.model->queue_vector(), 0xFFFF);
    EXPECT_TRUE(function.interrupt_modes.empty());  // MSI-X was never turned on
    Buffer data = buffer(16);
    fill(data.memory, 8 * 512, 21);
    ASSERT_TRUE(submit(0, Operation::Write, 100, 8, data, 1).is_ok());
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    ASSERT_TRUE(completions_.wait_for(1)) << "the module's thread completed nothing";
    EXPECT_EQ(completions_.all()[0].result, 0);
    EXPECT_EQ(0, std::memcmp(function.model->disk().data() + 100 * 512, data.memory, 8 * 512));
    ASSERT_TRUE(submit(0, Operation::Read, 100, 8, data, 2, 8 * 512).is_ok());
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    ASSERT_TRUE(completions_.wait_for(2));
    EXPECT_EQ(0, std::memcmp(data.memory + 8 * 512, data.memory, 8 * 512));
    // Many in flight, each completed once by the thread.
    for (uint64_t cookie = 10; cookie < 42; ++cookie) {
        ASSERT_TRUE(submit(0, Operation::Read, cookie, 1, data, cookie).is_ok());
    }
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    ASSERT_TRUE(completions_.wait_for(34));
    std::map<uint64_t, std::vector<int32_t>> seen = by_cookie();
    EXPECT_EQ(seen.size(), 34u);
    for (const auto& [cookie, results] : seen) {
        EXPECT_EQ(results, std::vector<int32_t>{0}) << "cookie " << cookie;
    }
}

TEST_F(VirtioBlkDriver, AnInterruptStormBreaksNothing) {
    add_device();
    start();
    for (uint32_t storm = 0; storm < 100'000; ++storm) handler_.handle_interrupt(0);
    EXPECT_EQ(completions_.count(), 0u);
    Buffer data = buffer(8);
    ASSERT_TRUE(submit(0, Operation::Write, 0, 8, data, 1).is_ok());
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    for (uint32_t storm = 0; storm < 100'000; ++storm) handler_.handle_interrupt(0);
    // Cookies of no device are ignored too.
    handler_.handle_interrupt(1);
    handler_.handle_interrupt(~uint64_t(0));
    ASSERT_EQ(completions_.count(), 1u);
    EXPECT_EQ(completions_.all()[0].cookie, 1u);
    EXPECT_EQ(completions_.all()[0].result, 0);
    ASSERT_TRUE(submit(0, Operation::Read, 0, 8, data, 2).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 2u);
    EXPECT_EQ(completions_.all()[1].cookie, 2u);
}

}  // namespace
}  // namespace umka::virtio_blk_test
