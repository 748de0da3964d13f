// The caller's end of a ring binding (see ring_caller.h).
#include "nucleus/ring/ring_caller.h"

namespace umka::ring {

RingCaller::RingCaller(RingPair pair, const RingSignals* signals, CompletionHandler handler,
                       FullRingPolicy policy)
    : pair_(pair),
      signals_(signals),
      handler_(handler),
      policy_(policy),
      requests_(pair.requests(), signals, RingParty::Caller, RingParty::Provider),
      completions_(pair.completions(), signals, RingParty::Caller, RingParty::Provider),
      capacity_(pair.entry_count()) {
    // Attaching to a binding that was used before continues its accounting.
    submitted_ = requests_.next_index();
    retired_ = completions_.tail() <= submitted_ ? completions_.tail() : submitted_;
}

umka_kabi_ring_request* RingCaller::reserve() {
    if (held_ != nullptr) return nullptr;  // release() the last call's completion first
    if (pair_.is_closed()) return reserved_ = &scratch_;
    bool counted = false;
    for (;;) {
        if (outstanding() < capacity_) {
            umka_kabi_ring_request* slot = requests_.try_reserve();
            if (slot != nullptr) return reserved_ = slot;
        }
        if (policy_ == FullRingPolicy::Fail) {
            // Refusing while staged requests stay invisible would refuse for ever.
            requests_.flush();
            return nullptr;
        }
        bool count_this_wait = !counted;
        counted = true;
        if (outstanding() >= capacity_) {
            // No credit: only taking completions off the ring makes room, and asynchronous
            // completions can only go to the handler.
            if (handler_.complete == nullptr) return nullptr;
            if (count_this_wait) requests_.note_full_wait();
            requests_.flush();  // the provider cannot answer what it cannot see
            Result<uint32_t> reaped = reap(capacity_);
            if (reaped.is_error()) return nullptr;
            if (reaped.value() == 0 && completions_.wait_for_entries() == WaitOutcome::Closed) {
                return reserved_ = &scratch_;
            }
        } else if (requests_.wait_for_space(count_this_wait) == WaitOutcome::Closed) {
            // Credit but no slot: the provider answered but hands request slots back only
            // at the end of its batch. wait_for_space() sleeps until it does.
            return reserved_ = &scratch_;
        }
    }
}

uint64_t RingCaller::publish(umka_kabi_ring_request& entry, SubmitMode mode) {
    // The request's ring index is its id: unique for the binding's life (64-bit, see
    // spsc_ring.h) and known to both ends without another shared counter.
    uint64_t request_id = requests_.next_index();
    entry.request_id = request_id;
    if (mode == SubmitMode::Batched) {
        requests_.stage();
    } else {
        requests_.publish();
    }
    ++submitted_;
    reserved_ = nullptr;
    return request_id;
}

const umka_kabi_ring_completion* RingCaller::call(umka_kabi_ring_request& entry) {
    if (&entry == &scratch_ || &entry != reserved_ || held_ != nullptr) return nullptr;
    uint64_t request_id = publish(entry, SubmitMode::Now);
    for (;;) {
        const umka_kabi_ring_completion* completion = completions_.peek();
        if (completion == nullptr) {
            if (completions_.wait_for_entries() == WaitOutcome::Closed) return nullptr;
            continue;
        }
        // The provider answers in order, so anything before ours answers an earlier
        // asynchronous submission.
        if (completion->request_id == request_id) return held_ = completion;
        retire_other(*completion);
    }
}

void RingCaller::release(const umka_kabi_ring_completion& completion) {
    if (held_ == nullptr || &completion != held_) {
        ++misreleases_;
        return;
    }
    held_ = nullptr;
    completions_.consume();
    completions_.release();
    retire_one();
}

void RingCaller::retire_other(const umka_kabi_ring_completion& completion) {
    if (handler_.complete != nullptr) {
        handler_.complete(handler_.context, completion);
    } else {
        ++unmatched_completions_;
    }
    completions_.consume();
    completions_.release();
    retire_one();
}

void RingCaller::retire_one() {
    // A provider that sends more completions than we had requests must not make the
    // credit count wrap.
    if (retired_ < submitted_) ++retired_;
}

Result<uint64_t> RingCaller::submit(umka_kabi_ring_request& entry, SubmitMode mode) {
    if (&entry == &scratch_) return Errno::IoError;
    if (&entry != reserved_) return Errno::InvalidArgument;
    if (handler_.complete == nullptr) return Errno::InvalidArgument;
    return publish(entry, mode);
}

Result<uint32_t> RingCaller::reap(uint32_t budget) {
    if (handler_.complete == nullptr) return Errno::InvalidArgument;
    if (held_ != nullptr) return Errno::Busy;
    uint32_t reaped = 0;
    while (reaped < budget) {
        const umka_kabi_ring_completion* completion = completions_.peek();
        if (completion == nullptr) break;
        handler_.complete(handler_.context, *completion);
        completions_.consume();
        retire_one();
        ++reaped;
    }
    completions_.release();  // one store for the batch
    return reaped;
}

Status RingCaller::wait_for_completion() {
    requests_.flush();  // waiting on a request the provider cannot see would be for ever
    if (completions_.wait_for_entries() == WaitOutcome::Closed) return Errno::IoError;
    return Status::ok();
}

Status RingCaller::drain() {
    while (outstanding() > 0) {
        uint32_t reaped = TRY(reap(capacity_));
        if (reaped == 0) TRY(wait_for_completion());
    }
    return Status::ok();
}

}  // namespace umka::ring
