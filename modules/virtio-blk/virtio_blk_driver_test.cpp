// Host test of the virtio-blk driver module: the harness loads the very ELF the build signs
// (virtio_blk.elf) and binds it to virtio-blk PCI functions whose BAR 4 is the device model
// of the virtio library's tests (virtio_blk_model.h), through the module's real interfaces
// (driver_test_world.h), plus the shared host Threads, Dma and Directory of
// test/host/module/. Interrupts are delivered by calling the module's IrqHandler, as the
// nucleus's interrupt thread does; a device without one is served by the module's thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "driver_test_fixture.h"

namespace umka::virtio_blk_test {
namespace {

TEST_F(VirtioBlkDriver, StartBringsTheDeviceUp) {
    FakeFunction& function = add_device();
    start();
    EXPECT_TRUE(
        logged("virtio-blk 00:04.0: 2048 sectors, block 512, queue 64, read-write, "
               "flush, discard, MSI-X"))
        << log_text();
    EXPECT_TRUE(function.claimed);
    EXPECT_EQ(function.enables, 1u);
    EXPECT_TRUE(function.bus_master);
    EXPECT_EQ(function.interrupt_modes, std::vector<bus::IrqKind>{bus::IrqKind::MsiX});
    EXPECT_EQ(function.windows_mapped, 1u);  // BAR 4 holds all four structures
    std::vector<Attachment> attachments = world_.attachments();
    ASSERT_EQ(attachments.size(), 1u);
    EXPECT_EQ(attachments[0].kind, bus::IrqKind::MsiX);
    EXPECT_EQ(attachments[0].vector_index, 0u);
    EXPECT_EQ(attachments[0].cookie, 0u);
    EXPECT_FALSE(attachments[0].detached);
    // Queue 0 on MSI-X table entry 0, the device live, and no thread: it interrupts.
    EXPECT_EQ(function.model->queue_vector(), 0u);
    EXPECT_NE(function.model->status() & kDriverOk, 0);
    EXPECT_EQ(threads_.spawned(), 0u);

    EXPECT_EQ(device_.device_count(), 1u);
    block::BlockDeviceOrigin origin{};
    ASSERT_TRUE(device_.device_origin(0, &origin).is_ok());
    EXPECT_STREQ(reinterpret_cast<const char*>(origin.driver), "virtio_blk");
    EXPECT_STREQ(reinterpret_cast<const char*>(origin.location), "00:04.0");
    EXPECT_EQ(device_.device_origin(1, &origin).code(), UMKA_KABI_ENODEV);
    block::BlockGeometry geometry{};
    ASSERT_TRUE(device_.device_geometry(0, &geometry).is_ok());
    EXPECT_EQ(geometry.sector_count, kSectors);
    EXPECT_EQ(geometry.sector_size, 512u);
    EXPECT_EQ(geometry.queue_depth, VirtioBlkModel::kQueueSize);
    EXPECT_EQ(geometry.read_only, 0);
    EXPECT_EQ(geometry.supports_discard, 1);
    EXPECT_GT(geometry.max_request_sectors, 8u);
    EXPECT_EQ(device_.device_geometry(1, &geometry).code(), UMKA_KABI_ENODEV);
}

TEST_F(VirtioBlkDriver, WritesAndReadsCompleteByInterrupt) {
    FakeFunction& function = add_device();
    start();
    Buffer data = buffer(16);
    fill(data.memory, 8 * 512, 3);
    ASSERT_TRUE(submit(0, Operation::Write, 16, 8, data, 1).is_ok());
    ASSERT_TRUE(device_.device_kick(0).is_ok());
    // The device served it and would interrupt; nothing completes before the interrupt.
    EXPECT_EQ(world_.interrupts(0), 1u);
    EXPECT_EQ(completions_.count(), 0u);
    handler_.handle_interrupt(0);
    ASSERT_EQ(completions_.count(), 1u);
    EXPECT_EQ(completions_.all()[0].cookie, 1u);
    EXPECT_EQ(completions_.all()[0].result, 0);
    EXPECT_EQ(0, std::memcmp(function.model->disk().data() + 16 * 512, data.memory, 8 * 512));
    EXPECT_EQ(function.model->disk()[15 * 512 + 511], 0);  // nothing around it was touched
    EXPECT_EQ(function.model->disk()[24 * 512], 0);

    // Read back into the second half of the buffer (buffer_offset).
    ASSERT_TRUE(submit(0, Operation::Read, 16, 8, data, 2, 8 * 512).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 2u);
    EXPECT_EQ(completions_.all()[1].cookie, 2u);
    EXPECT_EQ(completions_.all()[1].result, 0);
    EXPECT_EQ(0, std::memcmp(data.memory + 8 * 512, data.memory, 8 * 512));

    // A flush is a request too.
    ASSERT_TRUE(submit(0, Operation::Flush, 0, 0, data, 3).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 3u);
    EXPECT_EQ(completions_.all()[2].result, 0);
    EXPECT_EQ(function.model->flushes(), 1u);
}

TEST_F(VirtioBlkDriver, ManyRequestsInFlightCompleteExactlyOnce) {
    FakeFunction& function = add_device();
    start();
    constexpr uint32_t kInFlight = 32;
    Buffer data = buffer(kInFlight);
    // Three rounds: the queue (64 entries) and its slots are reused.
    for (uint32_t round = 0; round < 3; ++round) {
        fill(data.memory, kInFlight * 512, uint8_t(round * 11));
        world_.hold(0, true);
        for (uint32_t index = 0; index < kInFlight; ++index) {
            uint64_t cookie = round * 1000 + index;
            ASSERT_TRUE(
                submit(0, Operation::Write, index * 2, 1, data, cookie, index * 512).is_ok())
                << round << " " << index;
        }
        ASSERT_TRUE(device_.device_kick(0).is_ok());
        // The device has served nothing yet: the interrupt is not the device's.
        EXPECT_EQ(handler_.handle_interrupt(0), bus::IrqOutcome::NotMine);
        EXPECT_EQ(completions_.count(), round * kInFlight);
        world_.serve(0);
        world_.hold(0, false);
        EXPECT_EQ(handler_.handle_interrupt(0), bus::IrqOutcome::Handled);
        ASSERT_EQ(completions_.count(), (round + 1) * kInFlight);
    }
    std::map<uint64_t, std::vector<int32_t>> seen = by_cookie();
    ASSERT_EQ(seen.size(), 3 * kInFlight);
    for (const auto& [cookie, results] : seen) {
        EXPECT_EQ(results, std::vector<int32_t>{0}) << "cookie " << cookie;
    }
    for (uint32_t index = 0; index < kInFlight; ++index) {
        ASSERT_EQ(0, std::memcmp(function.model->disk().data() + index * 2 * 512,
                                 data.memory + index * 512, 512))
            << index;
    }
}

TEST_F(VirtioBlkDriver, AFullQueueRefusesWithEagainUntilCompletionsFreeIt) {
    add_device();
    start();
    Buffer data = buffer(1);
    world_.hold(0, true);
    for (uint64_t cookie = 0; cookie < VirtioBlkModel::kQueueSize; ++cookie) {
        ASSERT_TRUE(submit(0, Operation::Read, cookie, 1, data, cookie).is_ok()) << cookie;
    }
    EXPECT_EQ(submit(0, Operation::Read, 0, 1, data, 999).code(), UMKA_KABI_EAGAIN);
    world_.serve(0);
    world_.hold(0, false);
    handler_.handle_interrupt(0);
    ASSERT_EQ(completions_.count(), VirtioBlkModel::kQueueSize);
    EXPECT_EQ(by_cookie().count(999), 0u);
    ASSERT_TRUE(submit(0, Operation::Read, 0, 1, data, 1000).is_ok());
    kick_and_interrupt();
    EXPECT_EQ(completions_.count(), VirtioBlkModel::kQueueSize + 1u);
}

TEST_F(VirtioBlkDriver, DiscardsAndAStatusNeverWrittenComplete) {
    FakeFunction& function = add_device();
    start();
    std::fill(function.model->disk().begin(), function.model->disk().end(), 0xAB);
    Buffer data = buffer(8);
    ASSERT_TRUE(submit(0, Operation::Discard, 64, 16, data, 1).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 1u);
    EXPECT_EQ(completions_.all()[0].result, 0);
    EXPECT_EQ(function.model->discarded_sectors(), 16u);
    EXPECT_EQ(function.model->disk()[64 * 512], 0);
    EXPECT_EQ(function.model->disk()[80 * 512], 0xAB);
    // A device that completes without writing the status byte: EIO, and the queue goes on.
    world_.set_fault(0, Fault::SilentStatus);
    ASSERT_TRUE(submit(0, Operation::Read, 0, 8, data, 2).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 2u);
    EXPECT_EQ(completions_.all()[1].result, UMKA_KABI_EIO);
    ASSERT_TRUE(submit(0, Operation::Read, 0, 8, data, 3).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 3u);
    EXPECT_EQ(completions_.all()[2].result, 0);
}

TEST_F(VirtioBlkDriver, RefusesBadRequestsBeforeTheDevice) {
    FakeFunction& function = add_device();
    start();
    block::BlockGeometry geometry{};
    ASSERT_TRUE(device_.device_geometry(0, &geometry).is_ok());
    Buffer data = buffer(8);
    EXPECT_EQ(submit(0, Operation::Read, kSectors - 4, 8, data, 1).code(), UMKA_KABI_ERANGE);
    EXPECT_EQ(submit(0, Operation::Write, kSectors, 1, data, 2).code(), UMKA_KABI_ERANGE);
    EXPECT_EQ(submit(0, Operation::Read, 0, geometry.max_request_sectors + 8, data, 3).code(),
              UMKA_KABI_E2BIG);
    // 2^23 sectors are 4 GiB: more than a virtio request's 32-bit length.
    EXPECT_EQ(submit(0, Operation::Read, 0, 1u << 23, data, 4).code(), UMKA_KABI_E2BIG);
    EXPECT_EQ(submit(0, Operation(99), 0, 1, data, 5).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(device_.device_submit(0, nullptr).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(submit(1, Operation::Read, 0, 1, data, 6).code(), UMKA_KABI_ENODEV);
    EXPECT_EQ(device_.device_kick(1).code(), UMKA_KABI_ENODEV);
    kick_and_interrupt();
    EXPECT_EQ(function.model->requests(), 0u);
    EXPECT_EQ(completions_.count(), 0u);
}

TEST_F(VirtioBlkDriver, RefusesWritesToAReadOnlyDeviceAndUnalignedBlocks) {
    FakeFunction& function = add_device(kFeatures | virtio::block::kFeatureReadOnly);
    function.model->set_block_size(4096);
    start();
    EXPECT_TRUE(
        logged("virtio-blk 00:04.0: 2048 sectors, block 4096, queue 64, read-only, "
               "flush, discard, MSI-X"))
        << log_text();
    block::BlockGeometry geometry{};
    ASSERT_TRUE(device_.device_geometry(0, &geometry).is_ok());
    EXPECT_EQ(geometry.read_only, 1);
    EXPECT_EQ(geometry.sector_size, 4096u);
    Buffer data = buffer(8);
    EXPECT_EQ(submit(0, Operation::Write, 0, 8, data, 1).code(), UMKA_KABI_EROFS);
    EXPECT_EQ(submit(0, Operation::Read, 1, 8, data, 2).code(), UMKA_KABI_EINVAL);  // unaligned
    EXPECT_EQ(submit(0, Operation::Read, 0, 4, data, 3).code(), UMKA_KABI_EINVAL);  // half a block
    EXPECT_EQ(function.model->requests(), 0u);
    // A read is still served.
    fill(function.model->disk().data() + 8 * 512, 8 * 512, 9);
    ASSERT_TRUE(submit(0, Operation::Read, 8, 8, data, 4).is_ok());
    kick_and_interrupt();
    ASSERT_EQ(completions_.count(), 1u);
    EXPECT_EQ(completions_.all()[0].result, 0);
    EXPECT_EQ(0, std::memcmp(data.memory, function.model->disk().data() + 8 * 512, 8 * 512));
}

TEST_F(VirtioBlkDriver, TwoDevicesAreServedInBindOrder) {
    FakeFunction& first = add_device();
    FakeFunction& second = add_device(kFeatures, 4096);
    start();
    EXPECT_TRUE(logged("virtio-blk 00:04.0: 2048 sectors")) << log_text();
    EXPECT_TRUE(logged("virtio-blk 00:05.0: 4096 sectors")) << log_text();
    EXPECT_EQ(device_.device_count(), 2u);
    std::vector<Attachment> attachments = world_.attachments();
    ASSERT_EQ(attachments.size(), 2u);
    EXPECT_EQ(attachments[1].vector_index, 1u << 11);  // device ordinal 1, table entry 0
    EXPECT_EQ(attachments[1].cookie, 1u);
    Buffer data = buffer(8);
    fill(data.memory, 8 * 512, 5);
    ASSERT_TRUE(submit(1, Operation::Write, 4000, 8, data, 7).is_ok());
    ASSERT_TRUE(device_.device_kick(1).is_ok());
    // Device 0's interrupt completes nothing of device 1.
    EXPECT_EQ(handler_.handle_interrupt(0), bus::IrqOutcome::NotMine);
    EXPECT_EQ(completions_.count(), 0u);
    EXPECT_EQ(handler_.handle_interrupt(1), bus::IrqOutcome::Handled);
    ASSERT_EQ(completions_.count(), 1u);
    EXPECT_EQ(completions_.all()[0].cookie, 7u);
    EXPECT_EQ(0, std::memcmp(second.model->disk().data() + 4000 * 512, data.memory, 8 * 512));
    EXPECT_EQ(first.model->requests(), 0u);
}

}  // namespace
}  // namespace umka::virtio_blk_test
