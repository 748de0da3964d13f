// The slab layer: each class's objects come from slabs, one ModuleMemory region each, with
// the HeapSlab record in its last 64 bytes. A class keeps its slabs on two lists (partial:
// some objects free; empty: none in use); full slabs are on no list and join the partial
// list when an object comes back. Free objects of a slab are a list threaded through their
// first 8 bytes, plus the never-used tail from `untouched` on (so a new slab needs no
// initialisation pass). A class keeps retained_empty_slabs() empty slabs (64 KiB worth);
// one more empty slab goes back to the nucleus, so a burst of frees returns its memory.
//
// Lists link HeapSlab addresses and end in 0: no node points into HeapState (heap.h).
#include "slabs.h"

namespace umka::heap {
namespace {

using layout::HeapSlabList;

uint64_t& list_head(HeapClassDepot& depot, HeapSlabList list) {
    return list == HeapSlabList::Partial ? depot.partial_slabs : depot.empty_slabs;
}

void push(HeapClassDepot& depot, HeapSlab* slab, HeapSlabList list) {
    uint64_t& head = list_head(depot, list);
    slab->previous = 0;
    slab->next = head;
    if (head != 0) at<HeapSlab>(head)->previous = address_of(slab);
    head = address_of(slab);
    slab->list = list;
}

void unlink(HeapClassDepot& depot, HeapSlab* slab) {
    if (slab->list != HeapSlabList::Full) {
        uint64_t& head = list_head(depot, slab->list);
        if (slab->previous != 0) {
            at<HeapSlab>(slab->previous)->next = slab->next;
        } else {
            head = slab->next;
        }
        if (slab->next != 0) at<HeapSlab>(slab->next)->previous = slab->previous;
    }
    slab->next = 0;
    slab->previous = 0;
    slab->list = HeapSlabList::Full;
}

void move(HeapClassDepot& depot, HeapSlab* slab, HeapSlabList list) {
    if (slab->list == HeapSlabList::Empty) depot.empty_slab_count -= 1;
    unlink(depot, slab);
    if (list == HeapSlabList::Full) return;
    push(depot, slab, list);
    if (list == HeapSlabList::Empty) depot.empty_slab_count += 1;
}

// Off the class (already unlinked) and onto `chain`.
void retire(HeapClassDepot& depot, HeapSlab* slab, SlabChain& chain) {
    depot.slabs -= 1;
    depot.slab_free_objects -= depot.objects_per_slab;
    slab->next = address_of(chain.first);
    chain.first = slab;
    chain.bytes += depot.slab_bytes;
}

}  // namespace

uint32_t slab_take(HeapClassDepot& depot, uint64_t* out, uint32_t wanted) {
    uint32_t taken = 0;
    while (taken < wanted) {
        uint64_t head = depot.partial_slabs != 0 ? depot.partial_slabs : depot.empty_slabs;
        if (head == 0) break;
        HeapSlab* slab = at<HeapSlab>(head);
        if (slab->list == HeapSlabList::Empty) move(depot, slab, HeapSlabList::Partial);
        while (taken < wanted && slab->in_use < depot.objects_per_slab) {
            uint64_t object = slab->free_list;
            if (object != 0) {
                slab->free_list = *at<uint64_t>(object);
            } else {
                object = slab->base + uint64_t(slab->untouched) * depot.object_size;
                // Published for checked_slab's racy read (an index past it was never
                // handed out); the object itself reaches its user through the caller.
                store_relaxed(slab->untouched, slab->untouched + 1);
            }
            out[taken++] = object;
            slab->in_use += 1;
        }
        if (slab->in_use == depot.objects_per_slab) move(depot, slab, HeapSlabList::Full);
    }
    depot.slab_free_objects -= taken;
    return taken;
}

void slab_put(HeapClassDepot& depot, HeapSlab* slab, uint64_t object, uint32_t retained_empty,
              SlabChain& chain) {
    *at<uint64_t>(object) = slab->free_list;
    slab->free_list = object;
    slab->in_use -= 1;
    depot.slab_free_objects += 1;
    if (slab->in_use == 0) {
        if (depot.empty_slab_count >= retained_empty) {
            unlink(depot, slab);
            retire(depot, slab, chain);
        } else {
            move(depot, slab, HeapSlabList::Empty);
        }
    } else if (slab->list == HeapSlabList::Full) {
        move(depot, slab, HeapSlabList::Partial);
    }
}

void slab_take_all_empty(HeapClassDepot& depot, SlabChain& chain) {
    while (depot.empty_slabs != 0) {
        HeapSlab* slab = at<HeapSlab>(depot.empty_slabs);
        move(depot, slab, HeapSlabList::Full);  // off the empty list
        retire(depot, slab, chain);
    }
}

Status slab_grow(const Heap& heap, uint32_t index) {
    ClassShape shape = class_shape(index);
    Region region{};
    if (Status status = obtain_region(heap, shape.slab_bytes, services::MemoryFlags{}, &region);
        status.is_error()) {
        return status;
    }
    auto* slab = at<HeapSlab>(region.address + shape.slab_bytes - sizeof(HeapSlab));
    *slab = HeapSlab{};
    slab->magic = kSlabMagic;
    slab->class_index = index;
    slab->region = region.handle;
    slab->base = region.address;
    slab->list = HeapSlabList::Full;  // on no list until added below
    if (Status status =
            page_map_set(heap, region.address, shape.slab_bytes / kPageSize, address_of(slab));
        status.is_error()) {
        give_back_region(heap, region.handle, "slab");
        return status;
    }
    HeapClassDepot& depot = heap.state->classes[index];
    SpinGuard guard(depot.lock);
    move(depot, slab, HeapSlabList::Empty);
    depot.slabs += 1;
    depot.slab_free_objects += depot.objects_per_slab;
    return Status::ok();
}

void release_slabs(const Heap& heap, SlabChain& chain) {
    HeapSlab* slab = chain.first;
    while (slab != nullptr) {
        // Everything needed is read before the region (which holds the record) goes.
        HeapSlab* next = at<HeapSlab>(slab->next);
        services::MemoryRegion handle = slab->region;
        uint64_t base = slab->base;
        uint64_t pages = class_shape(slab->class_index).slab_bytes / kPageSize;
        slab->magic = 0;
        page_map_clear(*heap.state, base, pages);
        give_back_region(heap, handle, "slab");
        slab = next;
    }
    chain.first = nullptr;
}

}  // namespace umka::heap
