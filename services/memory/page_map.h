// The page map: from any address to the heap's record of the page holding it, so free()
// and usable_size() need only the address, and an address the heap never handed out is
// recognised (its page has no entry) instead of corrupting a free list.
//
// A three-level radix tree over the 36 page-number bits of a 48-bit address (4-level
// paging; the sign-extended upper bits are checked, not indexed): root, middle and leaf
// nodes of 4096 u64 each (32 KiB regions from the nucleus, zeroed, never given back: a leaf
// covers 16 MiB of heap, so the tree costs 0.2% of the memory it maps). Lookups take no
// lock: nodes and entries are published with release stores after they are written, and
// nodes are never freed. Node creation is under HeapState.pool_lock (page_map.cpp).
#pragma once

#include "heap.h"

namespace umka::heap {

inline constexpr uint64_t kLargeTag = 1;  // low bit of an entry naming a HeapLargeAllocation
inline constexpr uint32_t kPageMapLevelBits = 12;
inline constexpr uint64_t kPageMapLevelMask = (uint64_t(1) << kPageMapLevelBits) - 1;
static_assert(kPageShift + 3 * kPageMapLevelBits == 48, "the tree covers 48-bit addresses");

inline bool is_canonical(uint64_t address) {
    return uint64_t(int64_t(address << 16) >> 16) == address;
}

struct PageIndex {
    uint64_t root;
    uint64_t middle;
    uint64_t leaf;
};

inline PageIndex page_index(uint64_t address) {
    uint64_t page = address >> kPageShift;
    return PageIndex{(page >> (2 * kPageMapLevelBits)) & kPageMapLevelMask,
                     (page >> kPageMapLevelBits) & kPageMapLevelMask, page & kPageMapLevelMask};
}

// The leaf entry of `address`'s page if its nodes exist, else nullptr.
inline uint64_t* find_page_entry(const HeapState& state, uint64_t address) {
    if (!is_canonical(address)) return nullptr;
    PageIndex index = page_index(address);
    uint64_t root = load_acquire(state.page_map_root);
    if (root == 0) return nullptr;
    uint64_t middle = load_acquire(at<uint64_t>(root)[index.root]);
    if (middle == 0) return nullptr;
    uint64_t leaf = load_acquire(at<uint64_t>(middle)[index.middle]);
    if (leaf == 0) return nullptr;
    return &at<uint64_t>(leaf)[index.leaf];
}

// The entry of the page holding `address`, 0 when the heap owns no such page.
inline uint64_t page_map_lookup(const HeapState& state, uint64_t address) {
    uint64_t* entry = find_page_entry(state, address);
    return entry == nullptr ? 0 : load_acquire(*entry);
}

// Sets the entries of `pages` pages from `address` (page aligned) to `entry`, making
// nodes as needed; ENOMEM (and every entry set so far cleared) when a node cannot be made.
Status page_map_set(const Heap& heap, uint64_t address, uint64_t pages, uint64_t entry);
void page_map_clear(HeapState& state, uint64_t address, uint64_t pages);
// Clears the entry of `address`'s page if it is `expected`; false when it was not (another
// free took it first).
bool page_map_take(HeapState& state, uint64_t address, uint64_t expected);

}  // namespace umka::heap
