// The provider's end of a ring binding: consumes requests, produces completions. Its
// loop runs on a kernel thread of the provider (later: a user-mode driver thread):
//
//   RingProvider provider(pair, &signals);
//   GeneratedDispatch<CharDeviceVtable, &char_device_ring::dispatch> target(vtable, context);
//   run_provider(provider, target.dispatcher(), 64);   // until the binding is closed
//
// or, for a thread that serves several bindings, serve() and wait_for_work() directly.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/ring/ring_pair.h"

namespace umka::ring {

// Runs one request and fills its completion (status, payload). kabi-gen's
// `<package>_ring::dispatch` is one (wrapped by GeneratedDispatch): it answers an unknown
// opcode or a missing method with ENOSYS and a payload of the wrong size with EBADMSG.
// request_id and opcode are filled in before the call and request_id is restored after.
struct RingDispatch {
    void* context = nullptr;
    void (*dispatch)(void* context, const umka_kabi_ring_request& request,
                     umka_kabi_ring_completion& completion) = nullptr;
};

// Adapts a generated dispatch function (which takes the provider's vtable and instance)
// to RingDispatch. Holds the two pointers; must outlive the loop that uses it.
template <typename Vtable, void (*Dispatch)(const Vtable*, void*, const umka_kabi_ring_request&,
                                            umka_kabi_ring_completion&)>
class GeneratedDispatch {
public:
    GeneratedDispatch(const Vtable* vtable, void* context) : vtable_(vtable), context_(context) {}

    RingDispatch dispatcher() { return {this, &thunk}; }

private:
    static void thunk(void* self, const umka_kabi_ring_request& request,
                      umka_kabi_ring_completion& completion) {
        auto* target = static_cast<GeneratedDispatch*>(self);
        Dispatch(target->vtable_, target->context_, request, completion);
    }

    const Vtable* vtable_;
    void* context_;
};

class RingProvider {
public:
    RingProvider() = default;
    // `pair` from RingPair::create/attach; `signals` must outlive the provider.
    RingProvider(RingPair pair, const RingSignals* signals);

    RingProvider(const RingProvider&) = delete;
    RingProvider& operator=(const RingProvider&) = delete;

    // Sleeps until serve() has something to do: a request, and a completion slot to answer
    // it in (the latter only lacks when the caller breaks the credit rule). Closed when
    // the binding is closed and no request is left.
    WaitOutcome wait_for_work();

    // Requests answered with EBADMSG before dispatch because their payload_size exceeded
    // the payload (the generated dispatch checks exact sizes per opcode itself).
    uint64_t oversized_requests() const { return oversized_requests_; }
    const RingPair& pair() const { return pair_; }
    void close() { pair_.close(*signals_); }

private:
    friend Result<uint32_t> serve(RingProvider& provider, const RingDispatch& dispatch,
                                  uint32_t budget);

    RingPair pair_;
    const RingSignals* signals_ = nullptr;
    SpscConsumer<umka_kabi_ring_request> requests_;
    SpscProducer<umka_kabi_ring_completion> completions_;
    uint64_t oversized_requests_ = 0;
};

// Answers up to `budget` requests in order, without sleeping: each is copied out of the
// shared ring (so the caller cannot change it while it is dispatched) and dispatched. The
// completions are published when no further request is waiting, and at least every 16
// (one index store and doorbell check per group; the caller's doorbell rings if it
// sleeps); the request slots go back to the caller in one store at the end. Returns how
// many were answered;
// a bad entry is answered with an error status, never skipped and never fatal.
// EINVAL for a dispatch without a function; EIO once the binding is closed (a torn-down
// binding's provider must not be called any more).
Result<uint32_t> serve(RingProvider& provider, const RingDispatch& dispatch, uint32_t budget);

// The provider thread's loop: serve() batches of `budget` (so one busy binding yields the
// CPU to the scheduler's preemption between batches, not in the middle of a request) and
// wait_for_work() when idle, until the binding is closed. Ok when it ends by close; EINVAL
// for a zero budget or a dispatch without a function.
Status run_provider(RingProvider& provider, const RingDispatch& dispatch, uint32_t budget);

}  // namespace umka::ring
