// The caller's end of a ring binding: produces requests, consumes completions.
//
// It is the `Ring` type the generated proxies (kabi-gen, <package>_ring.hpp) take:
//   reserve()  a request slot to marshal into (waits while the binding is at capacity);
//   call(e)    publishes e and waits for the completion with its request_id;
//   release(c) hands that completion's slot back.
// so `CharDeviceRingProxy<RingCaller> proxy(caller); proxy.write(...)` is a synchronous
// ring call. For asynchronous use, submit() publishes without waiting and completions go
// to a CompletionHandler from reap(), drain(), or whenever reserve() needs credit.
//
// Credits: at most entry_count requests are outstanding (submitted, completion not yet
// taken by this end). The completion ring has entry_count slots, so the provider never
// finds it full and never waits on us; a full binding is backpressure on the caller only
// (docs/rings.md, "Backpressure").
//
// One thread uses a RingCaller at a time (it is the single producer of the request ring
// and the single consumer of the completion ring); a binding shared by several threads is
// serialised by its owner, or each thread gets its own binding.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/ring/ring_pair.h"

namespace umka::ring {

// Where asynchronous completions go. The completion is valid only during the call: copy
// what you need (complete_<method>() from the generated header does).
struct CompletionHandler {
    void* context = nullptr;
    void (*complete)(void* context, const umka_kabi_ring_completion& completion) = nullptr;
};

// What reserve() does when the binding has no free slot or credit.
enum class FullRingPolicy : uint32_t {
    Wait = 0,  // sleep until the provider makes progress (the default; never drops)
    Fail = 1,  // return nullptr at once (after publishing staged requests), so the
               // proxy returns EAGAIN (for callers that must not sleep)
};

// When submit() makes a request visible to the provider.
enum class SubmitMode : uint32_t {
    Now = 0,      // publish at once: one index store and doorbell check per request
    Batched = 1,  // stage it; flush(), call(), or any wait of this end publishes the whole
                  // batch with one store (the store is the expensive part of a publish)
};

class RingCaller {
public:
    RingCaller() = default;
    // `pair` from RingPair::create/attach; `signals` must outlive the caller.
    RingCaller(RingPair pair, const RingSignals* signals, CompletionHandler handler = {},
               FullRingPolicy policy = FullRingPolicy::Wait);

    RingCaller(const RingCaller&) = delete;  // the slot and credit state are one end's alone
    RingCaller& operator=(const RingCaller&) = delete;

    // --- The generated proxy's Ring interface ---------------------------------------

    // A request slot to fill. Waits (FullRingPolicy::Wait) while entry_count requests are
    // outstanding or the provider has not handed back a slot yet; returns nullptr (the
    // proxy's EAGAIN) only under FullRingPolicy::Fail, while the last call()'s completion
    // has not been released, or when completions must be reaped to make room but there is
    // no CompletionHandler to take them. On a closed binding it returns a private scratch
    // entry that call()/submit() then refuse, so the proxy reports EIO.
    umka_kabi_ring_request* reserve();

    // Publishes `entry` (from reserve(); its request_id is assigned here) and waits for
    // its completion. Completions of earlier asynchronous submissions that arrive first
    // go to the handler. nullptr when the binding is closed before the completion came or
    // `entry` is not the slot reserve() returned.
    const umka_kabi_ring_completion* call(umka_kabi_ring_request& entry);

    // Hands back the completion call() returned. Anything else is refused and counted in
    // misreleases(), since handing back a slot still in use would let the provider
    // overwrite a completion someone is reading.
    void release(const umka_kabi_ring_completion& completion);

    // --- Asynchronous submit / complete ------------------------------------------------

    // Publishes `entry` (from reserve()) without waiting for its completion, now or with
    // the next flush (SubmitMode); returns its request_id. The completion reaches the
    // handler later. EINVAL without a handler or for an entry that is not the reserved
    // slot; EIO on a closed binding.
    Result<uint64_t> submit(umka_kabi_ring_request& entry, SubmitMode mode = SubmitMode::Now);

    // Publishes requests submitted with SubmitMode::Batched.
    void flush() { requests_.flush(); }

    // Hands up to `budget` ready completions to the handler without sleeping; returns how
    // many. EINVAL without a handler; EBUSY while a call()'s completion is held.
    Result<uint32_t> reap(uint32_t budget);

    // Sleeps until a completion is ready. EIO when the binding is closed and none is left.
    Status wait_for_completion();

    // Reaps until nothing is outstanding. EIO if the binding closes first.
    Status drain();

    // --- State ----------------------------------------------------------------------

    uint64_t outstanding() const { return submitted_ - retired_; }
    uint32_t capacity() const { return capacity_; }
    // Completions with a request_id nobody waits for while there is no handler (only a
    // broken provider sends them); they are taken off the ring and counted.
    uint64_t unmatched_completions() const { return unmatched_completions_; }
    uint64_t misreleases() const { return misreleases_; }
    const RingPair& pair() const { return pair_; }
    void close() { pair_.close(*signals_); }

private:
    uint64_t publish(umka_kabi_ring_request& entry, SubmitMode mode);
    // Takes the completion at the head of the ring off it: to the handler, or counted.
    void retire_other(const umka_kabi_ring_completion& completion);
    void retire_one();

    RingPair pair_;
    const RingSignals* signals_ = nullptr;
    CompletionHandler handler_;
    FullRingPolicy policy_ = FullRingPolicy::Wait;
    SpscProducer<umka_kabi_ring_request> requests_;
    SpscConsumer<umka_kabi_ring_completion> completions_;
    uint32_t capacity_ = 0;
    uint64_t submitted_ = 0;                           // requests published by this end
    uint64_t retired_ = 0;                             // their completions taken off the ring
    umka_kabi_ring_request* reserved_ = nullptr;       // what reserve() handed out
    const umka_kabi_ring_completion* held_ = nullptr;  // what call() handed out
    uint64_t unmatched_completions_ = 0;
    uint64_t misreleases_ = 0;
    umka_kabi_ring_request scratch_{};  // reserve()'s answer on a closed binding
};

}  // namespace umka::ring
