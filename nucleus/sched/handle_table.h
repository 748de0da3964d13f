// Handles the nucleus gives modules for objects in fixed slots (threads, wait queues):
// (generation << 32) | (slot + 1). A slot's generation moves on each time the slot is
// freed, so a handle to an object that is gone (joined, destroyed) is stale instead of
// naming whatever reuses the slot; each slot records the owner that may use it, so a
// handle copied into another module is refused there. Generations start at 1 and skip 0
// on wrap, so the value 0 is never a live handle.
//
// Pure bookkeeping (no locks, no allocation): the caller serialises changes, and the
// host tests drive it directly.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::sched {

struct SlotHandle {
    static constexpr uint64_t make(uint32_t slot, uint32_t generation) {
        return (uint64_t(generation) << 32) | (uint64_t(slot) + 1);
    }
    // 0xFFFFFFFF for a value whose low half is 0 (never made by make()).
    static constexpr uint32_t slot(uint64_t handle) { return uint32_t(handle) - 1; }
    static constexpr uint32_t generation(uint64_t handle) { return uint32_t(handle >> 32); }
};

constexpr uint32_t kNoSlot = 0xFFFFFFFFu;

constexpr uint32_t next_generation(uint32_t generation) {
    return generation == 0xFFFFFFFFu ? 1 : generation + 1;
}

enum class HandleCheck : uint8_t {
    Valid,
    Malformed,  // no such slot (0, or past the table)
    Stale,      // the object it named is gone
    NotOwner,   // live, but another module's
};
constexpr const char* handle_check_name(HandleCheck check) {
    switch (check) {
    case HandleCheck::Valid:
        return "valid";
    case HandleCheck::Malformed:
        return "malformed";
    case HandleCheck::Stale:
        return "stale";
    case HandleCheck::NotOwner:
        return "not-owner";
    }
    return "?";
}

// What one slot holds, as far as handles are concerned.
struct SlotView {
    bool live;
    uint32_t generation;
    uint32_t owner;
};

// The one decision every handle lookup makes.
constexpr HandleCheck check_handle(uint64_t handle, SlotView slot, uint32_t caller) {
    if (!slot.live || SlotHandle::generation(handle) != slot.generation) return HandleCheck::Stale;
    if (slot.owner != caller) return HandleCheck::NotOwner;
    return HandleCheck::Valid;
}

// Slot number of a handle, or kNoSlot when it cannot name a slot of a table this size.
constexpr uint32_t handle_slot(uint64_t handle, size_t capacity) {
    uint32_t slot = SlotHandle::slot(handle);
    if (SlotHandle::generation(handle) == 0 || slot == kNoSlot || slot >= capacity) return kNoSlot;
    return slot;
}

// A table of generation-counted slots with owners and a count of callers inside each
// (a slot in use cannot be freed). Storage comes from the caller.
struct HandleSlot {
    uint32_t generation;  // of the live object, or of the next one while free
    uint32_t owner;
    uint32_t users;  // callers between acquire() and release()
    bool live;
};

class HandleTable {
public:
    HandleTable(HandleSlot* slots, size_t capacity) : slots_(slots), capacity_(capacity) {
        for (size_t index = 0; index < capacity; ++index)
            slots_[index] = HandleSlot{1, 0, 0, false};
    }

    // A free slot for `owner`: its handle. Errno::TryAgain when every slot is live.
    Result<uint64_t> create(uint32_t owner) {
        for (size_t index = 0; index < capacity_; ++index) {
            HandleSlot& slot = slots_[index];
            if (slot.live) continue;
            slot.live = true;
            slot.owner = owner;
            slot.users = 0;
            return SlotHandle::make(uint32_t(index), slot.generation);
        }
        return Errno::TryAgain;
    }

    HandleCheck check(uint64_t handle, uint32_t caller, uint32_t* slot_index) const {
        uint32_t index = handle_slot(handle, capacity_);
        if (index == kNoSlot) return HandleCheck::Malformed;
        const HandleSlot& slot = slots_[index];
        HandleCheck result = check_handle(handle, {slot.live, slot.generation, slot.owner}, caller);
        if (result == HandleCheck::Valid) *slot_index = index;
        return result;
    }

    // Marks a caller inside the slot's object until release(); destroy() refuses meanwhile.
    HandleCheck acquire(uint64_t handle, uint32_t caller, uint32_t* slot_index) {
        HandleCheck result = check(handle, caller, slot_index);
        if (result == HandleCheck::Valid) ++slots_[*slot_index].users;
        return result;
    }
    void release(uint32_t slot_index) { --slots_[slot_index].users; }

    // Frees the slot: every handle to it goes stale. Errno::Busy while a caller is inside.
    Status destroy(uint64_t handle, uint32_t caller) {
        uint32_t index = 0;
        if (check(handle, caller, &index) != HandleCheck::Valid) return Errno::InvalidArgument;
        HandleSlot& slot = slots_[index];
        if (slot.users != 0) return Errno::Busy;
        slot.live = false;
        slot.generation = next_generation(slot.generation);
        return Status::ok();
    }

    // Every live slot of `from` becomes `to`'s: a live swap hands the successor instance the
    // objects its state names. Handles stay valid (same slot, same generation). How many.
    size_t transfer(uint32_t from, uint32_t to) {
        size_t moved = 0;
        for (size_t index = 0; index < capacity_; ++index) {
            HandleSlot& slot = slots_[index];
            if (!slot.live || slot.owner != from) continue;
            slot.owner = to;
            ++moved;
        }
        return moved;
    }

    size_t capacity() const { return capacity_; }

private:
    HandleSlot* slots_;
    size_t capacity_;
};

}  // namespace umka::sched
