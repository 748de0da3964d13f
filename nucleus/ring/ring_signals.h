// How a ring end sleeps and wakes the other end. The ring code decides *when* to sleep
// and *whom* to wake (docs/rings.md, "Doorbell protocol"); the binding supplies *how*:
// nucleus wait queues and IPIs in the kernel, a mutex and condition variables in the host
// tests. Keeping that behind function pointers keeps nucleus/ring/ free of the scheduler.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

namespace umka::ring {

// The two parties of a binding. The caller produces requests and consumes completions;
// the provider consumes requests (on its kernel thread) and produces completions.
enum class RingParty : uint32_t {
    Caller = 0,
    Provider = 1,
};

// A sleep-state word in shared memory. The sleeper alone sets Sleeping; whoever wakes it
// (a producer that published, a consumer that freed space, close()) moves it back to
// Running with a compare-exchange, so exactly one party sends the wake-up.
enum class SleepState : uint32_t {
    Running = 0,
    Sleeping = 1,
};

// Recorded instead of a CPU number when the binding cannot tell which CPU the sleeper is on.
inline constexpr uint32_t kUnknownCpu = 0xffffffffu;

struct RingSignals {
    void* context = nullptr;

    // Blocks `sleeper` while *state still reads SleepState::Sleeping. Futex semantics: the
    // implementation must check the word after queueing the sleeper, so a wake() issued
    // after the word changed is never lost. Returning early (spuriously) is allowed: the
    // ring code re-checks and sleeps again.
    void (*wait)(void* context, RingParty sleeper, const uint32_t* state) = nullptr;

    // `sleeper` said it sleeps on `cpu` (kUnknownCpu when unrecorded) and its word is now
    // Running: make it runnable. A local wake-up when `cpu` is the current CPU, an IPI
    // otherwise; the ring does not know which.
    void (*wake)(void* context, RingParty sleeper, uint32_t cpu) = nullptr;

    // The current CPU, recorded when a party announces sleep. Optional (kUnknownCpu).
    uint32_t (*current_cpu)(void* context) = nullptr;

    // Optional: an asymmetric barrier. When it returns, every store the other end of the
    // ring made before the call is visible to the caller, and the other end's loads after
    // it see the caller's stores from before the call, whatever that end was doing (it
    // was interrupted, or switched out: either orders its memory accesses). membarrier()
    // on Linux; in a kernel, an interrupt to the other end's CPU that it acknowledges.
    // With it, publish() and release() are plain release stores and the announcing
    // sleeper alone pays for the ordering (docs/rings.md, "Doorbell protocol"); without
    // it (nullptr) both sides use a sequentially consistent store (an xchg on x86-64).
    void (*peer_barrier)(void* context) = nullptr;

    // How many times a party polls the ring before it announces sleep. Polling costs CPU
    // time but spares the doorbell and the wake-up latency when the other side answers
    // within a few microseconds (a round trip); 0 sleeps at once.
    uint32_t spin_polls = 0;
};

// Reads a sleep-state word as the ring protocol does (sequentially consistent), for wait
// implementations: `*state == SleepState::Sleeping` is the condition to keep sleeping on.
inline SleepState load_sleep_state(const uint32_t* state) {
    // atomic_ref needs a non-const object; the load does not write.
    return static_cast<SleepState>(
        std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(state)).load(std::memory_order_seq_cst));
}

// One iteration of a polling loop: tells the CPU we spin (no SSE, so fine in the kernel).
inline void relax_cpu() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

}  // namespace umka::ring
