// The nucleus-owned capability table: every binding a module receives is an entry (object,
// kind, rights, owner, generation). A handle is (index, generation); revoking bumps the
// entry's generation in O(1), so every outstanding handle and token for it goes stale at
// once. Storage and capacity come from the caller (capacity is discovered at run time).
//
// Status of a lookup (and why these errnos):
//   Errno::InvalidArgument  the handle is malformed: generation 0 or index past the table.
//   Errno::BadAddress       the handle is stale (EFAULT): it named a capability that has
//                           been revoked, like a dangling pointer. Never a crash.
//   Errno::NotPermitted     the capability is live but lacks a requested right (EPERM).
// check() gives the same answer as an enum for callers that branch on it.
//
// Concurrency: lookups and tokens are lock-free and may run on any CPU at any time.
// insert/revoke/revoke_owned/for_each_owned are the writer side: the caller serialises them
// (the nucleus holds its module lock). Entries are a seqlock: a free entry has generation 0
// (which no handle carries, so a guessed handle never reaches stale fields); the writer
// fills the fields and then stores the generation, and readers re-check the generation
// after reading them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::modules {

enum class CapabilityKind : uint8_t {
    None = 0,
    ServiceBinding = 1,  // object: the UmkaServiceSlot a module calls through
    StateRegion = 2,     // object: a module's state region
    Module = 3,          // object: a loaded module (for unload, swap)
    MemoryRegion = 4,    // object: nucleus memory handed to a module (kernel_services.ModuleMemory)
    DmaBuffer = 5,       // object: frames a module shares with its device (bus_access.Dma)
    MmioWindow = 6,      // object: device registers mapped for a module (bus_access.Mmio)
};
const char* capability_kind_name(CapabilityKind kind);

// Rights are a bitmask; a lookup names the rights it needs.
enum class Rights : uint32_t {
    None = 0,
    Call = 1u << 0,    // call through a service binding
    Read = 1u << 1,    // read the object (state region)
    Write = 1u << 2,   // modify the object
    Swap = 1u << 3,    // replace the provider behind a slot (evolution)
    Revoke = 1u << 4,  // revoke capabilities derived from this one
};
constexpr Rights operator|(Rights left, Rights right) {
    return Rights(uint32_t(left) | uint32_t(right));
}
constexpr Rights operator&(Rights left, Rights right) {
    return Rights(uint32_t(left) & uint32_t(right));
}
constexpr bool has_all(Rights held, Rights wanted) {
    return (held & wanted) == wanted;
}

// (generation << 32) | index. Generations start at 1, so value 0 is never a live handle.
struct CapabilityHandle {
    uint64_t value = 0;
    constexpr uint32_t index() const { return uint32_t(value); }
    constexpr uint32_t generation() const { return uint32_t(value >> 32); }
    static constexpr CapabilityHandle make(uint32_t index, uint32_t generation) {
        return CapabilityHandle{(uint64_t(generation) << 32) | index};
    }
    constexpr bool operator==(const CapabilityHandle&) const = default;
};

// One table entry, in caller-provided storage. Plain fields accessed with atomic builtins,
// so zero-filled memory is a valid (empty) entry before initialisation.
struct CapabilityEntry {
    void* object;
    uint32_t generation;  // what live handles carry; 0 while free, changing or retired
    uint32_t rights;
    uint32_t owner;
    uint32_t next_free;        // writer side only
    uint32_t next_generation;  // writer side only: the generation of the next insert
    uint8_t kind;
    uint8_t state;  // writer side only: free, live, retired
    uint8_t reserved[2];
};
static_assert(sizeof(CapabilityEntry) == 32);

struct CapabilityInfo {
    void* object;
    CapabilityKind kind;
    Rights rights;
    uint32_t owner;
};

enum class CapabilityCheck : uint8_t {
    Valid,
    Malformed,      // Errno::InvalidArgument
    Stale,          // Errno::BadAddress
    MissingRights,  // Errno::NotPermitted
};
Errno capability_check_errno(CapabilityCheck check);

// A capability validated once. still_valid() is one acquire load and a compare, so a hot
// path can keep using object() until the capability is revoked. The object itself must
// stay alive until every CPU has passed a quiescent point after revocation (the nucleus
// frees objects only after a rendezvous); the token only tells you revocation happened.
class CapabilityToken {
public:
    constexpr CapabilityToken() = default;
    bool still_valid() const {
        return entry_ != nullptr &&
               __atomic_load_n(&entry_->generation, __ATOMIC_ACQUIRE) == generation_;
    }
    void* object() const { return info_.object; }
    CapabilityKind kind() const { return info_.kind; }
    Rights rights() const { return info_.rights; }
    uint32_t owner() const { return info_.owner; }

private:
    friend class CapabilityTable;
    const CapabilityEntry* entry_ = nullptr;
    uint32_t generation_ = 0;
    CapabilityInfo info_{};
};

class CapabilityTable {
public:
    // `entries` holds `capacity` entries (any contents); capacity at most 2^32 - 1.
    CapabilityTable(CapabilityEntry* entries, size_t capacity);

    // Errno::NoSpace when every entry is live or retired; Errno::InvalidArgument for
    // CapabilityKind::None or a null object.
    Result<CapabilityHandle> insert(void* object, CapabilityKind kind, Rights rights,
                                    uint32_t owner);

    // O(1): bumps the generation. Errno::BadAddress if already stale. An entry whose
    // generation would wrap to 0 is retired for good instead of reused, so an old handle
    // can never match a new capability.
    Status revoke(CapabilityHandle handle);
    // Revokes every live capability of `owner` (module unload). Returns how many.
    size_t revoke_owned(uint32_t owner);
    // Live swap: every live capability of `from` of `kind` for which `accept(context,
    // object)` holds now belongs to `to` (same handle, same generation). One atomic store
    // per entry: a concurrent check sees the old or the new owner (a live swap's
    // replacement accepts both until this is done). Returns how many.
    size_t transfer_owned(uint32_t from, uint32_t to, CapabilityKind kind,
                          bool (*accept)(void* context, void* object), void* context);

    // Inline: this is the hot path (one acquire load, the fields, a fence, one re-load).
    CapabilityCheck check(CapabilityHandle handle, Rights wanted, CapabilityInfo* info) const {
        uint32_t index = handle.index();
        uint32_t generation = handle.generation();
        if (generation == 0 || index >= capacity_) return CapabilityCheck::Malformed;
        const CapabilityEntry& entry = entries_[index];
        if (__atomic_load_n(&entry.generation, __ATOMIC_ACQUIRE) != generation) {
            return CapabilityCheck::Stale;
        }
        CapabilityInfo seen{__atomic_load_n(&entry.object, __ATOMIC_RELAXED),
                            CapabilityKind(__atomic_load_n(&entry.kind, __ATOMIC_RELAXED)),
                            Rights(__atomic_load_n(&entry.rights, __ATOMIC_RELAXED)),
                            __atomic_load_n(&entry.owner, __ATOMIC_RELAXED)};
        // Seqlock read: the fields belong to `generation` only if it is still current.
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&entry.generation, __ATOMIC_RELAXED) != generation) {
            return CapabilityCheck::Stale;
        }
        if (!has_all(seen.rights, wanted)) return CapabilityCheck::MissingRights;
        if (info != nullptr) *info = seen;
        return CapabilityCheck::Valid;
    }
    Result<CapabilityInfo> lookup(CapabilityHandle handle, Rights wanted) const {
        CapabilityInfo info{};
        CapabilityCheck result = check(handle, wanted, &info);
        if (result != CapabilityCheck::Valid) return capability_check_errno(result);
        return info;
    }
    Result<CapabilityToken> validate(CapabilityHandle handle, Rights wanted) const;

    // Writer side (the console's `caps`): visits every live capability of `owner`.
    void for_each_owned(uint32_t owner,
                        void (*visit)(void* context, CapabilityHandle, const CapabilityInfo&),
                        void* context) const;

    size_t capacity() const { return capacity_; }
    size_t live_count() const { return live_count_; }

private:
    static constexpr uint32_t kNoEntry = 0xffffffff;

    CapabilityEntry* entries_;
    size_t capacity_;
    uint32_t free_head_ = kNoEntry;
    size_t live_count_ = 0;
};

}  // namespace umka::modules
