// The writer of `load start serial N` (nucleus/sched/marker_writer.h) against a CharDevice
// provider served on the same thread: it keeps kQueuedWrites requests queued, resubmits
// what a short write left, counts exactly the bytes the provider reports, and stops on the
// first error with every outstanding request still accounted for.
#include "nucleus/sched/marker_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nucleus/ring/ring_provider.h"
#include "test/host/ring/ring_test_support.h"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/char_device_ring.hpp"

namespace {

using umka::Errno;
using umka::ring::RingCaller;
using umka::ring::RingParty;
using umka::ring::RingProvider;
using umka::ring::testing::Pair;
using umka::ring::testing::ScriptedSignals;
using umka::sched::kMarkerByte;
using umka::sched::kMarkerWriteBytes;
using umka::sched::kQueuedWrites;
using umka::sched::MarkerWriter;
namespace char_device = umka::kabi::char_device;

// Takes at most `limit` bytes in each of its first `short_writes` writes (a short write
// beyond); fails with EIO from call number `fail_at` on.
struct ShortDevice {
    uint64_t limit = kMarkerWriteBytes;
    uint64_t short_writes = 0;
    uint64_t fail_at = ~uint64_t{0};
    std::string written;
    std::vector<uint64_t> requested;

    static int32_t info(void*, char_device::CharDeviceInfo*) { return 0; }
    static int32_t open(void*, char_device::OpenMode) { return 0; }
    static int32_t close(void*) { return 0; }
    static int32_t read(void*, void*, uint64_t, uint64_t* transferred) {
        *transferred = 0;
        return 0;
    }
    static int32_t write(void* context, const void* data, uint64_t length, uint64_t* transferred) {
        auto* self = static_cast<ShortDevice*>(context);
        *transferred = 0;
        if (self->requested.size() >= self->fail_at) return UMKA_KABI_EIO;
        bool short_write = self->requested.size() < self->short_writes;
        self->requested.push_back(length);
        uint64_t taken = short_write && length > self->limit ? self->limit : length;
        self->written.append(static_cast<const char*>(data), taken);
        *transferred = taken;
        return 0;
    }
    static int32_t control(void*, uint32_t, void*, uint64_t) { return UMKA_KABI_ENOTTY; }
    static int32_t poll(void*, char_device::PollEvents, char_device::PollEvents* ready) {
        *ready = char_device::PollEvents{};
        return 0;
    }
};

constexpr char_device::CharDeviceVtable kShortVtable =
    char_device::make_char_device_vtable<ShortDevice>();

struct Bench {
    explicit Bench(ShortDevice& device)
        : caller(pair.pair, &scripted.signals, writer.completion_handler()),
          provider(pair.pair, &scripted.signals),
          dispatch(&kShortVtable, &device) {
        writer.attach(&caller);
        // The provider runs whenever the writer would sleep for a completion; it records how
        // many requests were queued each time it found work.
        scripted.on_wait = [this](RingParty) {
            queued_at_serve.push_back(caller.outstanding());
            (void)umka::ring::serve(provider, dispatch.dispatcher(), 64);
        };
    }

    Pair pair{16};
    ScriptedSignals scripted;
    MarkerWriter writer;
    RingCaller caller;
    RingProvider provider;
    umka::ring::GeneratedDispatch<char_device::CharDeviceVtable,
                                  char_device::char_device_ring::dispatch>
        dispatch;
    std::vector<uint64_t> queued_at_serve;
};

TEST(MarkerWriter, KeepsWritesQueuedAndCountsEveryByteWritten) {
    ShortDevice device;
    Bench bench(device);
    for (int round = 0; round < 20; ++round) ASSERT_TRUE(bench.writer.step().is_ok());
    ASSERT_TRUE(bench.writer.finish().is_ok());
    EXPECT_EQ(bench.caller.outstanding(), 0u);
    ASSERT_FALSE(bench.queued_at_serve.empty());
    for (uint64_t queued : bench.queued_at_serve) EXPECT_EQ(queued, kQueuedWrites);
    EXPECT_EQ(bench.writer.bytes(), device.written.size());
    EXPECT_EQ(bench.writer.writes(), device.requested.size());
    EXPECT_EQ(device.written, std::string(device.written.size(), kMarkerByte));
    EXPECT_EQ(device.written.size() % kMarkerWriteBytes, 0u);
}

TEST(MarkerWriter, ResubmitsTheRestOfAShortWrite) {
    ShortDevice device;
    device.limit = 20;  // the first write takes 20 of its 32: 12 must come back as a request
    device.short_writes = 1;
    Bench bench(device);
    for (int round = 0; round < 10; ++round) ASSERT_TRUE(bench.writer.step().is_ok());
    ASSERT_TRUE(bench.writer.finish().is_ok());
    EXPECT_EQ(bench.writer.bytes(), device.written.size());
    EXPECT_EQ(device.written, std::string(device.written.size(), kMarkerByte));
    size_t rests = 0;
    for (uint64_t length : device.requested) {
        EXPECT_TRUE(length == kMarkerWriteBytes || length == 12) << "a request of " << length;
        rests += length == 12 ? 1 : 0;
    }
    EXPECT_EQ(rests, 1u) << "the short write's rest was not submitted again exactly once";
    // 12 + 20 bytes: as many as whole requests would have written.
    EXPECT_EQ(device.written.size() % kMarkerWriteBytes, 0u);
}

TEST(MarkerWriter, StopsOnTheFirstErrorWithEveryWrittenByteCounted) {
    ShortDevice device;
    device.fail_at = 13;
    Bench bench(device);
    Errno stopped = Errno::Ok;
    for (int round = 0; round < 20 && stopped == Errno::Ok; ++round) {
        stopped = bench.writer.step().error();
    }
    EXPECT_EQ(stopped, Errno::IoError);
    EXPECT_EQ(bench.writer.step().error(), Errno::IoError) << "a stopped writer went on";
    EXPECT_EQ(bench.writer.finish().error(), Errno::IoError);
    EXPECT_EQ(bench.caller.outstanding(), 0u);
    EXPECT_EQ(device.requested.size(), 13u);
    EXPECT_EQ(bench.writer.bytes(), 13 * kMarkerWriteBytes);
    EXPECT_EQ(bench.writer.bytes(), device.written.size());
}

}  // namespace
