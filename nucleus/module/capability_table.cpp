#include "nucleus/module/capability_table.h"

namespace umka::modules {
namespace {

enum : uint8_t { kStateFree = 0, kStateLive = 1, kStateRetired = 2 };

// The seqlock's field stores: relaxed atomics (the generation stores order them).
template <typename T>
void store_relaxed(T& field, T value) {
    __atomic_store_n(&field, value, __ATOMIC_RELAXED);
}

}  // namespace

const char* capability_kind_name(CapabilityKind kind) {
    switch (kind) {
    case CapabilityKind::None:
        return "none";
    case CapabilityKind::ServiceBinding:
        return "service-binding";
    case CapabilityKind::StateRegion:
        return "state-region";
    case CapabilityKind::Module:
        return "module";
    case CapabilityKind::MemoryRegion:
        return "memory-region";
    case CapabilityKind::DmaBuffer:
        return "dma-buffer";
    case CapabilityKind::MmioWindow:
        return "mmio-window";
    }
    return "?";
}

Errno capability_check_errno(CapabilityCheck check) {
    switch (check) {
    case CapabilityCheck::Valid:
        return Errno::Ok;
    case CapabilityCheck::Malformed:
        return Errno::InvalidArgument;
    case CapabilityCheck::Stale:
        return Errno::BadAddress;
    case CapabilityCheck::MissingRights:
        return Errno::NotPermitted;
    }
    return Errno::InvalidArgument;
}

CapabilityTable::CapabilityTable(CapabilityEntry* entries, size_t capacity)
    : entries_(entries), capacity_(capacity < kNoEntry ? capacity : kNoEntry - 1) {
    // Free list in index order, so handles are handed out predictably (tests, console).
    for (size_t index = capacity_; index-- > 0;) {
        CapabilityEntry& entry = entries_[index];
        entry = CapabilityEntry{};
        entry.generation = 0;
        entry.next_generation = 1;
        entry.state = kStateFree;
        entry.next_free = free_head_;
        free_head_ = uint32_t(index);
    }
}

Result<CapabilityHandle> CapabilityTable::insert(void* object, CapabilityKind kind, Rights rights,
                                                 uint32_t owner) {
    if (kind == CapabilityKind::None || object == nullptr) return Errno::InvalidArgument;
    if (free_head_ == kNoEntry) return Errno::NoSpace;
    uint32_t index = free_head_;
    CapabilityEntry& entry = entries_[index];
    free_head_ = entry.next_free;
    uint32_t generation = entry.next_generation;  // never 0: wrapped entries are retired

    // Seqlock write. The generation is 0 while free (stored by revoke); the release fence
    // orders that store before the new field values, so a reader that sees a new field
    // also sees a changed generation on its re-check. Then the generation (release) that
    // makes the fields reachable.
    __atomic_thread_fence(__ATOMIC_RELEASE);
    store_relaxed(entry.object, object);
    store_relaxed(entry.rights, uint32_t(rights));
    store_relaxed(entry.owner, owner);
    store_relaxed(entry.kind, uint8_t(kind));
    entry.state = kStateLive;
    __atomic_store_n(&entry.generation, generation, __ATOMIC_RELEASE);
    ++live_count_;
    return CapabilityHandle::make(index, generation);
}

Status CapabilityTable::revoke(CapabilityHandle handle) {
    uint32_t index = handle.index();
    if (handle.generation() == 0 || index >= capacity_) return Errno::InvalidArgument;
    CapabilityEntry& entry = entries_[index];
    if (entry.state != kStateLive || entry.generation != handle.generation()) {
        return Errno::BadAddress;
    }
    // The single store that makes every handle and token of this capability stale.
    __atomic_store_n(&entry.generation, 0u, __ATOMIC_RELEASE);
    --live_count_;
    uint32_t next = handle.generation() + 1;
    entry.next_generation = next;
    if (next == 0) {
        entry.state = kStateRetired;  // 2^32 - 1 uses: never reuse, no handle can match 0
        return Status::ok();
    }
    entry.state = kStateFree;
    entry.next_free = free_head_;
    free_head_ = index;
    return Status::ok();
}

size_t CapabilityTable::revoke_owned(uint32_t owner) {
    size_t revoked = 0;
    for (size_t index = 0; index < capacity_; ++index) {
        CapabilityEntry& entry = entries_[index];
        if (entry.state != kStateLive || entry.owner != owner) continue;
        if (revoke(CapabilityHandle::make(uint32_t(index), entry.generation)).is_ok()) ++revoked;
    }
    return revoked;
}

size_t CapabilityTable::transfer_owned(uint32_t from, uint32_t to, CapabilityKind kind,
                                       bool (*accept)(void* context, void* object),
                                       void* context) {
    size_t moved = 0;
    for (size_t index = 0; index < capacity_; ++index) {
        CapabilityEntry& entry = entries_[index];
        if (entry.state != kStateLive || entry.owner != from || entry.kind != uint8_t(kind)) continue;
        if (accept != nullptr && !accept(context, entry.object)) continue;
        __atomic_store_n(&entry.owner, to, __ATOMIC_RELAXED);
        ++moved;
    }
    return moved;
}

Result<CapabilityToken> CapabilityTable::validate(CapabilityHandle handle, Rights wanted) const {
    CapabilityToken token;
    CapabilityCheck result = check(handle, wanted, &token.info_);
    if (result != CapabilityCheck::Valid) return capability_check_errno(result);
    token.entry_ = &entries_[handle.index()];
    token.generation_ = handle.generation();
    return token;
}

void CapabilityTable::for_each_owned(uint32_t owner,
                                     void (*visit)(void* context, CapabilityHandle,
                                                   const CapabilityInfo&),
                                     void* context) const {
    for (size_t index = 0; index < capacity_; ++index) {
        const CapabilityEntry& entry = entries_[index];
        if (entry.state != kStateLive || entry.owner != owner) continue;
        CapabilityInfo info{entry.object, CapabilityKind(entry.kind), Rights(entry.rights),
                            entry.owner};
        visit(context, CapabilityHandle::make(uint32_t(index), entry.generation), info);
    }
}

}  // namespace umka::modules
