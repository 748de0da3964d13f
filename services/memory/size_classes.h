// Size classes: 16..128 bytes in 16-byte steps, then four classes per doubling up to 2048
// (160, 192, 224, 256, 320, ...): every step is at most 1.25x, so at most 20% of an object
// is rounding waste above 128 bytes. Larger requests take whole pages (large.cpp).
//
// Slabs are 4..32 KiB (a power of two, because the nucleus hands out power-of-two runs of
// frames): the smallest that holds 32 objects, at most 32 KiB. The HeapSlab record is the
// last 64 bytes, so objects start at the slab's first byte: an object's address is the
// page-aligned slab base plus a multiple of its size, hence aligned to the largest power of
// two dividing the size (16 for 80, 256 for 1280, 2048 for 2048).
//
// The table is constexpr in the code (the lookups are on the fast path) and copied into
// HeapState when the state is set up; a carried state must hold the same table
// (classes_match), so the code's table is the state's.
#pragma once

#include "heap.h"

namespace umka::heap {

struct ClassShape {
    uint32_t object_size;
    uint32_t slab_bytes;
    uint32_t objects_per_slab;
    uint32_t magazine_capacity;
    uint32_t reciprocal;  // ceil(2^32 / object_size): offset / size without a divide
};

inline constexpr uint32_t kObjectSizes[] = {16,  32,  48,  64,   80,   96,   112,  128,
                                            160, 192, 224, 256,  320,  384,  448,  512,
                                            640, 768, 896, 1024, 1280, 1536, 1792, 2048};
static_assert(sizeof(kObjectSizes) / sizeof(kObjectSizes[0]) == kClassCount,
              "HeapState.classes has one depot per size class");
inline constexpr uint32_t kLargestClassSize = kObjectSizes[kClassCount - 1];

inline constexpr uint32_t kMinimumObjectsPerSlab = 32;
inline constexpr uint32_t kMaximumSlabBytes = 32768;
// A magazine holds at most this many bytes of objects (and at least 8 objects), so the
// memory one CPU keeps cached per class stays small for the large classes.
inline constexpr uint32_t kMagazineObjectBytes = 16384;
inline constexpr uint32_t kMinimumMagazineRounds = 8;

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

constexpr ShapeTable make_shape_table() {
    ShapeTable table{};
    for (uint32_t index = 0; index < kClassCount; ++index) {
        table.shapes[index] = make_shape(kObjectSizes[index]);
    }
    return table;
}

inline constexpr ShapeTable kShapes = make_shape_table();

// The shape of class `index` (< kClassCount).
inline const ClassShape& class_shape(uint32_t index) {
    return kShapes.shapes[index];
}

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

inline constexpr uint32_t kNoClass = 0xFFFFFFFF;
inline constexpr uint64_t kMinimumAlignment = 16;

// Smallest class holding `size` bytes at `alignment` (a power of two), or kNoClass when
// the request is for whole pages.
inline uint32_t class_for(uint64_t size, uint64_t alignment) {
    if (size == 0 || size > kLargestClassSize) return kNoClass;
    uint32_t index = class_for_size(size);
    if (alignment <= kMinimumAlignment) return index;  // every class is 16-byte aligned
    while (index < kClassCount && natural_alignment(kObjectSizes[index]) < alignment) ++index;
    return index < kClassCount ? index : kNoClass;
}

inline constexpr uint32_t kNoObject = 0xFFFFFFFF;

// Index of the object at `offset` bytes into a slab of class `index`, or kNoObject if
// `offset` is not the start of an object there. Multiplies by a rounded-up reciprocal
// instead of dividing (the proof that it is exact is in size_classes.cpp).
inline uint32_t object_index(uint32_t index, uint64_t offset) {
    const ClassShape& shape = kShapes.shapes[index];
    if (offset >= uint64_t(shape.objects_per_slab) * shape.object_size) return kNoObject;
    uint32_t object = uint32_t((offset * shape.reciprocal) >> 32);
    return uint64_t(object) * shape.object_size == offset ? object : kNoObject;
}

// Writes the class table into a fresh state; checks a carried one against it (false and
// the first difference in *mismatch_class when they differ).
void set_up_classes(HeapState& state);
bool classes_match(const HeapState& state, uint32_t* mismatch_class);

}  // namespace umka::heap
