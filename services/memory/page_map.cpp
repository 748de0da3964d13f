// The page map's writers: node creation, entries set, cleared and claimed (page_map.h has
// the layout and the lock-free lookup).
#include "page_map.h"

namespace umka::heap {
namespace {

constexpr uint64_t kNodeBytes = (uint64_t(1) << kPageMapLevelBits) * sizeof(uint64_t);

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
    PageIndex index = page_index(address);
    uint64_t* root = ensure_node(heap, heap.state->page_map_root);
    if (root == nullptr) return nullptr;
    uint64_t* middle = ensure_node(heap, root[index.root]);
    if (middle == nullptr) return nullptr;
    uint64_t* leaf = ensure_node(heap, middle[index.middle]);
    if (leaf == nullptr) return nullptr;
    return &leaf[index.leaf];
}

}  // namespace

Status page_map_set(const Heap& heap, uint64_t address, uint64_t pages, uint64_t entry) {
    if (!is_canonical(address) || !is_canonical(address + pages * kPageSize - 1)) {
        // Not a 4-level-paging address: the nucleus handed out memory this layout cannot
        // map (README: 5-level paging needs a deeper tree).
        LineText line;
        line.add("heap: region at ").hex(address).add(" is outside the 48-bit page map");
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
        if (uint64_t* slot = find_page_entry(state, address + page * kPageSize)) {
            store_release(*slot, uint64_t(0));
        }
    }
}

bool page_map_take(HeapState& state, uint64_t address, uint64_t expected) {
    uint64_t* slot = find_page_entry(state, address);
    if (slot == nullptr) return false;
    return __atomic_compare_exchange_n(slot, &expected, uint64_t(0), false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

}  // namespace umka::heap
