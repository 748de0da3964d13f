// Size classes: 16..128 bytes in 16-byte steps, then four classes per doubling up to 2048
// (160, 192, 224, 256, 320, ...): every step is at most 1.25x, so at most 20% of an object
// is rounding waste above 128 bytes. Larger requests take whole pages (large.cpp).
//
// Slabs are 4..32 KiB (a power of two, because the nucleus hands out power-of-two runs of
// frames): the smallest that holds 32 objects, at most 32 KiB. The HeapSlab record is the
// last 64 bytes, so objects start at the slab's first byte: an object's address is the
// page-aligned slab base plus a multiple of its size, hence aligned to the largest power of
// two dividing the size (16 for 80, 256 for 1280, 2048 for 2048).
#include "heap.h"

namespace umka::heap {
namespace {

constexpr uint32_t kObjectSizes[] = {16,  32,  48,  64,  80,   96,   112,  128,
                                     160, 192, 224, 256, 320,  384,  448,  512,
                                     640, 768, 896, 1024, 1280, 1536, 1792, 2048};
static_assert(sizeof(kObjectSizes) / sizeof(kObjectSizes[0]) == kClassCount,
              "HeapState.classes has one depot per size class");

constexpr uint32_t kMinimumObjectsPerSlab = 32;
constexpr uint32_t kMaximumSlabBytes = 32768;
// A magazine holds at most this many bytes of objects (and at least 8 objects), so the
// memory one CPU keeps cached per class stays small for the large classes.
constexpr uint32_t kMagazineObjectBytes = 16384;
constexpr uint32_t kMinimumMagazineRounds = 8;

constexpr ClassShape make_shape(uint32_t size) {
    uint32_t bytes = uint32_t(kPageSize);
    while (bytes < kMaximumSlabBytes &&
           (bytes - uint32_t(sizeof(HeapSlab))) / size < kMinimumObjectsPerSlab) {
        bytes *= 2;
    }
    uint32_t capacity = kMagazineObjectBytes / size;
    if (capacity < kMinimumMagazineRounds) capacity = kMinimumMagazineRounds;
    if (capacity > kMagazineRounds) capacity = kMagazineRounds;
    uint32_t reciprocal = uint32_t(((uint64_t(1) << 32) + size - 1) / size);
    return ClassShape{size, bytes, (bytes - uint32_t(sizeof(HeapSlab))) / size, capacity,
                      reciprocal};
}

struct ShapeTable {
    ClassShape shapes[kClassCount];
};

constexpr ShapeTable make_table() {
    ShapeTable table{};
    for (uint32_t index = 0; index < kClassCount; ++index) {
        table.shapes[index] = make_shape(kObjectSizes[index]);
    }
    return table;
}

constexpr ShapeTable kShapes = make_table();

// object_index multiplies by a rounded-up reciprocal: for offset = q * size + r the product
// over 2^32 is q + r/size + (offset * error)/2^32 with error < 1. With offsets below 2^15
// the last term is below 2^-17, and r/size is at most 1 - 2^-11 for sizes up to 2^11, so
// the floor is exactly q.
static_assert(kMaximumSlabBytes <= (1u << 15) && kObjectSizes[kClassCount - 1] <= (1u << 11),
              "object_index's reciprocal is exact only for these bounds");

constexpr bool check_table() {
    for (uint32_t index = 0; index < kClassCount; ++index) {
        const ClassShape& shape = kShapes.shapes[index];
        if (shape.object_size % 16 != 0) return false;  // every allocation 16-byte aligned
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

constexpr uint32_t natural_alignment(uint32_t size) {
    return size & (~size + 1);
}

// The class of the smallest size that holds `size` (1..2048), by arithmetic on its bits.
constexpr uint32_t class_for_size(uint64_t size) {
    if (size <= 128) return uint32_t((size + 15) / 16 - 1);
    uint32_t power = 63 - uint32_t(__builtin_clzll(size - 1));  // 2^power < size <= 2^(power+1)
    uint32_t step = uint32_t((size - 1 - (uint64_t(1) << power)) >> (power - 2));
    return 8 + (power - 7) * 4 + step;
}

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

ClassShape class_shape(uint32_t index) {
    return kShapes.shapes[index];
}

uint32_t class_for(uint64_t size, uint64_t alignment) {
    if (size == 0 || size > kObjectSizes[kClassCount - 1]) return kNoClass;
    uint32_t index = class_for_size(size);
    while (index < kClassCount && natural_alignment(kObjectSizes[index]) < alignment) ++index;
    return index < kClassCount ? index : kNoClass;
}

uint32_t object_index(uint32_t index, uint64_t offset) {
    const ClassShape& shape = kShapes.shapes[index];
    if (offset >= uint64_t(shape.objects_per_slab) * shape.object_size) return kNoObject;
    uint32_t object = uint32_t((offset * shape.reciprocal) >> 32);
    return uint64_t(object) * shape.object_size == offset ? object : kNoObject;
}

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
