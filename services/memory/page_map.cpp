// The page map: from any address to the heap's record of the page holding it, so free()
// and usable_size() need only the address, and an address the heap never handed out is
// recognised (its page has no entry) instead of corrupting a free list.
//
// A three-level radix tree over the 36 page-number bits of a 48-bit address (4-level
// paging; the sign-extended upper bits are checked, not indexed): root, middle and leaf
// nodes of 4096 u64 each (32 KiB regions from the nucleus, zeroed, never given back: a leaf
// covers 16 MiB of heap, so the tree costs 0.2% of the memory it maps). Lookups take no
// lock: nodes and entries are published with release stores after they are written, and
// nodes are never freed. Node creation is under HeapState.pool_lock, with the region
// obtained before taking it.
#include "heap.h"

namespace umka::heap {
namespace {

constexpr uint32_t kLevelBits = 12;
constexpr uint64_t kLevelMask = (uint64_t(1) << kLevelBits) - 1;
constexpr uint64_t kNodeBytes = (uint64_t(1) << kLevelBits) * sizeof(uint64_t);
static_assert(kPageShift + 3 * kLevelBits == 48, "the tree covers 48-bit addresses");

bool is_canonical(uint64_t address) {
    return uint64_t(int64_t(address << 16) >> 16) == address;
}

struct PageIndex {
    uint64_t root;
    uint64_t middle;
    uint64_t leaf;
};

PageIndex index_of(uint64_t address) {
    uint64_t page = address >> kPageShift;
    return PageIndex{(page >> (2 * kLevelBits)) & kLevelMask, (page >> kLevelBits) & kLevelMask,
                     page & kLevelMask};
}

uint64_t* node_at(uint64_t address) {
    return at<uint64_t>(address);
}

// The node `slot` points to, made (zeroed) if it does not exist yet; nullptr for ENOMEM.
uint64_t* ensure_node(const Heap& heap, uint64_t& slot) {
    if (uint64_t node = load_acquire(slot)) return node_at(node);
    Region region{};
    if (obtain_region(heap, kNodeBytes, services::MemoryFlags::Zeroed, &region).is_error()) {
        return nullptr;
    }
    uint64_t node = 0;
    {
        SpinGuard guard(heap.state->pool_lock);
        node = slot;
        if (node == 0) {
            node = region.address;
            store_release(slot, node);
            add_relaxed(heap.state->metadata_bytes, region.length);
        }
    }
    // Another CPU made the node meanwhile: this one was not needed.
    if (node != region.address) give_back_region(heap, region.handle, "spare page map node");
    return node_at(node);
}

// The leaf entry of `address`'s page, making nodes as needed; nullptr for ENOMEM.
uint64_t* ensure_entry(const Heap& heap, uint64_t address) {
    PageIndex index = index_of(address);
    uint64_t* root = ensure_node(heap, heap.state->page_map_root);
    if (root == nullptr) return nullptr;
    uint64_t* middle = ensure_node(heap, root[index.root]);
    if (middle == nullptr) return nullptr;
    uint64_t* leaf = ensure_node(heap, middle[index.middle]);
    if (leaf == nullptr) return nullptr;
    return &leaf[index.leaf];
}

// The leaf entry of `address`'s page if its nodes exist, else nullptr.
uint64_t* find_entry(const HeapState& state, uint64_t address) {
    if (!is_canonical(address)) return nullptr;
    PageIndex index = index_of(address);
    uint64_t root = load_acquire(state.page_map_root);
    if (root == 0) return nullptr;
    uint64_t middle = load_acquire(node_at(root)[index.root]);
    if (middle == 0) return nullptr;
    uint64_t leaf = load_acquire(node_at(middle)[index.middle]);
    if (leaf == 0) return nullptr;
    return &node_at(leaf)[index.leaf];
}

}  // namespace

uint64_t page_map_lookup(const HeapState& state, uint64_t address) {
    uint64_t* entry = find_entry(state, address);
    return entry == nullptr ? 0 : load_acquire(*entry);
}

Status page_map_set(const Heap& heap, uint64_t address, uint64_t pages, uint64_t entry) {
    if (!is_canonical(address) || !is_canonical(address + pages * kPageSize - 1)) {
        // Not a 4-level-paging address: the nucleus handed out memory this layout cannot
        // map (README: 5-level paging needs a deeper tree).
        LineText line;
        line.text("heap: region at ").hex(address).text(" is outside the 48-bit page map");
        log_line(heap, services::LogLevel::Error, line);
        return UMKA_KABI_ENOMEM;
    }
    for (uint64_t page = 0; page < pages; ++page) {
        uint64_t* slot = ensure_entry(heap, address + page * kPageSize);
        if (slot == nullptr) {
            page_map_clear(*heap.state, address, page);
            return UMKA_KABI_ENOMEM;
        }
        store_release(*slot, entry);
    }
    return Status::ok();
}

void page_map_clear(HeapState& state, uint64_t address, uint64_t pages) {
    for (uint64_t page = 0; page < pages; ++page) {
        if (uint64_t* slot = find_entry(state, address + page * kPageSize)) {
            store_release(*slot, uint64_t(0));
        }
    }
}

bool page_map_take(HeapState& state, uint64_t address, uint64_t expected) {
    uint64_t* slot = find_entry(state, address);
    if (slot == nullptr) return false;
    return __atomic_compare_exchange_n(slot, &expected, uint64_t(0), false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

}  // namespace umka::heap
