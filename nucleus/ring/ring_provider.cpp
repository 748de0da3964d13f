// The provider's end of a ring binding and its consumer loop (see ring_provider.h).
#include "nucleus/ring/ring_provider.h"

namespace umka::ring {

RingProvider::RingProvider(RingPair pair, const RingSignals* signals)
    : pair_(pair),
      signals_(signals),
      requests_(pair.requests(), signals, RingParty::Provider, RingParty::Caller),
      completions_(pair.completions(), signals, RingParty::Provider, RingParty::Caller) {}

WaitOutcome RingProvider::wait_for_work() {
    if (requests_.available() == 0) return requests_.wait_for_entries();
    // A request waits but every completion slot is taken: the caller holds more than its
    // credit. Sleep until it hands slots back (it wakes us from release()).
    if (completions_.try_reserve() == nullptr) return completions_.wait_for_space();
    return WaitOutcome::Ready;
}

namespace {
// Completions of one batch go out with one index store, but at least every this many, so
// a caller waiting for an early answer does not wait for a long batch to finish.
constexpr uint32_t kCompletionFlushInterval = 16;
}  // namespace

Result<uint32_t> serve(RingProvider& provider, const RingDispatch& dispatch, uint32_t budget) {
    if (dispatch.dispatch == nullptr) return Errno::InvalidArgument;
    if (provider.pair_.is_closed()) return Errno::IoError;
    uint32_t served = 0;
    while (served < budget) {
        const umka_kabi_ring_request* shared = provider.requests_.peek();
        if (shared == nullptr) break;
        umka_kabi_ring_completion* completion = provider.completions_.try_reserve();
        if (completion == nullptr) break;  // leave the request for when there is room

        umka_kabi_ring_request request;
        __builtin_memcpy(&request, shared, sizeof(request));
        provider.requests_.consume();

        completion->request_id = request.request_id;
        completion->opcode = request.opcode;
        completion->status = 0;
        if (request.payload_size > UMKA_KABI_RING_PAYLOAD_SIZE) {
            completion->status = static_cast<int32_t>(Errno::BadMessage);
            ++provider.oversized_requests_;
        } else {
            dispatch.dispatch(dispatch.context, request, *completion);
        }
        // The caller matches completions to requests by id; a dispatcher cannot change it.
        completion->request_id = request.request_id;
        provider.completions_.stage();
        ++served;
        if (served % kCompletionFlushInterval == 0) provider.completions_.flush();
    }
    provider.completions_.flush();
    provider.requests_.release();
    return served;
}

Status run_provider(RingProvider& provider, const RingDispatch& dispatch, uint32_t budget) {
    if (budget == 0 || dispatch.dispatch == nullptr) return Errno::InvalidArgument;
    for (;;) {
        Result<uint32_t> served = serve(provider, dispatch, budget);
        if (served.is_error()) {
            return served.error() == Errno::IoError ? Status::ok() : served.status();
        }
        if (served.value() == 0 && provider.wait_for_work() == WaitOutcome::Closed) {
            return Status::ok();
        }
    }
}

}  // namespace umka::ring
