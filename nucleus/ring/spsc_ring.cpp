// The slow paths of the SPSC ring: initialisation, close, sleeping and waking. The fast
// paths (reserve, publish, peek, release) are inline in spsc_ring.h.
#include "nucleus/ring/spsc_ring.h"

namespace umka::ring {

namespace {

constexpr uint32_t kRunning = static_cast<uint32_t>(SleepState::Running);
constexpr uint32_t kSleeping = static_cast<uint32_t>(SleepState::Sleeping);

uint32_t current_cpu(const RingSignals& signals) {
    return signals.current_cpu != nullptr ? signals.current_cpu(signals.context) : kUnknownCpu;
}

// Moves a sleep-state word from Sleeping to Running. True for exactly one of the parties
// that race to do it (waker, closer, or the sleeper cancelling), so one wake-up is sent.
bool claim_wake(uint32_t& state) {
    uint32_t expected = kSleeping;
    return detail::shared(state).compare_exchange_strong(expected, kRunning,
                                                         std::memory_order_seq_cst);
}

// Announces that the calling end is about to sleep on `state`. The store is sequentially
// consistent so the re-check the caller does next cannot be ordered before it. Under
// IndexOrder::PeerBarrier the other end's index store is not fenced, so the barrier must
// come between the announcement and the re-check: afterwards the other end's last store
// is visible to the re-check, or its next sleep-word load sees the announcement.
void announce_sleep(const RingSignals& signals, IndexOrder order, uint32_t& state, uint32_t& cpu) {
    detail::shared(cpu).store(current_cpu(signals), std::memory_order_relaxed);
    detail::shared(state).store(kSleeping, std::memory_order_seq_cst);
    if (order == IndexOrder::PeerBarrier) signals.peer_barrier(signals.context);
}

}  // namespace

template <typename Entry>
void SpscRing<Entry>::initialize() const {
    SpscRingControl& control = *control_;
    detail::shared(control.head).store(0, std::memory_order_relaxed);
    detail::shared(control.tail).store(0, std::memory_order_relaxed);
    detail::shared(control.consumer_state).store(kRunning, std::memory_order_relaxed);
    detail::shared(control.consumer_cpu).store(kUnknownCpu, std::memory_order_relaxed);
    detail::shared(control.doorbells).store(0, std::memory_order_relaxed);
    detail::shared(control.producer_state).store(kRunning, std::memory_order_relaxed);
    detail::shared(control.producer_cpu).store(kUnknownCpu, std::memory_order_relaxed);
    detail::shared(control.full_waits).store(0, std::memory_order_relaxed);
    detail::shared(control.space_wakeups).store(0, std::memory_order_relaxed);
    control.reserved = 0;
    // Last, with release: whoever sees the ring open (attach) sees the rest initialised.
    detail::shared(control.closed).store(0, std::memory_order_release);
}

template <typename Entry>
void SpscRing<Entry>::close(const RingSignals& signals, RingParty producer,
                            RingParty consumer) const {
    // Closed first, then the sleep words: a party announcing sleep re-checks `closed`
    // after its announcement, so either it sees the flag or we see it Sleeping (the same
    // Dekker argument as publish()).
    detail::shared(control_->closed).store(1, std::memory_order_seq_cst);
    if (claim_wake(control_->consumer_state)) {
        signals.wake(signals.context, consumer,
                     detail::shared(control_->consumer_cpu).load(std::memory_order_relaxed));
    }
    if (claim_wake(control_->producer_state)) {
        signals.wake(signals.context, producer,
                     detail::shared(control_->producer_cpu).load(std::memory_order_relaxed));
    }
}

// --- producer -------------------------------------------------------------------------

template <typename Entry>
SpscProducer<Entry>::SpscProducer(SpscRing<Entry> ring, const RingSignals* signals, RingParty self,
                                  RingParty consumer)
    : ring_(ring),
      control_(ring.control()),
      entries_(ring.entries()),
      mask_(uint64_t{ring.entry_count()} - 1),
      signals_(signals),
      order_(index_order_for(signals)),
      self_(self),
      consumer_(consumer) {
    head_ = detail::shared(control_->head).load(std::memory_order_acquire);
    cached_tail_ = detail::shared(control_->tail).load(std::memory_order_acquire);
}

template <typename Entry>
void SpscProducer<Entry>::wake_consumer() {
    if (!claim_wake(control_->consumer_state)) return;  // it cancelled, or close() woke it
    detail::bump_counter(control_->doorbells);
    signals_->wake(signals_->context, consumer_,
                   detail::shared(control_->consumer_cpu).load(std::memory_order_relaxed));
}

template <typename Entry>
bool SpscProducer<Entry>::has_space_after_reload(std::memory_order order) {
    cached_tail_ = detail::shared(control_->tail).load(order);
    return head_ + staged_ - cached_tail_ <= mask_;
}

template <typename Entry>
WaitOutcome SpscProducer<Entry>::wait_for_space(bool count_wait) {
    flush();
    if (has_space_after_reload(std::memory_order_acquire)) return WaitOutcome::Ready;
    if (ring_.is_closed()) return WaitOutcome::Closed;
    if (count_wait) detail::bump_counter(control_->full_waits);
    // Polling, wait for a quarter of the ring (at most 32 slots) to come free, not one:
    // each poll pulls the consumer's tail line away from it, and resuming after every
    // single freed slot would make that happen once per entry (ring_bench measured the
    // difference). Once asleep, any release wakes us.
    const uint64_t room_wanted = (mask_ + 1) / 4 < 32 ? (mask_ + 1 + 3) / 4 : 32;
    for (uint32_t poll = 0; poll < signals_->spin_polls; ++poll) {
        relax_cpu();
        cached_tail_ = detail::shared(control_->tail).load(std::memory_order_acquire);
        if (head_ + staged_ - cached_tail_ + room_wanted <= mask_ + 1) return WaitOutcome::Ready;
        if (ring_.is_closed()) break;
    }
    if (has_space_after_reload(std::memory_order_acquire)) return WaitOutcome::Ready;
    for (;;) {
        announce_sleep(*signals_, order_, control_->producer_state, control_->producer_cpu);
        // The re-check: a consumer that released before our announcement did not see
        // Sleeping and will not wake us, so its tail must be visible here.
        bool ready = has_space_after_reload(std::memory_order_seq_cst);
        if (ready || ring_.is_closed()) {
            claim_wake(control_->producer_state);  // cancel (a racing waker's wake is harmless)
            return ready ? WaitOutcome::Ready : WaitOutcome::Closed;
        }
        signals_->wait(signals_->context, self_, &control_->producer_state);
        // Woken (the waker set Running) or returned early (still Sleeping: take it back).
        claim_wake(control_->producer_state);
        if (has_space_after_reload(std::memory_order_acquire)) return WaitOutcome::Ready;
        if (ring_.is_closed()) return WaitOutcome::Closed;
    }
}

// --- consumer -------------------------------------------------------------------------

template <typename Entry>
SpscConsumer<Entry>::SpscConsumer(SpscRing<Entry> ring, const RingSignals* signals, RingParty self,
                                  RingParty producer)
    : ring_(ring),
      control_(ring.control()),
      entries_(ring.entries()),
      mask_(uint64_t{ring.entry_count()} - 1),
      signals_(signals),
      order_(index_order_for(signals)),
      self_(self),
      producer_(producer) {
    tail_ = detail::shared(control_->tail).load(std::memory_order_acquire);
    released_ = tail_;
    cached_head_ = tail_;
}

template <typename Entry>
void SpscConsumer<Entry>::wake_producer() {
    if (!claim_wake(control_->producer_state)) return;
    detail::bump_counter(control_->space_wakeups);
    signals_->wake(signals_->context, producer_,
                   detail::shared(control_->producer_cpu).load(std::memory_order_relaxed));
}

template <typename Entry>
WaitOutcome SpscConsumer<Entry>::wait_for_entries() {
    if (tail_ != cached_head_ || reload_head(std::memory_order_acquire)) return WaitOutcome::Ready;
    // Slots we consumed but did not release would keep a waiting producer asleep while we
    // sleep too: hand them back before sleeping.
    release();
    for (uint32_t poll = 0; poll < signals_->spin_polls; ++poll) {
        relax_cpu();
        if (reload_head(std::memory_order_acquire)) return WaitOutcome::Ready;
        if (ring_.is_closed()) break;  // line 1: written only by sleepers and close()
    }
    for (;;) {
        if (ring_.is_closed()) {
            return reload_head(std::memory_order_acquire) ? WaitOutcome::Ready
                                                          : WaitOutcome::Closed;
        }
        announce_sleep(*signals_, order_, control_->consumer_state, control_->consumer_cpu);
        // The re-check (what test/spin/ring_no_recheck.pml leaves out): a producer that
        // published before our announcement did not see Sleeping and will not ring.
        bool ready = reload_head(std::memory_order_seq_cst);
        if (ready || ring_.is_closed()) {
            claim_wake(control_->consumer_state);  // cancel (a racing waker's wake is harmless)
            if (ready) return WaitOutcome::Ready;
            continue;  // closed: the top of the loop decides
        }
        signals_->wait(signals_->context, self_, &control_->consumer_state);
        claim_wake(control_->consumer_state);
        if (reload_head(std::memory_order_acquire)) return WaitOutcome::Ready;
    }
}

template class SpscRing<umka_kabi_ring_request>;
template class SpscRing<umka_kabi_ring_completion>;
template class SpscProducer<umka_kabi_ring_request>;
template class SpscProducer<umka_kabi_ring_completion>;
template class SpscConsumer<umka_kabi_ring_request>;
template class SpscConsumer<umka_kabi_ring_completion>;

}  // namespace umka::ring
