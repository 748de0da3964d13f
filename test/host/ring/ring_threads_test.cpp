// Producer and consumer on two threads, with condition-variable signals: millions of
// messages through a raw SPSC ring and through a caller/provider binding. Every message
// carries its sequence number, so one comparison per message proves no loss, no
// duplicate and order kept. Tiny rings and a consumer that stalls now and then make the
// producer wait (backpressure); a busy consumer shows doorbell coalescing, a slow
// producer shows that a sleeping consumer does get rung. Built twice: in ring_test (ASan)
// and alone as ring_tsan_test (ThreadSanitizer, fewer messages).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "nucleus/ring/ring_caller.h"
#include "nucleus/ring/ring_provider.h"
#include "test/host/ring/ring_test_support.h"

// ThreadSanitizer builds send fewer messages and stretch deliberate delays, since every
// instrumented access there costs 5-15x more.
#ifndef UMKA_RING_TEST_MESSAGE_DIVISOR
#define UMKA_RING_TEST_MESSAGE_DIVISOR 1
#endif
#ifndef UMKA_RING_TEST_SLOWDOWN
#define UMKA_RING_TEST_SLOWDOWN 1
#endif

namespace {

using umka::ring::CompletionHandler;
using umka::ring::RingCaller;
using umka::ring::RingParty;
using umka::ring::RingProvider;
using umka::ring::SpscConsumer;
using umka::ring::SpscProducer;
using umka::ring::WaitOutcome;
using umka::ring::testing::EchoDispatcher;
using umka::ring::testing::Pair;
using umka::ring::testing::PeerBarrier;
using umka::ring::testing::put_sequence;
using umka::ring::testing::sequence_of;
using umka::ring::testing::ThreadSignals;
using Completion = umka_kabi_ring_completion;
using Request = umka_kabi_ring_request;

constexpr uint64_t messages(uint64_t count) {
    return count / UMKA_RING_TEST_MESSAGE_DIVISOR;
}

void busy_for(std::chrono::nanoseconds duration) {
    auto until = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < until) {
    }
}

struct StreamOptions {
    uint32_t entries;
    uint32_t spin_polls;
    uint64_t count;
    uint64_t consumer_stall_every;  // consumer sleeps 50 µs every N messages (0: never)
    std::chrono::nanoseconds consumer_work{0};
    std::chrono::nanoseconds producer_pause{0};
    // Membarrier: plain index stores, sleepers run the barrier (IndexOrder::PeerBarrier);
    // None: sequentially consistent index stores (IndexOrder::Fenced, the kernel's choice).
    PeerBarrier barrier = PeerBarrier::Membarrier;
    // Both ends move runs (try_reserve_run of up to 5, peek_run of up to 3) instead of
    // one entry at a time.
    bool runs = false;
};

struct StreamResult {
    uint64_t received = 0;
    uint64_t first_bad_index = ~uint64_t{0};
    uint64_t first_bad_value = 0;
    umka::ring::RingCounters counters{};
    uint64_t stalls = 0;
};

// Producer thread: sequence numbers 0..count-1, then close. Consumer (this thread): checks
// each value is the next expected one and stops at Closed.
StreamResult stream(const StreamOptions& options) {
    Pair pair(options.entries);
    ThreadSignals signals(options.spin_polls, options.barrier);
    std::thread producer_thread([&] {
        SpscProducer<Request> producer(pair.pair.requests(), signals.signals(), RingParty::Caller,
                                       RingParty::Provider);
        for (uint64_t i = 0; i < options.count;) {
            if (options.runs) {
                uint64_t count = 0;
                uint64_t wanted = std::min<uint64_t>(5, options.count - i);
                Request* run = producer.try_reserve_run(wanted, count);
                if (run == nullptr) {
                    if (producer.wait_for_space() == WaitOutcome::Closed) return;
                    continue;
                }
                for (uint64_t k = 0; k < count; ++k) put_sequence(run[k], i + k);
                producer.stage(count);
                producer.flush();
                i += count;
                continue;
            }
            Request* slot;
            while ((slot = producer.try_reserve()) == nullptr) {
                if (producer.wait_for_space() == WaitOutcome::Closed) return;
            }
            put_sequence(*slot, i++);
            producer.publish();
            if (options.producer_pause.count() != 0)
                std::this_thread::sleep_for(options.producer_pause);
        }
        pair.pair.requests().close(*signals.signals(), RingParty::Caller, RingParty::Provider);
    });

    StreamResult result;
    SpscConsumer<Request> consumer(pair.pair.requests(), signals.signals(), RingParty::Provider,
                                   RingParty::Caller);
    auto take = [&](const Request& entry) {
        uint64_t value;
        std::memcpy(&value, entry.payload, sizeof(value));
        if (value != result.received && result.first_bad_index == ~uint64_t{0}) {
            result.first_bad_index = result.received;
            result.first_bad_value = value;
        }
        ++result.received;
    };
    for (;;) {
        if (options.runs) {
            uint64_t count = 0;
            const Request* run = consumer.peek_run(3, count);
            if (run == nullptr) {
                if (consumer.wait_for_entries() == WaitOutcome::Closed) break;
                continue;
            }
            for (uint64_t k = 0; k < count; ++k) take(run[k]);
            consumer.consume(count);
            consumer.release();
            continue;
        }
        const Request* entry = consumer.peek();
        if (entry == nullptr) {
            if (consumer.wait_for_entries() == WaitOutcome::Closed) break;
            continue;
        }
        take(*entry);
        consumer.consume();
        if (result.received % 8 == 0) consumer.release();  // batched hand-back
        if (options.consumer_work.count() != 0) busy_for(options.consumer_work);
        if (options.consumer_stall_every != 0 &&
            result.received % options.consumer_stall_every == 0) {
            consumer.release();
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
    producer_thread.join();
    result.counters = pair.pair.counters();
    result.stalls = signals.stalls();
    return result;
}

void expect_exact_stream(const StreamResult& result, uint64_t count) {
    EXPECT_EQ(result.first_bad_index, ~uint64_t{0})
        << "message " << result.first_bad_index << " carried " << result.first_bad_value
        << " (lost, duplicated or reordered)";
    EXPECT_EQ(result.received, count) << "messages lost or duplicated";
    EXPECT_EQ(result.counters.submitted, count);
    EXPECT_EQ(result.stalls, 0u) << "a sleeper waited 10 s: a lost wake-up";
}

TEST(RingThreads, TinyRingStreamKeepsEveryMessageInOrderUnderBackpressure) {
    const uint64_t count = messages(2'000'000);
    StreamResult result =
        stream({.entries = 4, .spin_polls = 64, .count = count, .consumer_stall_every = 4096});
    expect_exact_stream(result, count);
    EXPECT_GT(result.counters.full_ring_waits, 0u) << "backpressure never happened";
    EXPECT_GT(result.counters.space_wakeups, 0u) << "a waiting producer was never woken";
}

TEST(RingThreads, RunsAcrossTheWrapKeepEveryMessageInOrder) {
    // A ring of 8 with runs of up to 5 in and 3 out: runs end at the wrap and at the other
    // end's index; with no polling, every empty or full ring sleeps.
    const uint64_t count = messages(200'000);
    StreamResult result = stream(
        {.entries = 8, .spin_polls = 0, .count = count, .consumer_stall_every = 0, .runs = true});
    expect_exact_stream(result, count);
}

TEST(RingThreads, SleepingEndsOnEveryMessageStillLoseNothing) {
    // No polling: every empty or full ring goes through announce/re-check/sleep.
    const uint64_t count = messages(200'000);
    StreamResult result =
        stream({.entries = 2, .spin_polls = 0, .count = count, .consumer_stall_every = 1024});
    expect_exact_stream(result, count);
    EXPECT_GT(result.counters.full_ring_waits, 0u);
}

TEST(RingThreads, SleepingEndsLoseNothingWithFencedIndexStoresToo) {
    const uint64_t count = messages(200'000);
    StreamResult result = stream({.entries = 2,
                                  .spin_polls = 0,
                                  .count = count,
                                  .consumer_stall_every = 1024,
                                  .barrier = PeerBarrier::None});
    expect_exact_stream(result, count);
    EXPECT_GT(result.counters.full_ring_waits, 0u);
}

TEST(RingThreads, ABusyConsumerIsRarelyRung) {
    const uint64_t count = messages(1'000'000);
    StreamResult result =
        stream({.entries = 1024,
                .spin_polls = 0,
                .count = count,
                .consumer_stall_every = 0,
                .consumer_work = std::chrono::nanoseconds(500) * UMKA_RING_TEST_SLOWDOWN});
    expect_exact_stream(result, count);
    // The consumer sleeps only when it has emptied the ring; slower than the producer it
    // almost never does. One doorbell per hundred messages would already be a failure.
    EXPECT_LT(result.counters.request_doorbells * 100, count)
        << result.counters.request_doorbells << " doorbells for " << count << " messages";
    EXPECT_GT(result.counters.full_ring_waits, 0u) << "the consumer was not the slower side";
    std::printf("busy consumer: %llu doorbells, %llu full-ring waits for %llu messages\n",
                static_cast<unsigned long long>(result.counters.request_doorbells),
                static_cast<unsigned long long>(result.counters.full_ring_waits),
                static_cast<unsigned long long>(count));
}

TEST(RingThreads, ASleepingConsumerIsRungForEachSparseMessage) {
    const uint64_t count = messages(2'000);
    StreamResult result = stream({.entries = 64,
                                  .spin_polls = 0,
                                  .count = count,
                                  .consumer_stall_every = 0,
                                  .producer_pause = std::chrono::microseconds(200)});
    expect_exact_stream(result, count);
    // 200 µs between messages: the consumer is asleep for nearly every one.
    EXPECT_GT(result.counters.request_doorbells * 2, count)
        << result.counters.request_doorbells << " doorbells for " << count << " messages";
    EXPECT_LE(result.counters.request_doorbells, count);
    ThreadSignals probe;
    std::printf("index stores: %s\n",
                probe.has_peer_barrier() ? "release + peer barrier" : "fenced");
    std::printf("sparse producer: %llu doorbells for %llu messages\n",
                static_cast<unsigned long long>(result.counters.request_doorbells),
                static_cast<unsigned long long>(count));
}

// --- Through the binding: RingCaller on this thread, run_provider on another ------------

struct InOrder {
    uint64_t next = 0;
    uint64_t offset = 0;
    uint64_t bad = 0;
    CompletionHandler handler() {
        return {this, [](void* context, const Completion& completion) {
                    auto* self = static_cast<InOrder*>(context);
                    if (completion.request_id != self->next || completion.status != 0 ||
                        sequence_of(completion) != self->next + self->offset) {
                        ++self->bad;
                    }
                    ++self->next;
                }};
    }
};

// Submits `count` requests asynchronously (batched: flushed every 8, and by reserve()
// when it has to wait) to a provider thread that now and then stalls; checks every
// completion arrives once, in order, with the right answer.
void run_asynchronous_binding(uint64_t count, umka::ring::SubmitMode mode) {
    Pair pair(4);
    ThreadSignals signals(/*spin_polls=*/32);
    RingProvider provider(pair.pair, signals.signals());
    std::atomic<uint64_t> dispatched{0};
    struct SlowEveryFewThousand {
        EchoDispatcher echo{.offset = 5};
        std::atomic<uint64_t>* dispatched;
        static void dispatch(void* context, const Request& request, Completion& completion) {
            auto* self = static_cast<SlowEveryFewThousand*>(context);
            auto inner = self->echo.dispatcher();
            inner.dispatch(inner.context, request, completion);
            if (self->dispatched->fetch_add(1, std::memory_order_relaxed) % 4096 == 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        }
    } slow{.dispatched = &dispatched};
    umka::Status provider_status = umka::Errno::TimedOut;
    std::thread provider_thread([&] {
        provider_status = run_provider(provider, {&slow, &SlowEveryFewThousand::dispatch}, 8);
    });

    InOrder in_order{.offset = 5};
    RingCaller caller(pair.pair, signals.signals(), in_order.handler());
    for (uint64_t i = 0; i < count; ++i) {
        Request* entry = caller.reserve();
        ASSERT_NE(entry, nullptr) << "reserve refused message " << i;
        put_sequence(*entry, i);
        ASSERT_TRUE(caller.submit(*entry, mode).is_ok());
        if (i % 8 == 7) caller.flush();
    }
    ASSERT_TRUE(caller.drain().is_ok());
    caller.close();
    provider_thread.join();

    EXPECT_TRUE(provider_status.is_ok()) << umka::errno_name(provider_status.error());
    EXPECT_EQ(in_order.next, count) << "completions lost or duplicated";
    EXPECT_EQ(in_order.bad, 0u) << "completions out of order or with the wrong answer";
    EXPECT_EQ(dispatched.load(), count);
    auto counters = pair.pair.counters();
    EXPECT_EQ(counters.submitted, count);
    EXPECT_EQ(counters.completed, count);
    EXPECT_GT(counters.full_ring_waits, 0u) << "the caller never ran out of credit";
    EXPECT_EQ(signals.stalls(), 0u) << "a sleeper waited 10 s: a lost wake-up";
}

TEST(RingThreads, AsynchronousBindingMillionsInOrderWithCreditWaits) {
    run_asynchronous_binding(messages(1'000'000), umka::ring::SubmitMode::Now);
}

TEST(RingThreads, BatchedAsynchronousBindingKeepsOrderToo) {
    run_asynchronous_binding(messages(1'000'000), umka::ring::SubmitMode::Batched);
}

TEST(RingThreads, SynchronousCallsRoundTripInOrder) {
    const uint64_t count = messages(100'000);
    Pair pair(8);
    ThreadSignals signals(/*spin_polls=*/256);
    RingProvider provider(pair.pair, signals.signals());
    EchoDispatcher echo{.offset = 3};
    std::thread provider_thread([&] { (void)run_provider(provider, echo.dispatcher(), 16); });
    RingCaller caller(pair.pair, signals.signals());
    uint64_t wrong = 0;
    for (uint64_t i = 0; i < count; ++i) {
        Request* entry = caller.reserve();
        ASSERT_NE(entry, nullptr);
        put_sequence(*entry, i);
        const Completion* completion = caller.call(*entry);
        ASSERT_NE(completion, nullptr) << "call " << i << " lost its completion";
        if (completion->request_id != i || sequence_of(*completion) != i + 3) ++wrong;
        caller.release(*completion);
    }
    caller.close();
    provider_thread.join();
    EXPECT_EQ(wrong, 0u);
    EXPECT_EQ(pair.pair.counters().completed, count);
    EXPECT_EQ(signals.stalls(), 0u);
}

TEST(RingThreads, CloseWakesASleepingProviderAndASleepingCaller) {
    Pair pair(4);
    ThreadSignals signals(/*spin_polls=*/0);
    RingProvider provider(pair.pair, signals.signals());
    EchoDispatcher echo;
    std::atomic<bool> provider_done{false};
    std::thread provider_thread([&] {
        // Serves nothing: waits for work that never comes until the close.
        EXPECT_TRUE(run_provider(provider, echo.dispatcher(), 4).is_ok());
        provider_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(provider_done.load());
    pair.pair.close(*signals.signals());
    provider_thread.join();
    EXPECT_GE(signals.wakes(RingParty::Provider), 1u);

    // A caller waiting for a completion no provider will send.
    Pair second(4);
    RingCaller caller(second.pair, signals.signals());
    std::thread closer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        second.pair.close(*signals.signals());
    });
    Request* entry = caller.reserve();
    ASSERT_NE(entry, nullptr);
    put_sequence(*entry, 0);
    EXPECT_EQ(caller.call(*entry), nullptr);
    closer.join();
    EXPECT_EQ(signals.stalls(), 0u);
}

}  // namespace
