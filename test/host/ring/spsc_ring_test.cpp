// The SPSC ring and the ring-pair layout on one thread: creation and attach checks, the
// cache-line layout, full/empty, FIFO order across many wraps and across 2^64, the doorbell
// decision, the sleep/re-check protocol with scripted "other side" actions, close, and a
// producer that lies about its head.
#include "nucleus/ring/spsc_ring.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "nucleus/ring/ring_pair.h"
#include "test/host/ring/ring_test_support.h"

namespace {

using umka::Errno;
using umka::ring::kCacheLineSize;
using umka::ring::kUnknownCpu;
using umka::ring::RingPair;
using umka::ring::RingParty;
using umka::ring::RingSignals;
using umka::ring::SleepState;
using umka::ring::SpscConsumer;
using umka::ring::SpscProducer;
using umka::ring::SpscRingControl;
using umka::ring::WaitOutcome;
using umka::ring::testing::Pair;
using umka::ring::testing::RingMemory;
using umka::ring::testing::ScriptedSignals;
using Request = umka_kabi_ring_request;

struct Ends {
    Ends(const RingPair& pair, const RingSignals* signals)
        : producer(pair.requests(), signals, RingParty::Caller, RingParty::Provider),
          consumer(pair.requests(), signals, RingParty::Provider, RingParty::Caller) {}
    SpscProducer<Request> producer;
    SpscConsumer<Request> consumer;

    bool push(uint64_t value) {
        Request* slot = producer.try_reserve();
        if (slot == nullptr) return false;
        std::memset(slot, 0, sizeof(*slot));
        std::memcpy(slot->payload, &value, sizeof(value));
        producer.publish();
        return true;
    }
    bool stage(uint64_t value) {
        Request* slot = producer.try_reserve();
        if (slot == nullptr) return false;
        std::memset(slot, 0, sizeof(*slot));
        std::memcpy(slot->payload, &value, sizeof(value));
        producer.stage();
        return true;
    }
    bool pop(uint64_t& value) {
        const Request* entry = consumer.peek();
        if (entry == nullptr) return false;
        std::memcpy(&value, entry->payload, sizeof(value));
        consumer.consume();
        consumer.release();
        return true;
    }
};

TEST(RingPairLayout, ControlLinesAreSeparateAndEntriesAligned) {
    EXPECT_EQ(offsetof(SpscRingControl, head), 0u);
    EXPECT_EQ(offsetof(SpscRingControl, producer_state), kCacheLineSize);
    EXPECT_EQ(offsetof(SpscRingControl, tail), 2 * kCacheLineSize);
    EXPECT_EQ(offsetof(SpscRingControl, consumer_state), 3 * kCacheLineSize);
    EXPECT_EQ(RingPair::bytes_for(8), 9 * kCacheLineSize + 2 * 8 * UMKA_KABI_RING_ENTRY_SIZE);

    Pair pair(8);
    auto base = reinterpret_cast<uintptr_t>(pair.memory.data());
    auto requests = reinterpret_cast<uintptr_t>(pair.pair.requests().entries());
    auto completions = reinterpret_cast<uintptr_t>(pair.pair.completions().entries());
    EXPECT_EQ(requests - base, 9 * kCacheLineSize);
    EXPECT_EQ(completions - requests, 8 * UMKA_KABI_RING_ENTRY_SIZE);
    EXPECT_EQ(requests % kCacheLineSize, 0u);
    EXPECT_EQ(completions % kCacheLineSize, 0u);
    EXPECT_EQ(pair.pair.requests().control()->head, 0u);
    EXPECT_FALSE(pair.pair.is_closed());
}

TEST(RingPairLayout, CreateRefusesBadArgumentsAndNamesThem) {
    RingMemory memory(RingPair::bytes_for(16));
    const char* reason = nullptr;
    auto expect_refusal = [&](umka::Result<RingPair> result, Errno error, const char* words) {
        ASSERT_TRUE(result.is_error());
        EXPECT_EQ(result.error(), error);
        ASSERT_NE(reason, nullptr);
        EXPECT_NE(std::string(reason).find(words), std::string::npos) << reason;
        reason = nullptr;
    };
    expect_refusal(RingPair::create(nullptr, memory.size(), 16, &reason), Errno::InvalidArgument,
                   "null");
    expect_refusal(
        RingPair::create(static_cast<uint8_t*>(memory.data()) + 8, memory.size() - 8, 8, &reason),
        Errno::InvalidArgument, "aligned");
    for (uint32_t count : {0u, 1u, 12u, (1u << 21)}) {
        expect_refusal(RingPair::create(memory.data(), memory.size(), count, &reason),
                       Errno::InvalidArgument, "power of two");
    }
    expect_refusal(RingPair::create(memory.data(), RingPair::bytes_for(16) - 1, 16, &reason),
                   Errno::NoSpace, "smaller");
    EXPECT_TRUE(RingPair::create(memory.data(), memory.size(), 16, &reason).is_ok());
    EXPECT_TRUE(RingPair::create(memory.data(), memory.size(), 2, &reason).is_ok());
}

TEST(RingPairLayout, AttachChecksTheHeaderAndSharesState) {
    Pair created(4);
    const char* reason = nullptr;
    auto attached = RingPair::attach(created.memory.data(), created.memory.size(), &reason);
    ASSERT_TRUE(attached.is_ok()) << reason;
    EXPECT_EQ(attached.value().entry_count(), 4u);
    EXPECT_EQ(attached.value().requests().control(), created.pair.requests().control());

    auto* header = static_cast<umka::ring::RingPairHeader*>(created.memory.data());
    EXPECT_EQ(RingPair::attach(created.memory.data(), RingPair::bytes_for(4) - 1, &reason).error(),
              Errno::NoSpace);
    header->entry_count = 8;  // claims more entries than the block holds
    EXPECT_EQ(RingPair::attach(created.memory.data(), created.memory.size(), &reason).error(),
              Errno::NoSpace);
    header->entry_count = 4;
    header->total_bytes += 64;
    EXPECT_EQ(RingPair::attach(created.memory.data(), created.memory.size(), &reason).error(),
              Errno::BadMessage);
    EXPECT_NE(std::string(reason).find("size record"), std::string::npos);
    header->total_bytes -= 64;
    header->entry_size = 64;
    EXPECT_EQ(RingPair::attach(created.memory.data(), created.memory.size(), &reason).error(),
              Errno::BadMessage);
    header->entry_size = UMKA_KABI_RING_ENTRY_SIZE;
    header->magic ^= 1;
    EXPECT_EQ(RingPair::attach(created.memory.data(), created.memory.size(), &reason).error(),
              Errno::BadMessage);
    EXPECT_NE(std::string(reason).find("magic"), std::string::npos);
}

TEST(SpscRing, FullAndEmptyAndFifoAcrossManyWraps) {
    Pair pair(4);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    uint64_t value = 0;
    EXPECT_FALSE(ends.pop(value));
    for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(ends.push(100 + i));
    EXPECT_FALSE(ends.push(999)) << "a ring of 4 accepted a fifth entry";
    EXPECT_EQ(ends.producer.occupancy(), 4u);

    // Consumed but not released: the producer must still see the ring full.
    ASSERT_NE(ends.consumer.peek(), nullptr);
    ends.consumer.consume();
    EXPECT_EQ(ends.producer.try_reserve(), nullptr) << "slot reused before release()";
    ends.consumer.release();
    EXPECT_NE(ends.producer.try_reserve(), nullptr);

    uint64_t next_push = 104, next_pop = 101;
    for (int round = 0; round < 1000; ++round) {
        while (ends.push(next_push)) ++next_push;
        int taken = round % 4 + 1;
        for (int i = 0; i < taken && ends.pop(value); ++i) {
            ASSERT_EQ(value, next_pop) << "out of order in round " << round;
            ++next_pop;
        }
    }
    while (ends.pop(value)) ASSERT_EQ(value, next_pop++);
    EXPECT_EQ(next_pop, next_push);
    EXPECT_GT(pair.pair.requests().published(), 1000u) << "did not wrap many times";
    EXPECT_TRUE(scripted.wakes.empty()) << "a doorbell without a sleeper";
}

TEST(SpscRing, IndicesCrossTwoToTheSixtyFour) {
    Pair pair(4);
    SpscRingControl* control = pair.pair.requests().control();
    control->head = control->tail = ~uint64_t{0} - 5;  // six entries before the wrap
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    uint64_t value = 0, next_pop = 0;
    for (uint64_t i = 0; i < 40; ++i) {
        ASSERT_TRUE(ends.push(i));
        if (i % 3 == 2) {
            while (ends.pop(value)) ASSERT_EQ(value, next_pop++);
        }
        if (ends.producer.occupancy() == 4) {
            while (ends.pop(value)) ASSERT_EQ(value, next_pop++);
        }
    }
    while (ends.pop(value)) ASSERT_EQ(value, next_pop++);
    EXPECT_EQ(next_pop, 40u);
    EXPECT_LT(control->head, 64u) << "the head did not wrap";
}

TEST(SpscRing, PublishRingsOnlyForASleepingConsumerAndOnlyOnce) {
    Pair pair(8);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    SpscRingControl* control = pair.pair.requests().control();
    EXPECT_TRUE(ends.push(1));
    EXPECT_TRUE(scripted.wakes.empty());

    control->consumer_cpu = 5;
    control->consumer_state = static_cast<uint32_t>(SleepState::Sleeping);
    EXPECT_TRUE(ends.push(2));
    ASSERT_EQ(scripted.wakes.size(), 1u);
    EXPECT_EQ(scripted.wakes[0].party, RingParty::Provider);
    EXPECT_EQ(scripted.wakes[0].cpu, 5u) << "the wake-up must carry the sleeper's CPU";
    EXPECT_EQ(control->consumer_state, static_cast<uint32_t>(SleepState::Running));
    EXPECT_TRUE(ends.push(3));
    EXPECT_EQ(scripted.wakes.size(), 1u) << "a second doorbell for one sleep";
    EXPECT_EQ(pair.pair.counters().request_doorbells, 1u);
    EXPECT_EQ(pair.pair.counters().submitted, 3u);
}

TEST(SpscRing, StagedEntriesStayInvisibleUntilOneFlush) {
    Pair pair(4);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(ends.stage(i));
    EXPECT_EQ(ends.producer.staged(), 3u);
    EXPECT_EQ(ends.producer.next_index(), 3u);
    EXPECT_EQ(ends.consumer.peek(), nullptr) << "a staged entry was visible";
    EXPECT_EQ(pair.pair.requests().published(), 0u);
    EXPECT_EQ(ends.producer.occupancy(), 3u);
    ASSERT_TRUE(ends.stage(3));
    EXPECT_FALSE(ends.stage(4)) << "staged entries must count against the room";

    pair.pair.requests().control()->consumer_state = static_cast<uint32_t>(SleepState::Sleeping);
    ends.producer.flush();
    EXPECT_EQ(scripted.wakes.size(), 1u) << "one doorbell for the whole batch";
    EXPECT_EQ(pair.pair.requests().published(), 4u);
    ends.producer.flush();  // nothing staged: no store, no doorbell
    EXPECT_EQ(scripted.wakes.size(), 1u);
    uint64_t value = 0;
    for (uint64_t i = 0; i < 4; ++i) {
        ASSERT_TRUE(ends.pop(value));
        EXPECT_EQ(value, i);
    }
}

// Runs stop at the end of the entry array and at the other end's index, and mix with the
// one-entry calls: a burst of 3 in a ring of 8 at every offset, with partial takes.
TEST(SpscRing, RunsStopAtTheWrapAndAtTheOtherEnd) {
    Pair pair(8);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    uint64_t count = 99;
    EXPECT_EQ(ends.consumer.peek_run(4, count), nullptr);
    EXPECT_EQ(count, 0u);

    uint64_t next_push = 0, next_pop = 0;
    for (int round = 0; round < 200; ++round) {
        // Fill up to 3 with runs; a run never crosses the end of the array.
        for (uint64_t wanted = 3; wanted > 0;) {
            Request* run = ends.producer.try_reserve_run(wanted, count);
            if (run == nullptr) break;
            uint64_t first_slot = ends.producer.next_index() % 8;
            ASSERT_LE(first_slot + count, 8u) << "a run crossed the end of the array";
            for (uint64_t i = 0; i < count; ++i) {
                std::memset(&run[i], 0, sizeof(Request));
                uint64_t value = next_push++;
                std::memcpy(run[i].payload, &value, sizeof(value));
            }
            ends.producer.stage(count);
            wanted -= count;
        }
        ends.producer.flush();
        ASSERT_LE(ends.producer.occupancy(), 8u);
        // Take round % 3 + 1 entries with runs, the rest of the time one by one.
        uint64_t take = round % 3 + 1;
        while (take > 0) {
            const Request* run = ends.consumer.peek_run(take, count);
            if (run == nullptr) break;
            uint64_t first_slot = ends.consumer.tail() % 8;
            ASSERT_LE(first_slot + count, 8u);
            for (uint64_t i = 0; i < count; ++i) {
                uint64_t value = 0;
                std::memcpy(&value, run[i].payload, sizeof(value));
                ASSERT_EQ(value, next_pop++) << "out of order in round " << round;
            }
            ends.consumer.consume(count);
            take -= count;
        }
        ends.consumer.release();
    }
    uint64_t value = 0;
    while (ends.pop(value)) ASSERT_EQ(value, next_pop++);
    EXPECT_EQ(next_pop, next_push);

    // A full ring gives no run; a consumed but unreleased slot is not free.
    while (ends.push(next_push)) ++next_push;
    EXPECT_EQ(ends.producer.try_reserve_run(1, count), nullptr);
    EXPECT_EQ(count, 0u);
    ASSERT_NE(ends.consumer.peek_run(2, count), nullptr);
    ends.consumer.consume(count);
    EXPECT_EQ(ends.producer.try_reserve_run(1, count), nullptr) << "slot reused before release()";
    ends.consumer.release();
    EXPECT_NE(ends.producer.try_reserve_run(8, count), nullptr);
    EXPECT_GE(count, 1u);
    EXPECT_LE(count, 2u);
    EXPECT_TRUE(scripted.wakes.empty()) << "a doorbell without a sleeper";
}

TEST(SpscRing, WaitForSpacePublishesStagedEntriesBeforeSleeping) {
    Pair pair(2);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    ASSERT_TRUE(ends.stage(10));
    ASSERT_TRUE(ends.stage(11));
    EXPECT_EQ(ends.producer.try_reserve(), nullptr);
    uint64_t popped = 0;
    scripted.on_wait = [&](RingParty) {
        // The consumer must be able to see what the producer waits behind.
        ASSERT_TRUE(ends.pop(popped)) << "the staged entries were not flushed before sleeping";
    };
    EXPECT_EQ(ends.producer.wait_for_space(), WaitOutcome::Ready);
    EXPECT_EQ(popped, 10u);
    EXPECT_EQ(ends.producer.staged(), 0u);
}

TEST(SpscRing, ConsumerWaitsOnlyWhenEmptyAndWakesOnPublish) {
    Pair pair(8);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    ASSERT_TRUE(ends.push(7));
    EXPECT_EQ(ends.consumer.wait_for_entries(), WaitOutcome::Ready);
    EXPECT_EQ(scripted.waits, 0) << "slept with an entry ready";
    uint64_t value = 0;
    ASSERT_TRUE(ends.pop(value));

    // While the consumer sleeps the "producer" publishes: it must see Sleeping and ring.
    scripted.on_wait = [&](RingParty sleeper) {
        EXPECT_EQ(sleeper, RingParty::Provider);
        EXPECT_EQ(pair.pair.requests().control()->consumer_cpu, 3u);
        ASSERT_TRUE(ends.push(8));
    };
    EXPECT_EQ(ends.consumer.wait_for_entries(), WaitOutcome::Ready);
    EXPECT_EQ(scripted.waits, 1);
    ASSERT_EQ(scripted.wakes.size(), 1u);
    EXPECT_EQ(scripted.wakes[0].cpu, 3u);
    EXPECT_EQ(pair.pair.requests().control()->consumer_state,
              static_cast<uint32_t>(SleepState::Running));
    ASSERT_TRUE(ends.pop(value));
    EXPECT_EQ(value, 8u);
}

TEST(SpscRing, SpuriousReturnsFromWaitSleepAgain) {
    Pair pair(8);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    scripted.on_wait = [&](RingParty) {
        if (scripted.waits == 3) {  // two spurious returns first
            ASSERT_TRUE(ends.push(42));
        }
    };
    EXPECT_EQ(ends.consumer.wait_for_entries(), WaitOutcome::Ready);
    EXPECT_EQ(scripted.waits, 3);
    EXPECT_EQ(scripted.wakes.size(), 1u);
}

TEST(SpscRing, CloseEndsWaitsAndLeftoversAreStillReadable) {
    Pair pair(8);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    scripted.on_wait = [&](RingParty) {
        pair.pair.requests().close(scripted.signals, RingParty::Caller, RingParty::Provider);
    };
    EXPECT_EQ(ends.consumer.wait_for_entries(), WaitOutcome::Closed);
    ASSERT_EQ(scripted.wakes.size(), 1u) << "close() must wake the sleeper";
    EXPECT_EQ(pair.pair.counters().doorbells, 0u) << "a close is not a doorbell";

    // Entries published before close stay readable; Closed only once they are gone.
    Pair second(8);
    Ends more(second.pair, &scripted.signals);
    ASSERT_TRUE(more.push(1));
    second.pair.close(scripted.signals);
    EXPECT_TRUE(second.pair.is_closed());
    EXPECT_EQ(more.consumer.wait_for_entries(), WaitOutcome::Ready);
    uint64_t value = 0;
    ASSERT_TRUE(more.pop(value));
    EXPECT_EQ(more.consumer.wait_for_entries(), WaitOutcome::Closed);
}

TEST(SpscRing, FullProducerWaitsAndTheConsumerWakesIt) {
    Pair pair(2);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    ASSERT_TRUE(ends.push(1));
    ASSERT_TRUE(ends.push(2));
    uint64_t popped = 0;
    scripted.on_wait = [&](RingParty sleeper) {
        EXPECT_EQ(sleeper, RingParty::Caller);
        ASSERT_TRUE(ends.pop(popped));  // the consumer frees a slot and must wake us
    };
    EXPECT_EQ(ends.producer.wait_for_space(), WaitOutcome::Ready);
    EXPECT_EQ(popped, 1u);
    EXPECT_EQ(scripted.waits, 1);
    ASSERT_EQ(scripted.wakes.size(), 1u);
    EXPECT_EQ(scripted.wakes[0].party, RingParty::Caller);
    auto counters = pair.pair.counters();
    EXPECT_EQ(counters.full_ring_waits, 1u);
    EXPECT_EQ(counters.space_wakeups, 1u);
    EXPECT_TRUE(ends.push(3));

    // A full ring that gets closed: Closed, not Ready.
    scripted.on_wait = [&](RingParty) { pair.pair.close(scripted.signals); };
    EXPECT_EQ(ends.producer.wait_for_space(), WaitOutcome::Closed);
}

TEST(SpscRing, AHeadTooFarAheadIsNotBelieved) {
    Pair pair(4);
    ScriptedSignals scripted;
    Ends ends(pair.pair, &scripted.signals);
    ASSERT_TRUE(ends.push(1));
    pair.pair.requests().control()->head = 1000;  // a producer claiming 1000 entries in 4 slots
    EXPECT_EQ(ends.consumer.peek(), nullptr);
    EXPECT_EQ(ends.consumer.available(), 0u);
    EXPECT_GE(ends.consumer.rejected_heads(), 1u);
    pair.pair.requests().control()->head = 1;
    uint64_t value = 0;
    ASSERT_TRUE(ends.pop(value));
    EXPECT_EQ(value, 1u);
}

TEST(SpscRing, UnknownCpuWhenTheBindingCannotTell) {
    Pair pair(4);
    ScriptedSignals scripted;
    scripted.signals.current_cpu = nullptr;
    Ends ends(pair.pair, &scripted.signals);
    scripted.on_wait = [&](RingParty) { ASSERT_TRUE(ends.push(1)); };
    EXPECT_EQ(ends.consumer.wait_for_entries(), WaitOutcome::Ready);
    ASSERT_EQ(scripted.wakes.size(), 1u);
    EXPECT_EQ(scripted.wakes[0].cpu, kUnknownCpu);
}

}  // namespace
