// Laying out, checking, counting and closing a binding's ring pair.
#include "nucleus/ring/ring_pair.h"

namespace umka::ring {

namespace {

Errno refuse(const char** reason, Errno error, const char* text) {
    if (reason != nullptr) *reason = text;
    return error;
}

// The checks create() and attach() share: where the block is and how big it is.
Status check_block(const void* memory, size_t bytes, uint64_t entry_count, const char** reason) {
    if (memory == nullptr) return refuse(reason, Errno::InvalidArgument, "ring memory is null");
    if (reinterpret_cast<uintptr_t>(memory) % kCacheLineSize != 0) {
        return refuse(reason, Errno::InvalidArgument,
                      "ring memory is not aligned to a 64-byte cache line");
    }
    if (!is_valid_entry_count(entry_count)) {
        return refuse(reason, Errno::InvalidArgument,
                      "ring entry count is not a power of two between 2 and 2^20");
    }
    if (bytes < RingPair::bytes_for(static_cast<uint32_t>(entry_count))) {
        return refuse(reason, Errno::NoSpace,
                      "ring memory is smaller than RingPair::bytes_for(entry_count)");
    }
    return Status::ok();
}

uint64_t read_counter(const uint64_t& counter) {
    return detail::shared(const_cast<uint64_t&>(counter)).load(std::memory_order_relaxed);
}

}  // namespace

Result<RingPair> RingPair::create(void* memory, size_t bytes, uint32_t entry_count,
                                  const char** reason) {
    TRY(check_block(memory, bytes, entry_count, reason));
    // Zeroed so no earlier contents of the block reach either party through an entry.
    __builtin_memset(memory, 0, bytes_for(entry_count));
    auto* layout = static_cast<RingPairLayout*>(memory);
    layout->header.magic = kRingPairMagic;
    layout->header.format = kRingPairFormat;
    layout->header.entry_count = entry_count;
    layout->header.entry_size = UMKA_KABI_RING_ENTRY_SIZE;
    layout->header.total_bytes = bytes_for(entry_count);
    RingPair pair(layout);
    // initialize() ends with a release store, which publishes the header with it.
    pair.requests().initialize();
    pair.completions().initialize();
    return pair;
}

Result<RingPair> RingPair::attach(void* memory, size_t bytes, const char** reason) {
    if (memory == nullptr || bytes < sizeof(RingPairLayout)) {
        return refuse(
            reason, memory == nullptr ? Errno::InvalidArgument : Errno::NoSpace,
            memory == nullptr ? "ring memory is null" : "ring memory is smaller than its header");
    }
    const RingPairHeader& header = static_cast<const RingPairLayout*>(memory)->header;
    if (header.magic != kRingPairMagic) {
        return refuse(reason, Errno::BadMessage, "ring memory does not start with the UKRP magic");
    }
    if (header.format != kRingPairFormat) {
        return refuse(reason, Errno::BadMessage, "ring memory has an unknown layout format");
    }
    if (header.entry_size != UMKA_KABI_RING_ENTRY_SIZE) {
        return refuse(reason, Errno::BadMessage,
                      "ring entry size is not UMKA_KABI_RING_ENTRY_SIZE");
    }
    TRY(check_block(memory, bytes, header.entry_count, reason));
    if (header.total_bytes != bytes_for(header.entry_count)) {
        return refuse(reason, Errno::BadMessage, "ring size record does not match its entry count");
    }
    return RingPair(static_cast<RingPairLayout*>(memory));
}

RingCounters RingPair::counters() const {
    const SpscRingControl& requests = layout_->requests;
    const SpscRingControl& completions = layout_->completions;
    RingCounters counters{};
    counters.submitted = read_counter(requests.head);
    counters.completed = read_counter(completions.head);
    counters.request_doorbells = read_counter(requests.doorbells);
    counters.completion_doorbells = read_counter(completions.doorbells);
    counters.doorbells = counters.request_doorbells + counters.completion_doorbells;
    counters.full_ring_waits =
        read_counter(requests.full_waits) + read_counter(completions.full_waits);
    counters.space_wakeups =
        read_counter(requests.space_wakeups) + read_counter(completions.space_wakeups);
    return counters;
}

void RingPair::close(const RingSignals& signals) const {
    requests().close(signals, RingParty::Caller, RingParty::Provider);
    completions().close(signals, RingParty::Provider, RingParty::Caller);
}

}  // namespace umka::ring
