// The shared memory of one ring binding: a request ring (caller → provider) and a
// completion ring (provider → caller) with the same entry count, in one block the nucleus
// owns. RingCaller and RingProvider are the two ends; RingPair is only the layout, the
// counters, and close.
//
// Layout (offsets in bytes, E = entry_count, every part cache-line aligned):
//   0                 RingPairHeader (magic, format, entry count, size)
//   64                SpscRingControl of the request ring (4 lines)
//   320               SpscRingControl of the completion ring (4 lines)
//   576               E request entries (umka_kabi_ring_request, 128 bytes each)
//   576 + 128 E       E completion entries (umka_kabi_ring_completion)
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/ring/spsc_ring.h"

namespace umka::ring {

inline constexpr uint32_t kRingPairMagic = 0x50524b55u;  // "UKRP"
inline constexpr uint32_t kRingPairFormat = 1;

struct RingPairHeader {
    alignas(kCacheLineSize) uint32_t magic;
    uint32_t format;
    uint32_t entry_count;
    uint32_t entry_size;
    uint64_t total_bytes;
};

struct RingPairLayout {
    RingPairHeader header;
    SpscRingControl requests;
    SpscRingControl completions;
};
static_assert(sizeof(RingPairLayout) == 9 * kCacheLineSize);
static_assert(sizeof(umka_kabi_ring_request) == UMKA_KABI_RING_ENTRY_SIZE);
static_assert(sizeof(umka_kabi_ring_completion) == UMKA_KABI_RING_ENTRY_SIZE);

// Per-binding counters, as the console shows them. All 64-bit and monotonic: at 10^9
// events a second they wrap after 584 years, so wrap is not handled. Each is read with a
// relaxed load and written by one party only, so a snapshot may be a few events stale and
// the fields may come from slightly different moments (completed can briefly read above a
// submitted read earlier); none is ever torn.
struct RingCounters {
    uint64_t submitted;             // requests the caller published (request ring head)
    uint64_t completed;             // completions the provider published (completion head)
    uint64_t doorbells;             // request_doorbells + completion_doorbells
    uint64_t full_ring_waits;       // a producer found no room (or no credit) and waited
    uint64_t request_doorbells;     // caller woke a sleeping provider
    uint64_t completion_doorbells;  // provider woke a caller sleeping on its completion
    uint64_t space_wakeups;         // a consumer woke a producer waiting for room
};

class RingPair {
public:
    constexpr RingPair() = default;

    // Bytes of shared memory for a binding with `entry_count` entries per ring.
    static constexpr size_t bytes_for(uint32_t entry_count) {
        return sizeof(RingPairLayout) + 2 * size_t{entry_count} * UMKA_KABI_RING_ENTRY_SIZE;
    }

    // Lays out a new, empty, open binding in `memory` (cache-line aligned, at least
    // bytes_for(entry_count) bytes). EINVAL for a null or misaligned block or an entry
    // count that is not a power of two in [kMinEntryCount, kMaxEntryCount]; ENOSPC when
    // the block is too small. `reason`, if given, receives a sentence naming the problem.
    static Result<RingPair> create(void* memory, size_t bytes, uint32_t entry_count,
                                   const char** reason = nullptr);

    // Checks a block that create() laid out (e.g. the other end's mapping) and views it.
    // EBADMSG for a wrong magic, format, entry size or size record; EINVAL/ENOSPC as above.
    static Result<RingPair> attach(void* memory, size_t bytes, const char** reason = nullptr);

    bool is_valid() const { return layout_ != nullptr; }
    uint32_t entry_count() const { return layout_->header.entry_count; }

    SpscRing<umka_kabi_ring_request> requests() const {
        return {&layout_->requests, request_entries(), entry_count()};
    }
    SpscRing<umka_kabi_ring_completion> completions() const {
        return {&layout_->completions, completion_entries(), entry_count()};
    }

    RingCounters counters() const;

    // True once either end (or the binding) closed it. Closed is final.
    bool is_closed() const { return requests().is_closed() || completions().is_closed(); }

    // Closes both rings and wakes both parties wherever they sleep: a caller waiting for a
    // completion gets EIO, the provider's loop ends once it has nothing left to do.
    void close(const RingSignals& signals) const;

private:
    explicit RingPair(RingPairLayout* layout) : layout_(layout) {}
    umka_kabi_ring_request* request_entries() const {
        return reinterpret_cast<umka_kabi_ring_request*>(layout_ + 1);
    }
    umka_kabi_ring_completion* completion_entries() const {
        return reinterpret_cast<umka_kabi_ring_completion*>(request_entries() + entry_count());
    }

    RingPairLayout* layout_ = nullptr;
};

}  // namespace umka::ring
