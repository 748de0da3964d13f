// RingCaller and RingProvider on one thread: asynchronous submit/serve/reap, synchronous
// calls served from inside the caller's wait, credits and backpressure, bad entries
// answered with error completions, close, and misuse by either side.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "nucleus/ring/ring_caller.h"
#include "nucleus/ring/ring_provider.h"
#include "test/host/ring/ring_test_support.h"

namespace {

using umka::Errno;
using umka::ring::CompletionHandler;
using umka::ring::FullRingPolicy;
using umka::ring::RingCaller;
using umka::ring::RingParty;
using umka::ring::RingProvider;
using umka::ring::SpscConsumer;
using umka::ring::SpscProducer;
using umka::ring::WaitOutcome;
using umka::ring::testing::EchoDispatcher;
using umka::ring::testing::kEchoOpcode;
using umka::ring::testing::Pair;
using umka::ring::testing::put_sequence;
using umka::ring::testing::ScriptedSignals;
using umka::ring::testing::sequence_of;
using Completion = umka_kabi_ring_completion;
using Request = umka_kabi_ring_request;

// Records what the handler received.
struct Collected {
    std::vector<uint64_t> ids;
    std::vector<uint64_t> sequences;
    std::vector<int32_t> statuses;
    CompletionHandler handler() {
        return {this, [](void* context, const Completion& completion) {
                    auto* self = static_cast<Collected*>(context);
                    self->ids.push_back(completion.request_id);
                    self->sequences.push_back(sequence_of(completion));
                    self->statuses.push_back(completion.status);
                }};
    }
};

uint64_t submit_sequence(RingCaller& caller, uint64_t sequence) {
    Request* entry = caller.reserve();
    EXPECT_NE(entry, nullptr) << "reserve() refused sequence " << sequence;
    if (entry == nullptr) return ~uint64_t{0};
    put_sequence(*entry, sequence);
    auto id = caller.submit(*entry);
    EXPECT_TRUE(id.is_ok()) << umka::errno_name(id.error());
    return id.is_ok() ? id.value() : ~uint64_t{0};
}

TEST(RingBinding, AsynchronousSubmitsAreServedAndReapedInOrder) {
    Pair pair(8);
    ScriptedSignals scripted;
    Collected collected;
    RingCaller caller(pair.pair, &scripted.signals, collected.handler());
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo{.offset = 1000};

    for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(submit_sequence(caller, i), i);
    EXPECT_EQ(caller.outstanding(), 5u);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 3).value(), 3u) << "budget not honoured";
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 2u);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 0u);
    EXPECT_EQ(caller.reap(2).value(), 2u);
    EXPECT_EQ(caller.reap(100).value(), 3u);
    EXPECT_EQ(collected.ids, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(collected.sequences, (std::vector<uint64_t>{1000, 1001, 1002, 1003, 1004}));
    EXPECT_EQ(collected.statuses, std::vector<int32_t>(5, 0));
    EXPECT_EQ(caller.outstanding(), 0u);
    auto counters = pair.pair.counters();
    EXPECT_EQ(counters.submitted, 5u);
    EXPECT_EQ(counters.completed, 5u);
    EXPECT_EQ(counters.doorbells, 0u) << "nobody slept, nobody should have been rung";
    EXPECT_TRUE(caller.drain().is_ok());
}

TEST(RingBinding, SynchronousCallIsAnsweredWhileTheCallerSleeps) {
    Pair pair(4);
    ScriptedSignals scripted;
    RingCaller caller(pair.pair, &scripted.signals);
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo{.offset = 1};
    scripted.on_wait = [&](RingParty sleeper) {
        ASSERT_EQ(sleeper, RingParty::Caller);
        ASSERT_EQ(serve(provider, echo.dispatcher(), 16).value(), 1u);
    };
    for (uint64_t i = 0; i < 100; ++i) {
        Request* entry = caller.reserve();
        ASSERT_NE(entry, nullptr);
        put_sequence(*entry, i);
        const Completion* completion = caller.call(*entry);
        ASSERT_NE(completion, nullptr) << "call " << i;
        EXPECT_EQ(completion->request_id, i);
        EXPECT_EQ(completion->opcode, kEchoOpcode);
        EXPECT_EQ(sequence_of(*completion), i + 1);
        caller.release(*completion);
    }
    auto counters = pair.pair.counters();
    EXPECT_EQ(counters.submitted, 100u);
    EXPECT_EQ(counters.completed, 100u);
    EXPECT_EQ(counters.completion_doorbells, 100u) << "each answer found the caller asleep";
    EXPECT_EQ(counters.request_doorbells, 0u);
    EXPECT_EQ(scripted.waits, 100);
    EXPECT_EQ(caller.misreleases(), 0u);
}

TEST(RingBinding, CallHandsEarlierAsynchronousCompletionsToTheHandler) {
    Pair pair(8);
    ScriptedSignals scripted;
    Collected collected;
    RingCaller caller(pair.pair, &scripted.signals, collected.handler());
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo;
    scripted.on_wait = [&](RingParty) { (void)serve(provider, echo.dispatcher(), 64); };
    submit_sequence(caller, 10);
    submit_sequence(caller, 11);
    Request* entry = caller.reserve();
    put_sequence(*entry, 12);
    const Completion* completion = caller.call(*entry);
    ASSERT_NE(completion, nullptr);
    EXPECT_EQ(sequence_of(*completion), 12u);
    EXPECT_EQ(collected.sequences, (std::vector<uint64_t>{10, 11}));
    caller.release(*completion);
    EXPECT_EQ(caller.outstanding(), 0u);
}

TEST(RingBinding, CreditsBoundOutstandingRequests) {
    Pair pair(4);
    ScriptedSignals scripted;
    Collected collected;
    RingCaller failing(pair.pair, &scripted.signals, collected.handler(), FullRingPolicy::Fail);
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo;
    for (uint64_t i = 0; i < 4; ++i) submit_sequence(failing, i);
    EXPECT_EQ(failing.reserve(), nullptr) << "a fifth request with four credits";
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 4u);
    EXPECT_EQ(failing.reserve(), nullptr) << "credits return when completions are taken";
    EXPECT_EQ(failing.reap(64).value(), 4u);
    EXPECT_NE(failing.reserve(), nullptr);

    // Batched submits: the refusal publishes them, so the provider can make room.
    for (uint64_t i = 4; i < 8; ++i) {
        Request* entry = failing.reserve();
        ASSERT_NE(entry, nullptr);
        put_sequence(*entry, i);
        ASSERT_TRUE(failing.submit(*entry, umka::ring::SubmitMode::Batched).is_ok());
    }
    EXPECT_EQ(failing.reserve(), nullptr);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 4u)
        << "staged requests stayed invisible after the refusal";
}

TEST(RingBinding, AFullBindingMakesTheCallerWaitNeverDrop) {
    Pair pair(2);
    ScriptedSignals scripted;
    Collected collected;
    RingCaller caller(pair.pair, &scripted.signals, collected.handler());
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo;
    scripted.on_wait = [&](RingParty sleeper) {
        ASSERT_EQ(sleeper, RingParty::Caller);
        ASSERT_GT(serve(provider, echo.dispatcher(), 1).value(), 0u);
    };
    for (uint64_t i = 0; i < 50; ++i) submit_sequence(caller, i);
    ASSERT_TRUE(caller.drain().is_ok());
    std::vector<uint64_t> expected(50);
    for (uint64_t i = 0; i < 50; ++i) expected[i] = i;
    EXPECT_EQ(collected.sequences, expected) << "lost, duplicated or reordered under backpressure";
    EXPECT_GT(pair.pair.counters().full_ring_waits, 0u);
    EXPECT_EQ(pair.pair.counters().completed, 50u);
}

TEST(RingBinding, BatchedSubmitsGoOutTogetherAndWaitsFlushThem) {
    Pair pair(4);
    ScriptedSignals scripted;
    Collected collected;
    RingCaller caller(pair.pair, &scripted.signals, collected.handler());
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo;
    auto submit_batched = [&](uint64_t sequence) {
        Request* entry = caller.reserve();
        ASSERT_NE(entry, nullptr) << "reserve refused sequence " << sequence;
        put_sequence(*entry, sequence);
        auto id = caller.submit(*entry, umka::ring::SubmitMode::Batched);
        ASSERT_TRUE(id.is_ok());
        EXPECT_EQ(id.value(), sequence);
    };
    for (uint64_t i = 0; i < 3; ++i) submit_batched(i);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 0u) << "staged requests were visible";
    EXPECT_EQ(pair.pair.counters().submitted, 0u);
    caller.flush();
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 3u);

    // At capacity with staged requests, reserve() must publish them before it waits.
    scripted.on_wait = [&](RingParty) { (void)serve(provider, echo.dispatcher(), 64); };
    for (uint64_t i = 3; i < 20; ++i) submit_batched(i);
    ASSERT_TRUE(caller.drain().is_ok());
    std::vector<uint64_t> expected(20);
    for (uint64_t i = 0; i < 20; ++i) expected[i] = i;
    EXPECT_EQ(collected.sequences, expected);
    EXPECT_EQ(pair.pair.counters().completed, 20u);
}

TEST(RingBinding, BadEntriesGetErrorCompletionsAndServingGoesOn) {
    Pair pair(8);
    ScriptedSignals scripted;
    Collected collected;
    RingCaller caller(pair.pair, &scripted.signals, collected.handler());
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo;

    Request* entry = caller.reserve();
    put_sequence(*entry, 1);
    entry->opcode = 99;  // unknown
    ASSERT_TRUE(caller.submit(*entry).is_ok());
    entry = caller.reserve();
    put_sequence(*entry, 2);
    entry->payload_size = 3;  // wrong for the opcode
    ASSERT_TRUE(caller.submit(*entry).is_ok());
    entry = caller.reserve();
    put_sequence(*entry, 3);
    entry->payload_size = 0xffffffffu;  // past the payload: refused before dispatch
    ASSERT_TRUE(caller.submit(*entry).is_ok());
    submit_sequence(caller, 4);

    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 4u);
    EXPECT_EQ(echo.calls, 3u) << "the oversized entry reached the dispatcher";
    EXPECT_EQ(provider.oversized_requests(), 1u);
    EXPECT_EQ(caller.reap(64).value(), 4u);
    EXPECT_EQ(collected.statuses,
              (std::vector<int32_t>{static_cast<int32_t>(Errno::NoFunction),
                                    static_cast<int32_t>(Errno::BadMessage),
                                    static_cast<int32_t>(Errno::BadMessage), 0}));
    EXPECT_EQ(collected.ids, (std::vector<uint64_t>{0, 1, 2, 3}));
    EXPECT_EQ(collected.sequences.back(), 4u);
}

TEST(RingBinding, ADispatcherCannotChangeTheRequestId) {
    Pair pair(4);
    ScriptedSignals scripted;
    RingCaller caller(pair.pair, &scripted.signals);
    RingProvider provider(pair.pair, &scripted.signals);
    umka::ring::RingDispatch forger{nullptr, [](void*, const Request&, Completion& completion) {
                                        completion.request_id = 12345;
                                    }};
    scripted.on_wait = [&](RingParty) { (void)serve(provider, forger, 64); };
    Request* entry = caller.reserve();
    put_sequence(*entry, 0);
    const Completion* completion = caller.call(*entry);
    ASSERT_NE(completion, nullptr) << "the forged id was believed and the call never matched";
    EXPECT_EQ(completion->request_id, 0u);
    caller.release(*completion);
}

TEST(RingBinding, UnmatchedCompletionsWithoutAHandlerAreCountedAndSkipped) {
    Pair pair(4);
    ScriptedSignals scripted;
    RingCaller caller(pair.pair, &scripted.signals);
    // A broken provider: an extra completion nobody asked for, then the real answer.
    SpscProducer<Completion> rogue(pair.pair.completions(), &scripted.signals, RingParty::Provider,
                                   RingParty::Caller);
    scripted.on_wait = [&](RingParty) {
        Completion* extra = rogue.try_reserve();
        *extra = Completion{};
        extra->request_id = 777;
        rogue.publish();
        Completion* answer = rogue.try_reserve();
        *answer = Completion{};
        answer->request_id = 0;
        answer->opcode = kEchoOpcode;
        rogue.publish();
    };
    Request* entry = caller.reserve();
    put_sequence(*entry, 0);
    const Completion* completion = caller.call(*entry);
    ASSERT_NE(completion, nullptr);
    EXPECT_EQ(completion->request_id, 0u);
    EXPECT_EQ(caller.unmatched_completions(), 1u);
    caller.release(*completion);
    EXPECT_EQ(caller.outstanding(), 0u);
}

TEST(RingBinding, MisuseIsRefusedWithAReason) {
    Pair pair(4);
    ScriptedSignals scripted;
    RingCaller caller(pair.pair, &scripted.signals);
    RingProvider provider(pair.pair, &scripted.signals);
    Request stray{};
    EXPECT_EQ(caller.submit(stray).error(), Errno::InvalidArgument) << "not the reserved slot";
    Request* entry = caller.reserve();
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(caller.submit(*entry).error(), Errno::InvalidArgument) << "async without handler";
    EXPECT_EQ(caller.reap(1).error(), Errno::InvalidArgument);
    EXPECT_EQ(caller.call(stray), nullptr);
    Completion foreign{};
    caller.release(foreign);
    EXPECT_EQ(caller.misreleases(), 1u);
    EXPECT_EQ(serve(provider, umka::ring::RingDispatch{}, 4).error(), Errno::InvalidArgument);
    EchoDispatcher echo;
    EXPECT_EQ(run_provider(provider, echo.dispatcher(), 0).error(), Errno::InvalidArgument);
    EXPECT_EQ(pair.pair.counters().submitted, 0u) << "a refused submit was published";
}

TEST(RingBinding, ACloseTurnsCallsIntoEioAndEndsTheProvider) {
    Pair pair(4);
    ScriptedSignals scripted;
    Collected collected;
    RingCaller caller(pair.pair, &scripted.signals, collected.handler());
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo;

    // Closed while the caller waits for its completion.
    scripted.on_wait = [&](RingParty) { pair.pair.close(scripted.signals); };
    Request* entry = caller.reserve();
    put_sequence(*entry, 0);
    EXPECT_EQ(caller.call(*entry), nullptr);
    EXPECT_TRUE(pair.pair.is_closed());

    // After close: reserve hands out the scratch entry, which nothing accepts.
    entry = caller.reserve();
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(caller.submit(*entry).error(), Errno::IoError);
    EXPECT_EQ(caller.call(*entry), nullptr);
    EXPECT_EQ(caller.wait_for_completion().error(), Errno::IoError);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 4).error(), Errno::IoError);
    EXPECT_TRUE(run_provider(provider, echo.dispatcher(), 4).is_ok());
    EXPECT_EQ(echo.calls, 0u) << "a closed binding's provider was called";
    EXPECT_EQ(pair.pair.counters().submitted, 1u);
}

TEST(RingBinding, TheProviderWaitsForCompletionRoomFromARogueCaller) {
    Pair pair(2);
    ScriptedSignals scripted;
    RingProvider provider(pair.pair, &scripted.signals);
    EchoDispatcher echo;
    // A caller that ignores credits: fills the request ring twice without taking answers.
    SpscProducer<Request> requests(pair.pair.requests(), &scripted.signals, RingParty::Caller,
                                   RingParty::Provider);
    SpscConsumer<Completion> completions(pair.pair.completions(), &scripted.signals,
                                         RingParty::Caller, RingParty::Provider);
    auto push = [&](uint64_t sequence) {
        Request* slot = requests.try_reserve();
        ASSERT_NE(slot, nullptr);
        put_sequence(*slot, sequence);
        requests.publish();
    };
    push(0);
    push(1);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 2u);
    push(2);
    push(3);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 0u) << "no completion slot";
    scripted.on_wait = [&](RingParty sleeper) {
        ASSERT_EQ(sleeper, RingParty::Provider);
        ASSERT_NE(completions.peek(), nullptr);
        completions.consume();
        completions.release();  // must wake the provider
    };
    EXPECT_EQ(provider.wait_for_work(), WaitOutcome::Ready);
    EXPECT_EQ(scripted.waits, 1);
    EXPECT_EQ(serve(provider, echo.dispatcher(), 64).value(), 1u);
    EXPECT_EQ(pair.pair.counters().space_wakeups, 1u);
}

}  // namespace
