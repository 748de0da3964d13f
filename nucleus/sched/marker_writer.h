// One thread of `load start serial N`: writes a marker byte nothing else prints ('~') to
// the serial driver over its own ring binding, keeping kQueuedWrites requests queued at
// all times (asynchronous submit), and sums what the driver says it transferred. The
// marker bytes on the console must then equal the sum exactly, across live swaps of the
// driver: none lost, none doubled (docs/evolution.md, "Queued ring requests").
#pragma once

#include <stdint.h>

#include <atomic>

#include "nucleus/lib/status.h"
#include "nucleus/ring/ring_caller.h"

namespace umka::sched {

inline constexpr char kMarkerByte = '~';
inline constexpr uint32_t kQueuedWrites = 8;
inline constexpr uint64_t kMarkerWriteBytes = 32;

class MarkerWriter {
public:
    // Where the caller end must send its completions (RingBindingRequest::completions).
    ring::CompletionHandler completion_handler() { return {this, &complete}; }
    // The caller end this writer alone submits on (in the kernel, its ring binding's
    // asynchronous_caller()), constructed with completion_handler().
    void attach(ring::RingCaller* caller) { caller_ = caller; }

    // Tops the queue up to kQueuedWrites requests (a short write's rest first), then sleeps
    // until at least one completes and takes every completion that is ready. The first
    // error (a failed submit, a write that failed) stops the writer: step() returns it
    // from then on.
    Status step();
    // Waits for every outstanding request without submitting more (a short write's rest
    // is dropped: it was never written, so it is not counted either).
    Status finish();

    // Marker bytes the driver reported transferred, and the write requests completed.
    uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
    uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
    // Ok while the writer runs (or finished) without an error. Read by `load stats` from
    // another thread, hence atomic.
    Status failure() const { return failure_.load(std::memory_order_relaxed); }

private:
    struct Pending {
        uint64_t request_id;
        uint64_t length;
    };

    static void complete(void* context, const umka_kabi_ring_completion& completion);
    Status submit(uint64_t length);
    // Keeps the first error.
    void fail(Status status);

    ring::RingCaller* caller_ = nullptr;
    Pending pending_[kQueuedWrites] = {};
    uint32_t pending_count_ = 0;
    // Bytes short writes left unwritten: submitted again before new requests.
    uint64_t rest_ = 0;
    std::atomic<uint64_t> bytes_{0};
    std::atomic<uint64_t> writes_{0};
    std::atomic<Errno> failure_{Errno::Ok};
};

}  // namespace umka::sched
