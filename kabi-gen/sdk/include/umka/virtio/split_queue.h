// A virtio 1.x split virtqueue, driver side (virtio 1.2 §2.7): descriptor table, driver
// area (the available ring) and device area (the used ring) in one DMA region the caller
// allocated, with indirect descriptors (VIRTIO_F_INDIRECT_DESC) and notification
// suppression by event index (VIRTIO_F_EVENT_IDX). Header-only and freestanding, so any
// driver module (and the host tests, against a device model) uses this one copy.
//
// The used ring is written by the device: every entry is checked before it is believed.
// An id that is out of range or not in flight, a length larger than the device-writable
// bytes of that request, or a used index that runs ahead of what was made available
// breaks the queue (problem() says which); the driver must then reset the device. Nothing
// from the device is used as an index without that check.
//
// Layout of the region (memory_bytes): descriptor table (16 bytes per entry, 16-aligned),
// available ring (6 + 2 * size bytes), used ring (4-aligned, 6 + 8 * size), then per entry
// an indirect table of kMaximumSegments descriptors and the driver's own bookkeeping
// (token, device-writable bytes, chain length; the free list's and the chains' links, so
// the table's `next` fields, which the device could rewrite, are never read back). The
// device is told only the first three.
// Little-endian fields are written as native: this code builds for x86-64 only.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace umka::virtio {

inline constexpr uint16_t kMaximumQueueSize = 1024;
inline constexpr uint16_t kMaximumSegments = 16;  // per request

struct Descriptor {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);
inline constexpr uint16_t kDescriptorNext = 1;
inline constexpr uint16_t kDescriptorWrite = 2;
inline constexpr uint16_t kDescriptorIndirect = 4;
inline constexpr uint16_t kAvailableNoInterrupt = 1;
inline constexpr uint16_t kUsedNoNotify = 1;

struct UsedElement {
    uint32_t id;
    uint32_t length;
};

// One buffer of a request, as the device sees it.
struct Segment {
    uint64_t device_address;
    uint32_t length;
    bool device_writes;  // the device writes it (VIRTQ_DESC_F_WRITE); else it reads it
};

// The DMA region the queue lives in: CPU address, device address, bytes.
struct QueueMemory {
    uint8_t* cpu;
    uint64_t device;
    uint64_t length;
};

enum class QueueProblem : uint8_t {
    None,
    UsedIdOutOfRange,
    UsedIdNotInFlight,
    UsedLengthTooLarge,
    UsedIndexRanAhead,
};

inline const char* queue_problem_name(QueueProblem problem) {
    switch (problem) {
    case QueueProblem::None:
        return "none";
    case QueueProblem::UsedIdOutOfRange:
        return "used-ring id out of range";
    case QueueProblem::UsedIdNotInFlight:
        return "used-ring id of a request not in flight";
    case QueueProblem::UsedLengthTooLarge:
        return "used length larger than the request's buffers";
    case QueueProblem::UsedIndexRanAhead:
        return "used index ahead of the available index";
    }
    return "?";
}

enum class SubmitResult : uint8_t { Submitted, NoRoom, BadRequest, Broken };
enum class PollResult : uint8_t { Empty, Completed, Broken };

struct Completion {
    uint64_t token;
    uint32_t written;  // bytes the device says it wrote
};

class SplitQueue {
public:
    // Bytes of DMA memory a queue of `size` entries needs.
    static constexpr uint64_t memory_bytes(uint16_t size) {
        return links_offset(size) + uint64_t(size) * sizeof(uint16_t);
    }

    // false: size 0, not a power of two or above kMaximumQueueSize, or memory smaller than
    // memory_bytes(size) or not 16-byte aligned. The region is zeroed here.
    bool initialize(const QueueMemory& memory, uint16_t size, bool indirect, bool event_index) {
        if (size == 0 || size > kMaximumQueueSize || (size & (size - 1)) != 0) return false;
        if (memory.cpu == nullptr || memory.length < memory_bytes(size) ||
            (reinterpret_cast<uintptr_t>(memory.cpu) & 15) != 0 || (memory.device & 15) != 0) {
            return false;
        }
        __builtin_memset(memory.cpu, 0, memory_bytes(size));
        memory_ = memory;
        size_ = size;
        indirect_ = indirect;
        event_index_ = event_index;
        for (uint16_t index = 0; index + 1 < size; ++index) links()[index] = uint16_t(index + 1);
        free_head_ = 0;
        free_count_ = size;
        available_index_ = 0;
        last_used_ = 0;
        in_flight_ = 0;
        interrupts_ = Interrupts::Enabled;
        problem_ = QueueProblem::None;
        return true;
    }

    uint16_t size() const { return size_; }
    uint16_t in_flight() const { return in_flight_; }
    uint16_t free_descriptors() const { return free_count_; }
    QueueProblem problem() const { return problem_; }
    uint64_t descriptor_table_address() const { return memory_.device; }
    uint64_t driver_area_address() const { return memory_.device + available_offset(size_); }
    uint64_t device_area_address() const { return memory_.device + used_offset(size_); }

    // Makes one request available: `count` segments, the device-read ones first (the
    // device processes them in order). `token` comes back with its completion.
    SubmitResult submit(const Segment* segments, uint16_t count, uint64_t token) {
        if (problem_ != QueueProblem::None) return SubmitResult::Broken;
        if (segments == nullptr || count == 0 || count > kMaximumSegments) {
            return SubmitResult::BadRequest;
        }
        uint64_t writable = 0;
        for (uint16_t index = 0; index < count; ++index) {
            if (segments[index].length == 0) return SubmitResult::BadRequest;
            if (segments[index].device_writes) writable += segments[index].length;
        }
        bool use_indirect = indirect_ && count > 1;
        uint16_t needed = use_indirect ? 1 : count;
        if (needed > size_) return SubmitResult::BadRequest;  // would never fit
        if (free_count_ < needed) return SubmitResult::NoRoom;
        uint16_t head = free_head_;
        if (use_indirect) {
            Descriptor* indirect = indirect_table(head);
            for (uint16_t index = 0; index < count; ++index) {
                indirect[index] = describe(segments[index]);
                if (index + 1 < count) {
                    indirect[index].flags |= kDescriptorNext;
                    indirect[index].next = uint16_t(index + 1);
                }
            }
            Descriptor& descriptor = table()[head];
            free_head_ = links()[head];
            descriptor.address = indirect_table_address(head);
            descriptor.length = uint32_t(count * sizeof(Descriptor));
            descriptor.flags = kDescriptorIndirect;
        } else {
            uint16_t current = head;
            for (uint16_t index = 0; index < count; ++index) {
                Descriptor& descriptor = table()[current];
                uint16_t next = links()[current];
                descriptor.address = segments[index].device_address;
                descriptor.length = segments[index].length;
                descriptor.flags = segments[index].device_writes ? kDescriptorWrite : 0;
                if (index + 1 < count) {
                    descriptor.flags |= kDescriptorNext;
                    descriptor.next = next;  // the free list's order is the chain's
                }
                current = next;
            }
            free_head_ = current;
        }
        free_count_ = uint16_t(free_count_ - needed);
        Entry& entry = entries()[head];
        entry.token = token;
        entry.writable = uint32_t(writable > 0xFFFFFFFFu ? 0xFFFFFFFFu : writable);
        entry.chain = needed;
        entry.in_flight = 1;
        ++in_flight_;
        available_ring()[available_index_ & (size_ - 1)] = head;
        ++available_index_;
        // The descriptors and the ring entry are visible before the index that publishes them.
        __atomic_store_n(available_index_field(), available_index_, __ATOMIC_RELEASE);
        return SubmitResult::Submitted;
    }

    // Whether the device asked to be told about what was made available since the last
    // notification (`previous`: the available index then).
    bool needs_notify(uint16_t previous) const {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);  // our index store before reading theirs
        if (event_index_) {
            uint16_t event = __atomic_load_n(available_event_field(), __ATOMIC_ACQUIRE);
            // vring_need_event: the device's event index lies in (previous, current].
            return uint16_t(available_index_ - event - 1) < uint16_t(available_index_ - previous);
        }
        return (__atomic_load_n(used_flags_field(), __ATOMIC_ACQUIRE) & kUsedNoNotify) == 0;
    }
    uint16_t available_index() const { return available_index_; }

    // The next completion, checked; Broken (and problem()) when the device misbehaved.
    PollResult poll(Completion* completion) {
        if (problem_ != QueueProblem::None) return PollResult::Broken;
        uint16_t used_index = __atomic_load_n(used_index_field(), __ATOMIC_ACQUIRE);
        if (used_index == last_used_) return PollResult::Empty;
        if (uint16_t(used_index - last_used_) > in_flight_) {
            return fail(QueueProblem::UsedIndexRanAhead);
        }
        UsedElement element = used_ring()[last_used_ & (size_ - 1)];
        if (element.id >= size_) return fail(QueueProblem::UsedIdOutOfRange);
        Entry& entry = entries()[element.id];
        if (entry.in_flight == 0) return fail(QueueProblem::UsedIdNotInFlight);
        if (element.length > entry.writable) return fail(QueueProblem::UsedLengthTooLarge);
        ++last_used_;
        if (event_index_ && interrupts_ == Interrupts::Enabled) {
            // Interrupt again once the device has used the next one.
            __atomic_store_n(used_event_field(), last_used_, __ATOMIC_RELEASE);
        }
        completion->token = entry.token;
        completion->written = element.length;
        release_chain(uint16_t(element.id), entry);
        return PollResult::Completed;
    }

    // Interrupts off: the driver polls. With VIRTIO_F_EVENT_IDX the flag must stay 0
    // (§2.7.7.2) and the device goes by used_event, which poll() then stops advancing.
    void disable_interrupts() {
        interrupts_ = Interrupts::Disabled;
        if (!event_index_)
            __atomic_store_n(available_flags_field(), kAvailableNoInterrupt, __ATOMIC_RELEASE);
    }
    // Interrupts on again. True when completions arrived meanwhile (the device may not
    // interrupt for them): the driver polls once more instead of waiting.
    bool enable_interrupts() {
        interrupts_ = Interrupts::Enabled;
        if (event_index_) {
            __atomic_store_n(used_event_field(), last_used_, __ATOMIC_RELEASE);
        } else {
            __atomic_store_n(available_flags_field(), uint16_t(0), __ATOMIC_RELEASE);
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);  // our store before reading the used index
        return __atomic_load_n(used_index_field(), __ATOMIC_ACQUIRE) != last_used_;
    }

    // The requests still in flight, for a reset: each token once, then the queue is empty
    // (the device was reset, so nothing more will come back). Returns how many.
    template <typename Visit>
    uint16_t drain(Visit&& visit) {
        uint16_t drained = 0;
        for (uint16_t id = 0; id < size_; ++id) {
            Entry& entry = entries()[id];
            if (entry.in_flight == 0) continue;
            visit(entry.token);
            release_chain(id, entry);
            ++drained;
        }
        return drained;
    }

    // A queue an earlier instance of this driver set up in `memory` with `size` entries,
    // taken over after the device was reset (so the device no longer reads or writes it):
    // each request its bookkeeping holds in flight is visited once, by token, and the record
    // cleared. Only the driver's own records are read, never the rings; a size that does not
    // fit `memory` visits nothing. Returns how many were visited.
    template <typename Visit>
    static uint16_t drain_abandoned(const QueueMemory& memory, uint16_t size, Visit&& visit) {
        if (size == 0 || size > kMaximumQueueSize || (size & (size - 1)) != 0 ||
            memory.cpu == nullptr || memory.length < memory_bytes(size) ||
            (reinterpret_cast<uintptr_t>(memory.cpu) & 15) != 0) {
            return 0;
        }
        auto* entries = reinterpret_cast<Entry*>(memory.cpu + bookkeeping_offset(size));
        uint16_t drained = 0;
        for (uint16_t id = 0; id < size; ++id) {
            if (entries[id].in_flight == 0) continue;
            visit(entries[id].token);
            entries[id] = Entry{};
            ++drained;
        }
        return drained;
    }

private:
    struct Entry {
        uint64_t token;
        uint32_t writable;
        uint16_t chain;
        uint16_t in_flight;
    };
    static_assert(sizeof(Entry) == 16, "links_offset counts 16 bytes per entry");

    static constexpr uint64_t align(uint64_t value, uint64_t to) {
        return (value + to - 1) & ~(to - 1);
    }
    static constexpr uint64_t available_offset(uint16_t size) { return uint64_t(size) * 16; }
    static constexpr uint64_t used_offset(uint16_t size) {
        return align(available_offset(size) + 6 + 2 * uint64_t(size), 4);
    }
    static constexpr uint64_t indirect_offset(uint16_t size) {
        return align(used_offset(size) + 6 + 8 * uint64_t(size), 16);
    }
    static constexpr uint64_t bookkeeping_offset(uint16_t size) {
        return indirect_offset(size) + uint64_t(size) * kMaximumSegments * sizeof(Descriptor);
    }
    static constexpr uint64_t links_offset(uint16_t size) {
        return bookkeeping_offset(size) + uint64_t(size) * 16;  // sizeof(Entry)
    }

    Descriptor* table() const { return reinterpret_cast<Descriptor*>(memory_.cpu); }
    uint16_t* available_base() const {
        return reinterpret_cast<uint16_t*>(memory_.cpu + available_offset(size_));
    }
    uint16_t* available_flags_field() const { return available_base(); }
    uint16_t* available_index_field() const { return available_base() + 1; }
    uint16_t* available_ring() const { return available_base() + 2; }
    uint16_t* used_event_field() const { return available_base() + 2 + size_; }
    uint16_t* used_base() const {
        return reinterpret_cast<uint16_t*>(memory_.cpu + used_offset(size_));
    }
    uint16_t* used_flags_field() const { return used_base(); }
    uint16_t* used_index_field() const { return used_base() + 1; }
    UsedElement* used_ring() const { return reinterpret_cast<UsedElement*>(used_base() + 2); }
    uint16_t* available_event_field() const {
        return reinterpret_cast<uint16_t*>(used_ring() + size_);
    }
    Descriptor* indirect_table(uint16_t head) const {
        return reinterpret_cast<Descriptor*>(memory_.cpu + indirect_offset(size_)) +
               uint64_t(head) * kMaximumSegments;
    }
    uint64_t indirect_table_address(uint16_t head) const {
        return memory_.device + indirect_offset(size_) +
               uint64_t(head) * kMaximumSegments * sizeof(Descriptor);
    }
    Entry* entries() const {
        return reinterpret_cast<Entry*>(memory_.cpu + bookkeeping_offset(size_));
    }
    // The free list and each chain's links, as the driver made them: the table's `next`
    // fields are written for the device but never read back (it could rewrite them).
    uint16_t* links() const {
        return reinterpret_cast<uint16_t*>(memory_.cpu + links_offset(size_));
    }

    static Descriptor describe(const Segment& segment) {
        return Descriptor{segment.device_address, segment.length,
                          uint16_t(segment.device_writes ? kDescriptorWrite : 0), 0};
    }

    // Back on the free list: the chain's descriptors, from our own record of its length
    // (never from the table, which the device can write).
    void release_chain(uint16_t head, Entry& entry) {
        uint16_t last = head;
        for (uint16_t step = 1; step < entry.chain; ++step) last = links()[last];
        links()[last] = free_head_;
        free_head_ = head;
        free_count_ = uint16_t(free_count_ + entry.chain);
        entry = Entry{};
        --in_flight_;
    }

    PollResult fail(QueueProblem problem) {
        problem_ = problem;
        return PollResult::Broken;
    }

    QueueMemory memory_{};
    uint16_t size_ = 0;
    uint16_t free_head_ = 0;
    uint16_t free_count_ = 0;
    uint16_t available_index_ = 0;
    uint16_t last_used_ = 0;
    uint16_t in_flight_ = 0;
    bool indirect_ = false;
    bool event_index_ = false;
    enum class Interrupts : uint8_t { Enabled, Disabled };
    Interrupts interrupts_ = Interrupts::Enabled;
    QueueProblem problem_ = QueueProblem::None;
};

}  // namespace umka::virtio
