// The SDK's virtio library (transport.h, split_queue.h, block.h) against a virtio-blk device
// model: negotiation, geometry, reads and writes that reach the disk, many requests in
// flight, indirect and direct chains, event-index notification, every refusal before the
// device, and a device that lies (used ids, lengths, queue size 0, changing configuration,
// DEVICE_NEEDS_RESET, status never written).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "umka/virtio/block.h"
#include "virtio_blk_model.h"

namespace umka::virtio {
namespace {

using block::BlockQueue;
using block::Geometry;
using block::Operation;
using testing::Fault;
using testing::VirtioBlkModel;

// Host memory standing in for DMA memory: the device address is the pointer's value.
struct HostDma {
    explicit HostDma(uint64_t bytes)
        : memory(static_cast<uint8_t*>(std::aligned_alloc(4096, (bytes + 4095) & ~4095ull)),
                 &std::free),
          length(bytes) {
        std::memset(memory.get(), 0, length);
    }
    QueueMemory region() const {
        return QueueMemory{memory.get(), uint64_t(uintptr_t(memory.get())), length};
    }
    uint64_t device() const { return uint64_t(uintptr_t(memory.get())); }
    std::unique_ptr<uint8_t, decltype(&std::free)> memory;
    uint64_t length;
};

constexpr uint64_t kDiskSectors = 2048;  // 1 MiB
// Everything the driver can use except read-only (a test asks for that one).
constexpr uint64_t kAllFeatures = block::kDriverFeatures & ~block::kFeatureReadOnly;

class VirtioLibraryTest : public ::testing::Test {
protected:
    void bring_up(uint64_t device_features = kAllFeatures, uint16_t largest = 64) {
        model_ = std::make_unique<VirtioBlkModel>(kDiskSectors, device_features);
        transport_ = std::make_unique<Transport>(*model_, VirtioBlkModel::kLayout);
        ASSERT_EQ(transport_->negotiate(block::kDriverFeatures, &features_),
                  TransportProblem::None);
        ASSERT_TRUE(block::read_geometry(*transport_, features_, &geometry_));
        ASSERT_EQ(transport_->setup_queue(0, queue_, rings_.region(), largest, kNoVector),
                  TransportProblem::None);
        transport_->ready();
        ASSERT_TRUE(blocks_.initialize(queue_, slots_.region(), geometry_));
    }
    // Submits, notifies when asked, and collects every completion: token -> errno.
    int32_t submit(Operation operation, uint64_t sector, uint64_t address, uint32_t length,
                   uint64_t token) {
        uint16_t before = queue_.available_index();
        int32_t status = blocks_.submit(operation, sector, address, length, token);
        if (status == UMKA_KABI_OK && queue_.needs_notify(before)) transport_->notify(0);
        return status;
    }
    std::map<uint64_t, int32_t> drain_completions() {
        std::map<uint64_t, int32_t> done;
        uint64_t token = 0;
        int32_t result = 0;
        while (blocks_.poll(&token, &result) == PollResult::Completed) {
            EXPECT_EQ(done.count(token), 0u) << "token completed twice";
            done[token] = result;
        }
        return done;
    }
    int32_t run(Operation operation, uint64_t sector, uint64_t address, uint32_t length) {
        int32_t status = submit(operation, sector, address, length, 77);
        if (status != UMKA_KABI_OK) return status;
        std::map<uint64_t, int32_t> done = drain_completions();
        return done.count(77) ? done[77] : -1;
    }

    std::unique_ptr<VirtioBlkModel> model_;
    std::unique_ptr<Transport> transport_;
    HostDma rings_{SplitQueue::memory_bytes(64)};
    HostDma slots_{64 * block::kSlotBytes};
    HostDma data_{256 * 1024};
    SplitQueue queue_;
    BlockQueue blocks_;
    uint64_t features_ = 0;
    Geometry geometry_;
};

TEST_F(VirtioLibraryTest, NegotiatesAModernDeviceAndReadsItsGeometry) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    EXPECT_NE(features_ & kFeatureVersion1, 0u);
    EXPECT_NE(features_ & kFeatureIndirect, 0u);
    EXPECT_NE(features_ & kFeatureEventIndex, 0u);
    EXPECT_EQ(model_->driver_features(), features_);
    EXPECT_EQ(model_->status(),
              status::kAcknowledge | status::kDriver | status::kFeaturesOk | status::kDriverOk);
    EXPECT_EQ(geometry_.sectors, kDiskSectors);
    EXPECT_EQ(geometry_.block_size, 512u);
    EXPECT_EQ(geometry_.size_max, 65536u);
    EXPECT_EQ(geometry_.segment_max, 32u);
    EXPECT_TRUE(geometry_.flush);
    EXPECT_TRUE(geometry_.discard);
    EXPECT_FALSE(geometry_.read_only);
    EXPECT_EQ(queue_.size(), 64);
    EXPECT_EQ(model_->queue_size_set(), 64);
}

TEST_F(VirtioLibraryTest, WritesReachTheDiskAndReadsComeBack) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    uint8_t* data = data_.memory.get();
    for (uint32_t index = 0; index < 8192; ++index) data[index] = uint8_t(index * 13 + 1);
    ASSERT_EQ(run(Operation::Write, 100, data_.device(), 8192), UMKA_KABI_OK);
    EXPECT_EQ(std::memcmp(model_->disk().data() + 100 * 512, data, 8192), 0);
    std::memset(data + 65536, 0, 8192);
    ASSERT_EQ(run(Operation::Read, 100, data_.device() + 65536, 8192), UMKA_KABI_OK);
    EXPECT_EQ(std::memcmp(data + 65536, data, 8192), 0);
    ASSERT_EQ(run(Operation::Flush, 0, 0, 0), UMKA_KABI_OK);
    EXPECT_EQ(model_->flushes(), 1u);
    EXPECT_TRUE(model_->used_indirect());
}

TEST_F(VirtioLibraryTest, ATransferLargerThanSizeMaxIsSplitIntoSegments) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    model_->set_size_max(4096);
    ASSERT_TRUE(block::read_geometry(*transport_, features_, &geometry_));
    ASSERT_TRUE(blocks_.initialize(queue_, slots_.region(), geometry_));
    uint8_t* data = data_.memory.get();
    for (uint32_t index = 0; index < 16384; ++index) data[index] = uint8_t(index ^ 0x5A);
    ASSERT_EQ(run(Operation::Write, 0, data_.device(), 16384), UMKA_KABI_OK);
    EXPECT_EQ(model_->largest_chain(), 6);  // header, 4 data segments, status
    EXPECT_EQ(std::memcmp(model_->disk().data(), data, 16384), 0);
    EXPECT_EQ(blocks_.largest_transfer(), 4096u * block::kDataSegments);
    EXPECT_EQ(run(Operation::Read, 0, data_.device(), 4096 * 15), UMKA_KABI_E2BIG);
}

TEST_F(VirtioLibraryTest, ManyRequestsInFlightUpToTheQueueDepth) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    model_->hold(true);
    for (uint64_t token = 0; token < 64; ++token) {
        ASSERT_EQ(submit(Operation::Read, token * 8, data_.device() + token * 4096, 4096, token),
                  UMKA_KABI_OK)
            << token;
    }
    EXPECT_EQ(queue_.in_flight(), 64);
    EXPECT_EQ(submit(Operation::Read, 0, data_.device(), 512, 999), UMKA_KABI_EAGAIN);
    model_->serve();
    std::map<uint64_t, int32_t> done = drain_completions();
    EXPECT_EQ(done.size(), 64u);
    for (const auto& [token, result] : done) EXPECT_EQ(result, UMKA_KABI_OK) << token;
    EXPECT_EQ(queue_.in_flight(), 0);
    EXPECT_EQ(queue_.free_descriptors(), 64);
}

TEST_F(VirtioLibraryTest, DirectChainsWithoutIndirectDescriptors) {
    ASSERT_NO_FATAL_FAILURE(bring_up(kAllFeatures & ~kFeatureIndirect));
    EXPECT_EQ(features_ & kFeatureIndirect, 0u);
    model_->hold(true);
    // Each read is 3 descriptors: 21 fit in 64, the 22nd does not.
    for (uint64_t token = 0; token < 21; ++token) {
        ASSERT_EQ(submit(Operation::Read, token, data_.device() + token * 512, 512, token),
                  UMKA_KABI_OK);
    }
    EXPECT_EQ(queue_.free_descriptors(), 1);
    EXPECT_EQ(submit(Operation::Read, 0, data_.device(), 512, 99), UMKA_KABI_EAGAIN);
    model_->serve();
    EXPECT_EQ(drain_completions().size(), 21u);
    EXPECT_EQ(queue_.free_descriptors(), 64);
    EXPECT_FALSE(model_->used_indirect());
    model_->hold(false);
    ASSERT_EQ(run(Operation::Write, 5, data_.device(), 1024),
              UMKA_KABI_OK);  // the list still links
}

TEST_F(VirtioLibraryTest, EventIndexSkipsNotificationsTheDeviceDidNotAskFor) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    ASSERT_EQ(run(Operation::Read, 0, data_.device(), 512), UMKA_KABI_OK);
    uint64_t before = model_->notifications();
    model_->hold(true);
    model_->set_available_event(1000);  // "tell me when the index passes 1000"
    model_->serve();                    // publishes that
    ASSERT_EQ(submit(Operation::Read, 0, data_.device(), 512, 1), UMKA_KABI_OK);
    EXPECT_EQ(model_->notifications(), before);
}

TEST_F(VirtioLibraryTest, BadRequestsAreRefusedBeforeTheDeviceAndItKeepsWorking) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    uint64_t requests = model_->requests();
    EXPECT_EQ(run(Operation::Read, 0, data_.device(), 100), UMKA_KABI_EINVAL);  // not whole sectors
    EXPECT_EQ(run(Operation::Read, 0, data_.device(), 0), UMKA_KABI_EINVAL);
    EXPECT_EQ(run(Operation::Read, kDiskSectors, data_.device(), 512), UMKA_KABI_ERANGE);
    EXPECT_EQ(run(Operation::Read, kDiskSectors - 1, data_.device(), 1024), UMKA_KABI_ERANGE);
    EXPECT_EQ(run(Operation::Read, ~0ull, data_.device(), 512), UMKA_KABI_ERANGE);
    EXPECT_EQ(run(Operation::Write, 0, data_.device(), 1u << 20), UMKA_KABI_E2BIG);
    EXPECT_EQ(model_->requests(), requests);
    EXPECT_EQ(run(Operation::Read, 8, data_.device(), 512), UMKA_KABI_OK);
}

TEST_F(VirtioLibraryTest, ABlockSizeLargerThanASectorAlignsRequests) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    model_->set_block_size(4096);
    ASSERT_TRUE(block::read_geometry(*transport_, features_, &geometry_));
    ASSERT_TRUE(blocks_.initialize(queue_, slots_.region(), geometry_));
    EXPECT_EQ(run(Operation::Read, 1, data_.device(), 4096), UMKA_KABI_EINVAL);
    EXPECT_EQ(run(Operation::Read, 8, data_.device(), 512), UMKA_KABI_EINVAL);
    EXPECT_EQ(run(Operation::Read, 8, data_.device(), 4096), UMKA_KABI_OK);
    model_->set_block_size(1000);
    EXPECT_FALSE(block::read_geometry(*transport_, features_, &geometry_));
}

TEST_F(VirtioLibraryTest, AReadOnlyDeviceAnswersWritesWithEROFS) {
    ASSERT_NO_FATAL_FAILURE(bring_up(kAllFeatures | block::kFeatureReadOnly));
    EXPECT_TRUE(geometry_.read_only);
    EXPECT_EQ(run(Operation::Write, 0, data_.device(), 512), UMKA_KABI_EROFS);
    EXPECT_EQ(run(Operation::Discard, 0, 0, 512), UMKA_KABI_EROFS);
    EXPECT_EQ(run(Operation::Read, 0, data_.device(), 512), UMKA_KABI_OK);
}

TEST_F(VirtioLibraryTest, DiscardZeroesWhereOfferedAndIsRefusedWhereNot) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    std::memset(model_->disk().data(), 0xAB, 8 * 512);
    ASSERT_EQ(run(Operation::Discard, 0, 0, 4096), UMKA_KABI_OK);
    EXPECT_EQ(model_->discarded_sectors(), 8u);
    EXPECT_EQ(model_->disk()[0], 0);
    ASSERT_NO_FATAL_FAILURE(bring_up(kAllFeatures & ~block::kFeatureDiscard));
    EXPECT_EQ(run(Operation::Discard, 0, 0, 4096), UMKA_KABI_EOPNOTSUPP);
}

TEST_F(VirtioLibraryTest, AFlushTheDeviceDoesNotOfferIsRefused) {
    ASSERT_NO_FATAL_FAILURE(bring_up(kAllFeatures & ~block::kFeatureFlush));
    uint64_t requests = model_->requests();
    EXPECT_EQ(run(Operation::Flush, 0, 0, 0), UMKA_KABI_EOPNOTSUPP);
    EXPECT_EQ(model_->requests(), requests);
}

TEST_F(VirtioLibraryTest, InterruptsOffAndOnWithEventIndex) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    auto* available = reinterpret_cast<uint16_t*>(rings_.memory.get() +
                                                  (queue_.driver_area_address() - rings_.device()));
    queue_.disable_interrupts();
    EXPECT_EQ(available[0], 0);  // with EVENT_IDX the flag stays 0 (virtio 1.x 2.7.7.2)
    uint16_t event = available[2 + queue_.size()];
    ASSERT_EQ(run(Operation::Read, 0, data_.device(), 512), UMKA_KABI_OK);
    EXPECT_EQ(available[2 + queue_.size()], event);  // used_event not advanced while off
    model_->hold(true);
    ASSERT_EQ(submit(Operation::Read, 0, data_.device(), 512, 9), UMKA_KABI_OK);
    model_->serve();                          // completed while interrupts were off
    EXPECT_TRUE(queue_.enable_interrupts());  // so the driver polls once more
    EXPECT_EQ(drain_completions().size(), 1u);
    EXPECT_FALSE(queue_.enable_interrupts());
}

TEST_F(VirtioLibraryTest, InterruptsOffAndOnWithoutEventIndex) {
    ASSERT_NO_FATAL_FAILURE(bring_up(kAllFeatures & ~kFeatureEventIndex));
    auto* available = reinterpret_cast<uint16_t*>(rings_.memory.get() +
                                                  (queue_.driver_area_address() - rings_.device()));
    queue_.disable_interrupts();
    EXPECT_EQ(available[0], kAvailableNoInterrupt);
    EXPECT_FALSE(queue_.enable_interrupts());
    EXPECT_EQ(available[0], 0);
}

TEST_F(VirtioLibraryTest, ADoorbellOrConfigOutsideItsStructureOrARefusedVectorIsRefused) {
    model_ = std::make_unique<VirtioBlkModel>(kDiskSectors, kAllFeatures);
    Transport transport(*model_, VirtioBlkModel::kLayout);
    uint64_t accepted = 0;
    ASSERT_EQ(transport.negotiate(block::kDriverFeatures, &accepted), TransportProblem::None);
    model_->set_fault(Fault::NotifyOffsetHuge);  // 0xFFFF * 4 is past the 4 KiB structure
    EXPECT_EQ(transport.setup_queue(0, queue_, rings_.region(), 64, kNoVector),
              TransportProblem::NotifyOutside);
    model_->set_fault(Fault::RefuseVector);
    EXPECT_EQ(transport.setup_queue(0, queue_, rings_.region(), 64, 1),
              TransportProblem::VectorRefused);
    EXPECT_EQ(transport.setup_queue(0, queue_, rings_.region(), 64, kNoVector),
              TransportProblem::None);  // no vector asked, none to refuse
    uint8_t bytes[8];
    EXPECT_EQ(transport.read_config(0x1000 - 4, bytes, 8), TransportProblem::ConfigOutside);
    EXPECT_EQ(transport.read_config(0xFFFFFFFC, bytes, 8), TransportProblem::ConfigOutside);
}

TEST_F(VirtioLibraryTest, QueuesPastWhatTheTransportTracksAreRefused) {
    model_ = std::make_unique<VirtioBlkModel>(kDiskSectors, kAllFeatures);
    Transport transport(*model_, VirtioBlkModel::kLayout);
    uint64_t accepted = 0;
    ASSERT_EQ(transport.negotiate(block::kDriverFeatures, &accepted), TransportProblem::None);
    EXPECT_EQ(transport.setup_queue(8, queue_, rings_.region(), 64, kNoVector),
              TransportProblem::QueueMissing);
}

TEST_F(VirtioLibraryTest, ADeviceWithoutVersion1OrThatRefusesFeaturesIsRefused) {
    model_ = std::make_unique<VirtioBlkModel>(kDiskSectors, kAllFeatures);
    Transport transport(*model_, VirtioBlkModel::kLayout);
    uint64_t accepted = 0;
    model_->set_fault(Fault::NotModern);
    EXPECT_EQ(transport.negotiate(block::kDriverFeatures, &accepted), TransportProblem::NotModern);
    model_->set_fault(Fault::RefuseFeatures);
    EXPECT_EQ(transport.negotiate(block::kDriverFeatures, &accepted),
              TransportProblem::FeaturesRefused);
    model_->set_fault(Fault::None);
    EXPECT_EQ(transport.negotiate(block::kDriverFeatures, &accepted), TransportProblem::None);
}

TEST_F(VirtioLibraryTest, AQueueOfSizeZeroOrAConfigurationThatNeverSettlesIsRefused) {
    model_ = std::make_unique<VirtioBlkModel>(kDiskSectors, kAllFeatures);
    Transport transport(*model_, VirtioBlkModel::kLayout);
    uint64_t accepted = 0;
    ASSERT_EQ(transport.negotiate(block::kDriverFeatures, &accepted), TransportProblem::None);
    model_->set_fault(Fault::QueueSizeZero);
    EXPECT_EQ(transport.setup_queue(0, queue_, rings_.region(), 64, kNoVector),
              TransportProblem::QueueMissing);
    EXPECT_EQ(transport.setup_queue(3, queue_, rings_.region(), 64, kNoVector),
              TransportProblem::QueueMissing);
    model_->set_fault(Fault::ConfigAlwaysChanging);
    Geometry geometry;
    EXPECT_FALSE(block::read_geometry(transport, accepted, &geometry));
    EXPECT_EQ(transport.problem(), TransportProblem::ConfigUnstable);
    // Memory for 16 entries, a device offering 64: the queue is set up at 16.
    model_->set_fault(Fault::None);
    ASSERT_EQ(transport.setup_queue(0, queue_, rings_.region(), 16, kNoVector),
              TransportProblem::None);
    EXPECT_EQ(queue_.size(), 16);
    EXPECT_EQ(model_->queue_size_set(), 16);
}

TEST_F(VirtioLibraryTest, AUsedIdOutOfRangeBreaksTheQueueUntilAReset) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    model_->set_fault(Fault::UsedIdOutOfRange);
    ASSERT_EQ(submit(Operation::Read, 0, data_.device(), 512, 5), UMKA_KABI_OK);
    uint64_t token = 0;
    int32_t result = 0;
    EXPECT_EQ(blocks_.poll(&token, &result), PollResult::Broken);
    EXPECT_EQ(queue_.problem(), QueueProblem::UsedIdOutOfRange);
    EXPECT_EQ(submit(Operation::Read, 0, data_.device(), 512, 6), UMKA_KABI_EIO);
    // The driver resets the device; what was in flight completes with EIO, once.
    std::map<uint64_t, int32_t> failed;
    EXPECT_EQ(blocks_.fail_in_flight(
                  [&](uint64_t failed_token, int32_t error) { failed[failed_token] = error; }),
              1);
    EXPECT_EQ(failed, (std::map<uint64_t, int32_t>{{5, UMKA_KABI_EIO}}));
    ASSERT_NO_FATAL_FAILURE(bring_up());
    EXPECT_EQ(run(Operation::Read, 0, data_.device(), 512), UMKA_KABI_OK);
}

TEST_F(VirtioLibraryTest, AUsedLengthLargerThanTheBuffersBreaksTheQueue) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    model_->set_fault(Fault::UsedLengthTooLarge);
    ASSERT_EQ(submit(Operation::Read, 0, data_.device(), 512, 5), UMKA_KABI_OK);
    uint64_t token = 0;
    int32_t result = 0;
    EXPECT_EQ(blocks_.poll(&token, &result), PollResult::Broken);
    EXPECT_EQ(queue_.problem(), QueueProblem::UsedLengthTooLarge);
    EXPECT_STREQ(queue_problem_name(queue_.problem()),
                 "used length larger than the request's buffers");
}

TEST_F(VirtioLibraryTest, DeviceNeedsResetIsSeenAndInFlightRequestsFailOnce) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    model_->set_fault(Fault::NeedsResetAfterNext);
    ASSERT_EQ(submit(Operation::Write, 0, data_.device(), 512, 1), UMKA_KABI_OK);
    EXPECT_TRUE(transport_->needs_reset());
    EXPECT_EQ(transport_->interrupt_status() & 2, 2);  // a configuration-change interrupt
    EXPECT_EQ(drain_completions().size(), 0u);
    std::vector<uint64_t> failed;
    blocks_.fail_in_flight([&](uint64_t token, int32_t) { failed.push_back(token); });
    EXPECT_EQ(failed, std::vector<uint64_t>{1});
    EXPECT_EQ(blocks_.fail_in_flight([&](uint64_t token, int32_t) { failed.push_back(token); }), 0);
    EXPECT_EQ(transport_->reset(), TransportProblem::None);
    EXPECT_EQ(model_->status(), 0);
}

TEST_F(VirtioLibraryTest, AStatusTheDeviceNeverWroteIsAnError) {
    ASSERT_NO_FATAL_FAILURE(bring_up());
    model_->set_fault(Fault::SilentStatus);
    EXPECT_EQ(run(Operation::Read, 0, data_.device(), 512), UMKA_KABI_EIO);
    EXPECT_EQ(run(Operation::Read, 0, data_.device(), 512), UMKA_KABI_OK);
}

TEST(SplitQueue, ADeviceRewritingTheTableDoesNotCorruptTheFreeList) {
    // Found by the used-ring fuzzer's author: release used to follow the table's `next`.
    HostDma memory(SplitQueue::memory_bytes(4));
    HostDma data(4096);
    SplitQueue queue;
    ASSERT_TRUE(queue.initialize(memory.region(), 4, false, false));
    Segment two[2] = {{data.device(), 16, false}, {data.device() + 16, 1, true}};
    ASSERT_EQ(queue.submit(two, 2, 1), SubmitResult::Submitted);  // descriptors 0, 1
    ASSERT_EQ(queue.submit(two, 2, 2), SubmitResult::Submitted);  // descriptors 2, 3
    auto* table = reinterpret_cast<Descriptor*>(memory.memory.get());
    table[0].next = 2;  // the device relinks request 1 into request 2
    // It completes request 1 (head 0), writing the used ring the way a device does.
    auto* used = reinterpret_cast<uint16_t*>(memory.memory.get() + queue.device_area_address() -
                                             memory.device());
    reinterpret_cast<UsedElement*>(used + 2)[0] = UsedElement{0, 1};
    __atomic_store_n(&used[1], uint16_t(1), __ATOMIC_RELEASE);
    Completion completion{};
    ASSERT_EQ(queue.poll(&completion), PollResult::Completed);
    EXPECT_EQ(completion.token, 1u);
    EXPECT_EQ(queue.free_descriptors(), 2);
    // Request 2's descriptors are still its own: the next request takes 0 and 1 again.
    Segment other[2] = {{data.device() + 1024, 16, false}, {data.device() + 2048, 1, true}};
    ASSERT_EQ(queue.submit(other, 2, 3), SubmitResult::Submitted);
    EXPECT_EQ(table[0].address, data.device() + 1024);
    EXPECT_EQ(table[1].address, data.device() + 2048);
    EXPECT_EQ(table[2].address, data.device());
    EXPECT_EQ(table[3].address, data.device() + 16);
    EXPECT_EQ(queue.free_descriptors(), 0);
}

TEST(SplitQueue, RefusesSizesAndMemoryItCannotUse) {
    HostDma memory(SplitQueue::memory_bytes(64));
    SplitQueue queue;
    EXPECT_FALSE(queue.initialize(memory.region(), 0, true, true));
    EXPECT_FALSE(queue.initialize(memory.region(), 48, true, true));
    EXPECT_FALSE(queue.initialize(memory.region(), 128, true, true));  // memory for 64 only
    QueueMemory misaligned = memory.region();
    misaligned.cpu += 8;
    misaligned.device += 8;
    EXPECT_FALSE(queue.initialize(misaligned, 16, true, true));
    EXPECT_TRUE(queue.initialize(memory.region(), 64, true, true));
    Segment empty{memory.device(), 0, false};
    EXPECT_EQ(queue.submit(&empty, 1, 1), SubmitResult::BadRequest);
    Segment many[kMaximumSegments + 1] = {};
    EXPECT_EQ(queue.submit(many, kMaximumSegments + 1, 1), SubmitResult::BadRequest);
    // Without indirect descriptors a request longer than the ring can never fit.
    HostDma small(SplitQueue::memory_bytes(4));
    ASSERT_TRUE(queue.initialize(small.region(), 4, false, false));
    Segment five[5];
    for (Segment& segment : five) segment = Segment{small.device(), 16, false};
    EXPECT_EQ(queue.submit(five, 5, 1), SubmitResult::BadRequest);
}

}  // namespace
}  // namespace umka::virtio
