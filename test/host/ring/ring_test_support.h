// Shared by the ring tests: ring memory, scripted single-thread signals, and a dispatcher
// that echoes a sequence number so order, loss and duplication can be checked.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "nucleus/ring/ring_pair.h"
#include "nucleus/ring/ring_provider.h"
#include "test/host/ring/thread_signals.h"

namespace umka::ring::testing {

// Signals for one thread: wait() runs a scripted action standing in for the other side
// (publishing, serving, closing), then returns as a woken sleeper would.
struct ScriptedSignals {
    ScriptedSignals() {
        signals.context = this;
        signals.wait = [](void* context, RingParty sleeper, const uint32_t* state) {
            auto* self = static_cast<ScriptedSignals*>(context);
            ++self->waits;
            EXPECT_EQ(load_sleep_state(state), SleepState::Sleeping)
                << "wait() called for a party that has not announced sleep";
            if (self->on_wait) self->on_wait(sleeper);
        };
        signals.wake = [](void* context, RingParty sleeper, uint32_t cpu) {
            auto* self = static_cast<ScriptedSignals*>(context);
            self->wakes.push_back({sleeper, cpu});
        };
        signals.current_cpu = [](void*) -> uint32_t { return 3; };
    }
    ScriptedSignals(const ScriptedSignals&) = delete;
    ScriptedSignals& operator=(const ScriptedSignals&) = delete;

    struct Wake {
        RingParty party;
        uint32_t cpu;
    };
    RingSignals signals;
    std::function<void(RingParty)> on_wait;
    int waits = 0;
    std::vector<Wake> wakes;
};

// A freshly created ring pair in its own memory.
struct Pair {
    explicit Pair(uint32_t entries)
        : memory(RingPair::bytes_for(entries)),
          pair(RingPair::create(memory.data(), memory.size(), entries).value()) {}
    RingMemory memory;
    RingPair pair;
};

// Opcode the echo dispatcher answers; any other opcode gets ENOSYS, as from kabi-gen's.
inline constexpr uint32_t kEchoOpcode = 7;

inline void put_sequence(umka_kabi_ring_request& entry, uint64_t sequence) {
    entry.opcode = kEchoOpcode;
    entry.payload_size = sizeof(sequence);
    std::memcpy(entry.payload, &sequence, sizeof(sequence));
}

inline uint64_t sequence_of(const umka_kabi_ring_completion& completion) {
    uint64_t sequence;
    std::memcpy(&sequence, completion.payload, sizeof(sequence));
    return sequence;
}

// Answers kEchoOpcode with the request's first 8 payload bytes plus `offset`; counts calls.
struct EchoDispatcher {
    uint64_t offset = 0;
    uint64_t calls = 0;

    RingDispatch dispatcher() {
        return {this, [](void* context, const umka_kabi_ring_request& request,
                         umka_kabi_ring_completion& completion) {
                    auto* self = static_cast<EchoDispatcher*>(context);
                    ++self->calls;
                    if (request.opcode != kEchoOpcode) {
                        completion.status = static_cast<int32_t>(Errno::NoFunction);
                        return;
                    }
                    if (request.payload_size != sizeof(uint64_t)) {
                        completion.status = static_cast<int32_t>(Errno::BadMessage);
                        return;
                    }
                    uint64_t sequence;
                    std::memcpy(&sequence, request.payload, sizeof(sequence));
                    sequence += self->offset;
                    std::memcpy(completion.payload, &sequence, sizeof(sequence));
                }};
    }
};

}  // namespace umka::ring::testing
