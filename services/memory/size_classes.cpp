// The size class table's checks (compile time) and its copy in HeapState. The table and
// the lookups are in size_classes.h.
#include "size_classes.h"

namespace umka::heap {
namespace {

// object_index multiplies by a rounded-up reciprocal: for offset = q * size + r the product
// over 2^32 is q + r/size + (offset * error)/2^32 with error < 1. With offsets below 2^15
// the last term is below 2^-17, and r/size is at most 1 - 2^-11 for sizes up to 2^11, so
// the floor is exactly q.
static_assert(kMaximumSlabBytes <= (1u << 15) && kObjectSizes[kClassCount - 1] <= (1u << 11),
              "object_index's reciprocal is exact only for these bounds");

constexpr bool check_table() {
    for (uint32_t index = 0; index < kClassCount; ++index) {
        const ClassShape& shape = kShapes.shapes[index];
        if (shape.object_size % kMinimumAlignment != 0) return false;  // class_for relies on it
        if (index > 0 && shape.object_size * 4 > kShapes.shapes[index - 1].object_size * 5 &&
            shape.object_size > 128) {
            return false;  // a step above 1.25x
        }
        if (shape.objects_per_slab < 8) return false;
        if (kPageSize % (shape.object_size & (~shape.object_size + 1)) != 0) return false;
    }
    return true;
}
static_assert(check_table(), "size classes: 16-byte multiples, steps of at most 1.25x");

constexpr bool check_lookup() {
    for (uint64_t size = 1; size <= kObjectSizes[kClassCount - 1]; ++size) {
        uint32_t index = class_for_size(size);
        if (index >= kClassCount || kObjectSizes[index] < size) return false;
        if (index > 0 && kObjectSizes[index - 1] >= size) return false;  // not the smallest
    }
    return true;
}
static_assert(check_lookup(), "class_for_size picks the smallest class holding the size");

}  // namespace

void set_up_classes(HeapState& state) {
    state.class_count = kClassCount;
    for (uint32_t index = 0; index < kClassCount; ++index) {
        const ClassShape& shape = kShapes.shapes[index];
        HeapClassDepot& depot = state.classes[index];
        depot.object_size = shape.object_size;
        depot.objects_per_slab = shape.objects_per_slab;
        depot.slab_bytes = shape.slab_bytes;
        depot.magazine_capacity = shape.magazine_capacity;
    }
}

bool classes_match(const HeapState& state, uint32_t* mismatch_class) {
    if (state.class_count != kClassCount) {
        *mismatch_class = kClassCount;
        return false;
    }
    for (uint32_t index = 0; index < kClassCount; ++index) {
        const ClassShape& shape = kShapes.shapes[index];
        const HeapClassDepot& depot = state.classes[index];
        if (depot.object_size != shape.object_size ||
            depot.objects_per_slab != shape.objects_per_slab ||
            depot.slab_bytes != shape.slab_bytes ||
            depot.magazine_capacity != shape.magazine_capacity) {
            *mismatch_class = index;
            return false;
        }
    }
    return true;
}

}  // namespace umka::heap
