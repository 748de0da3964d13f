// A single-producer/single-consumer ring of fixed-size entries in memory someone else owns
// (the nucleus, for a binding; a test or a benchmark on the host). docs/rings.md has the
// layout, the ordering argument and the doorbell protocol; test/spin/ring.pml checks it.
//
// Shared state (SpscRingControl + the entry array) is plain integers and structs, reached
// through std::atomic_ref, so the same bytes can later be mapped into a user process and
// read by C code. Each end keeps its own position and a cached copy of the other end's
// index in private memory (SpscProducer / SpscConsumer), so the common case touches the
// other end's cache line only when the cached value says the ring is full or empty.
//
// publish() and release() are one index store and one load of the other end's sleep word
// (a cache hit while that end is busy); the only atomic read-modify-write is the doorbell,
// sent when the other end announced that it sleeps. With RingSignals::peer_barrier the
// index store is a plain release store (IndexOrder::PeerBarrier); without one it is
// sequentially consistent (an xchg on x86-64), see IndexOrder.
//
// Indices are 64-bit and only grow; the slot of index i is i & (entry_count - 1). They
// would wrap after 2^64 entries: 584 years at 10^9 entries a second, so wrap is not
// handled beyond using unsigned differences (head - tail), which stay right across it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>
#include <type_traits>

#include "nucleus/ring/ring_signals.h"
#include "umka/kabi/kabi_base.h"

namespace umka::ring {

inline constexpr size_t kCacheLineSize = 64;
// Two entries at least so "full" and "empty" differ by more than one publish; 2^20 entries
// (128 MiB per ring of 128-byte entries) is far beyond what a binding needs.
inline constexpr uint32_t kMinEntryCount = 2;
inline constexpr uint32_t kMaxEntryCount = 1u << 20;

constexpr bool is_valid_entry_count(uint64_t count) {
    return count >= kMinEntryCount && count <= kMaxEntryCount && (count & (count - 1)) == 0;
}

// The shared control block of one ring: four cache lines, each with one main writer, so
// the producer and the consumer never write the same line on the fast path. The two hot
// indices are 128 bytes apart (lines 0 and 2), so never in one aligned pair of lines:
// CPUs that fetch lines in pairs (the adjacent-line prefetcher) would otherwise move head
// and tail together between the two ends.
struct SpscRingControl {
    // Line 0, written by the producer: the index it will publish next. The consumer may
    // read entries [tail, head).
    alignas(kCacheLineSize) uint64_t head;
    // Times the producer found the ring full and waited (polling or asleep). Here, not on
    // line 1: a producer outrunning its consumer waits before nearly every entry, and a
    // write to the line the consumer reads on every release() would cost a cache miss
    // per entry; the consumer reads this line only when its cached head says "empty".
    uint64_t full_waits;
    // Line 1: the producer's sleep announcement (waiting for space) and the closed flag;
    // all rare writes (the consumer reads it after every release()).
    alignas(kCacheLineSize) uint32_t producer_state;
    uint32_t producer_cpu;
    uint64_t space_wakeups;  // wake-ups the consumer sent the producer; consumer-written
    uint32_t closed;         // 1 once either end closed the ring; never reset
    uint32_t reserved;
    // Line 2, written by the consumer: the index it will take next. The producer may
    // overwrite entries [head, tail + entry_count).
    alignas(kCacheLineSize) uint64_t tail;
    // Line 3: the consumer's sleep announcement (SleepState), apart from head and tail: the
    // producer reads it after every publish and it changes only when the consumer sleeps,
    // so that read stays a cache hit while the consumer is busy.
    alignas(kCacheLineSize) uint32_t consumer_state;
    uint32_t consumer_cpu;  // where the consumer said it sleeps (kUnknownCpu if unknown)
    uint64_t doorbells;     // wake-ups the producer sent the consumer; producer-written
};
static_assert(sizeof(SpscRingControl) == 4 * kCacheLineSize);
static_assert(std::is_trivially_copyable_v<SpscRingControl>);

// What a wait ended with: there is something to do, or the ring was closed (and, for a
// consumer, nothing is left to take).
enum class WaitOutcome : uint32_t {
    Ready = 0,
    Closed = 1,
};

// How publish() and release() order their index store before the load of the other end's
// sleep word: the two halves of the Dekker pair "store index, load state" / "store
// Sleeping, load index" that keeps a wake-up from being lost (docs/rings.md).
enum class IndexOrder : uint32_t {
    // A sequentially consistent store: both halves fenced; needs nothing from the binding.
    Fenced = 0,
    // A release store, which the CPU may let the following load overtake. A side about to
    // sleep runs RingSignals::peer_barrier between its announcement and its re-check:
    // after it, either the pending index store is visible to the re-check, or the other
    // end's load comes after the announcement and sees Sleeping. The fast path pays no
    // fence; the sleeper, already on its slow path, pays the barrier.
    PeerBarrier = 1,
};

// Both ends of a ring must be given the same RingSignals (so they agree on the order).
inline IndexOrder index_order_for(const RingSignals* signals) {
    return signals != nullptr && signals->peer_barrier != nullptr ? IndexOrder::PeerBarrier
                                                                  : IndexOrder::Fenced;
}

namespace detail {
template <typename T>
inline std::atomic_ref<T> shared(T& word) {
    return std::atomic_ref<T>(word);
}
// Counters with a single writer: a load and a store, no locked instruction. Readers (the
// console) may see a slightly old value, never a torn one.
inline void bump_counter(uint64_t& counter) {
    shared(counter).store(shared(counter).load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
}
// The index store of publish() and release(), ordered before the sleep-word load that
// follows it as `order` says.
inline void store_index(uint64_t& index, uint64_t value, IndexOrder order) {
    if (order == IndexOrder::PeerBarrier) {
        shared(index).store(value, std::memory_order_release);
        // Keeps the compiler from hoisting the sleep-word load above the store; the CPU
        // may still do it, which the sleeper's peer_barrier accounts for.
        std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
        shared(index).store(value, std::memory_order_seq_cst);
    }
}
}  // namespace detail

// A view of one ring: where its control block and entries are. Copyable; owns nothing.
template <typename Entry>
class SpscRing {
public:
    static_assert(std::is_trivially_copyable_v<Entry>, "entries are copied between domains");
    static_assert(sizeof(Entry) % kCacheLineSize == 0, "entries are whole cache lines");

    constexpr SpscRing() = default;
    // `control` and `entries` cache-line aligned, `entry_count` valid (checked by RingPair).
    constexpr SpscRing(SpscRingControl* control, Entry* entries, uint32_t entry_count)
        : control_(control), entries_(entries), entry_count_(entry_count) {}

    // Empty, open, both ends running, counters zero. Before either end attaches.
    void initialize() const;

    SpscRingControl* control() const { return control_; }
    Entry* entries() const { return entries_; }
    uint32_t entry_count() const { return entry_count_; }

    // Entries ever published / taken (the head and tail indices).
    uint64_t published() const {
        return detail::shared(control_->head).load(std::memory_order_acquire);
    }
    uint64_t taken() const {
        return detail::shared(control_->tail).load(std::memory_order_acquire);
    }
    bool is_closed() const {
        return detail::shared(control_->closed).load(std::memory_order_seq_cst) != 0;
    }

    // Marks the ring closed and wakes whichever end sleeps on it (`producer` and `consumer`
    // name the parties at the two ends). Either end, or the binding, may call it.
    void close(const RingSignals& signals, RingParty producer, RingParty consumer) const;

private:
    SpscRingControl* control_ = nullptr;
    Entry* entries_ = nullptr;
    uint32_t entry_count_ = 0;
};

// The producer end. One thread (or one CPU with preemption off) at a time.
template <typename Entry>
class SpscProducer {
public:
    SpscProducer() = default;
    // Continues from the ring's current head. `self` is this end's party (for wait()),
    // `consumer` the other end's (for wake()). `signals` must outlive the producer.
    SpscProducer(SpscRing<Entry> ring, const RingSignals* signals, RingParty self,
                 RingParty consumer);

    // The next free slot, or nullptr when the ring is full. Nothing is visible to the
    // consumer until publish(); calling try_reserve() twice returns the same slot.
    Entry* try_reserve() {
        uint64_t next = head_ + staged_;
        if (next - cached_tail_ > mask_) {
            // Looks full: fetch the consumer's progress. Acquire pairs with its release of
            // the tail, so its reads of the slot are done before we overwrite it.
            cached_tail_ = detail::shared(control_->tail).load(std::memory_order_acquire);
            if (next - cached_tail_ > mask_) return nullptr;
        }
        return &entries_[next & mask_];
    }

    // Up to `wanted` free slots in a row starting at the slot try_reserve() returns (a run
    // stops at the end of the entry array), for a burst filled with one copy; `count` gets
    // how many (0: the ring is full). Filling them and calling stage(count) is the same as
    // try_reserve() and stage() that many times.
    Entry* try_reserve_run(uint64_t wanted, uint64_t& count) {
        uint64_t next = head_ + staged_;
        uint64_t free = mask_ + 1 - (next - cached_tail_);
        if (free < wanted) {
            cached_tail_ = detail::shared(control_->tail).load(std::memory_order_acquire);
            free = mask_ + 1 - (next - cached_tail_);
        }
        uint64_t to_end = mask_ + 1 - (next & mask_);
        count = wanted < free ? wanted : free;
        if (count > to_end) count = to_end;
        return count == 0 ? nullptr : &entries_[next & mask_];
    }

    // Marks the reserved slot filled but keeps it invisible, so that several entries go
    // out with one index store by flush() (or the next publish()). The store is the
    // expensive part of a publish (see publish()), so batching pays when entries come in
    // bursts; the consumer sees nothing until the flush.
    void stage() { ++staged_; }
    void stage(uint64_t count) { staged_ += count; }

    // Makes the reserved slot (and any staged before it) visible and rings the doorbell if
    // the consumer sleeps.
    void publish() {
        ++staged_;
        flush();
    }

    // Makes the staged entries visible (nothing to do if there are none).
    void flush() {
        if (staged_ == 0) return;
        head_ += staged_;
        staged_ = 0;
        // Store, then load: with the consumer's "store Sleeping, load head" this is
        // Dekker's pattern (made whole by a fence here or the consumer's peer barrier,
        // see IndexOrder), so either the consumer's re-check sees these entries or we see
        // Sleeping and wake it. The store is a release: entries before the index.
        detail::store_index(control_->head, head_, order_);
        if (detail::shared(control_->consumer_state).load(std::memory_order_seq_cst) ==
            static_cast<uint32_t>(SleepState::Sleeping)) {
            wake_consumer();
        }
    }

    // Blocks until try_reserve() can succeed (Ready) or the ring is closed (Closed).
    // Flushes staged entries first (the consumer may be asleep waiting for exactly those).
    // Counts one full-ring wait when the ring was full on entry, unless `count_wait` is
    // false (the caller already counted this episode).
    WaitOutcome wait_for_space(bool count_wait = true);

    // Adds one to the ring's full-ring waits (for a caller that waits for credits, which
    // is the same backpressure one level up; see RingCaller).
    void note_full_wait() { detail::bump_counter(control_->full_waits); }

    // Published and staged entries the consumer has not taken yet.
    uint64_t occupancy() {
        cached_tail_ = detail::shared(control_->tail).load(std::memory_order_acquire);
        return head_ + staged_ - cached_tail_;
    }
    // The index of the slot try_reserve() returns (the next entry's index).
    uint64_t next_index() const { return head_ + staged_; }
    uint64_t staged() const { return staged_; }
    const SpscRing<Entry>& ring() const { return ring_; }

private:
    void wake_consumer();
    bool has_space_after_reload(std::memory_order order);

    SpscRing<Entry> ring_;
    SpscRingControl* control_ = nullptr;
    Entry* entries_ = nullptr;
    uint64_t mask_ = 0;
    uint64_t head_ = 0;         // the head as last stored (this end's copy is the truth)
    uint64_t staged_ = 0;       // filled entries after head_ not yet published
    uint64_t cached_tail_ = 0;  // the consumer's tail when last read
    const RingSignals* signals_ = nullptr;
    IndexOrder order_ = IndexOrder::Fenced;
    RingParty self_ = RingParty::Caller;
    RingParty consumer_ = RingParty::Provider;
};

// The consumer end. One thread at a time.
template <typename Entry>
class SpscConsumer {
public:
    SpscConsumer() = default;
    SpscConsumer(SpscRing<Entry> ring, const RingSignals* signals, RingParty self,
                 RingParty producer);

    // The oldest published entry not yet consumed, or nullptr when there is none. The
    // entry stays valid (the producer cannot reuse its slot) until release().
    const Entry* peek() {
        if (tail_ == cached_head_ && !reload_head(std::memory_order_acquire)) return nullptr;
        return &entries_[tail_ & mask_];
    }

    // Up to `wanted` published entries in a row from the one peek() returns (a run stops at
    // the end of the entry array), for a burst taken with one copy; `count` gets how many
    // (0: none). consume(count) then takes them.
    const Entry* peek_run(uint64_t wanted, uint64_t& count) {
        if (cached_head_ - tail_ < wanted) reload_head(std::memory_order_acquire);
        uint64_t ready = cached_head_ - tail_;
        uint64_t to_end = mask_ + 1 - (tail_ & mask_);
        count = wanted < ready ? wanted : ready;
        if (count > to_end) count = to_end;
        return count == 0 ? nullptr : &entries_[tail_ & mask_];
    }

    // Takes the entry peek() returned. Private to this end until release().
    void consume() { ++tail_; }
    void consume(uint64_t count) { tail_ += count; }

    // Hands every consumed slot back to the producer in one store and wakes the producer
    // if it waits for space. Batching consume() calls under one release() saves stores.
    void release() {
        if (tail_ == released_) return;
        released_ = tail_;
        // The same Dekker argument as publish(), mirrored: store tail, then load the
        // producer's sleep state. A release, so our reads of the slots are done before the
        // producer may overwrite them.
        detail::store_index(control_->tail, tail_, order_);
        if (detail::shared(control_->producer_state).load(std::memory_order_seq_cst) ==
            static_cast<uint32_t>(SleepState::Sleeping)) {
            wake_producer();
        }
    }

    // Blocks until an entry can be peeked (Ready) or the ring is closed and empty (Closed).
    // The doorbell protocol: poll spin_polls times, announce Sleeping, re-check, sleep.
    WaitOutcome wait_for_entries();

    // Published entries not consumed yet.
    uint64_t available() {
        reload_head(std::memory_order_acquire);
        return cached_head_ - tail_;
    }
    uint64_t tail() const { return tail_; }
    // Head values that claimed more than entry_count entries were ready (only a broken or
    // hostile producer writes one); they are ignored.
    uint64_t rejected_heads() const { return rejected_heads_; }
    const SpscRing<Entry>& ring() const { return ring_; }

private:
    // Reads the producer's head into cached_head_; true if entries are ready. A head more
    // than entry_count ahead of our tail (or behind it) is not believed.
    bool reload_head(std::memory_order order) {
        uint64_t head = detail::shared(control_->head).load(order);
        if (head - tail_ > mask_ + 1) {
            ++rejected_heads_;
            return false;
        }
        cached_head_ = head;
        return head != tail_;
    }
    void wake_producer();

    SpscRing<Entry> ring_;
    SpscRingControl* control_ = nullptr;
    const Entry* entries_ = nullptr;
    uint64_t mask_ = 0;
    uint64_t tail_ = 0;         // next index to consume
    uint64_t released_ = 0;     // the tail as last stored for the producer
    uint64_t cached_head_ = 0;  // the producer's head when last read
    uint64_t rejected_heads_ = 0;
    const RingSignals* signals_ = nullptr;
    IndexOrder order_ = IndexOrder::Fenced;
    RingParty self_ = RingParty::Provider;
    RingParty producer_ = RingParty::Caller;
};

// The ring code is compiled once, in spsc_ring.cpp, for the two KABI entry types.
extern template class SpscRing<umka_kabi_ring_request>;
extern template class SpscRing<umka_kabi_ring_completion>;
extern template class SpscProducer<umka_kabi_ring_request>;
extern template class SpscProducer<umka_kabi_ring_completion>;
extern template class SpscConsumer<umka_kabi_ring_request>;
extern template class SpscConsumer<umka_kabi_ring_completion>;

}  // namespace umka::ring
