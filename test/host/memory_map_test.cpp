#include "nucleus/boot/memory_map.h"

#include <gtest/gtest.h>

#include <memory>

namespace umka {
namespace {

using Kind = MemoryRegionKind;

std::unique_ptr<MemoryMap> build(std::initializer_list<MemoryRegion> entries,
                                 MemoryMapReport* report = nullptr) {
    auto map = std::make_unique<MemoryMap>();
    std::vector<MemoryRegion> list(entries);
    MemoryMapReport result = map->build(list.data(), list.size());
    if (report) *report = result;
    return map;
}

TEST(MemoryMapTest, SortsAndMergesAdjacentRegionsOfTheSameKind) {
    auto map = build({{0x200000, 0x100000, Kind::Usable},
                      {0x0, 0x9f000, Kind::Usable},
                      {0x100000, 0x100000, Kind::Usable}});
    ASSERT_EQ(map->count(), 2u);
    EXPECT_EQ((*map)[0].base, 0u);
    EXPECT_EQ((*map)[1].base, 0x100000u);
    EXPECT_EQ((*map)[1].length, 0x200000u);
}

TEST(MemoryMapTest, HolesAreCountedAndLeftUndescribed) {
    MemoryMapReport report;
    auto map = build({{0x0, 0x9f000, Kind::Usable},
                      {0x100000, 0x100000, Kind::Usable},
                      {0xF0000, 0x10000, Kind::Reserved}},
                     &report);
    EXPECT_EQ(report.holes, 1u);                       // 0x9f000..0xf0000
    EXPECT_EQ(map->kind_at(0xA0000), Kind::Reserved);  // undescribed means unusable
    EXPECT_EQ(map->total_bytes(Kind::Usable), 0x9f000u + 0x100000u);
}

TEST(MemoryMapTest, OverlapsResolveToTheMoreRestrictiveKind) {
    MemoryMapReport report;
    auto map =
        build({{0x100000, 0x400000, Kind::Usable}, {0x200000, 0x1000, Kind::Reserved}}, &report);
    EXPECT_EQ(report.overlaps, 1u);
    EXPECT_EQ(report.first_overlap_base, 0x200000u);
    EXPECT_EQ(report.first_overlap_winner, Kind::Reserved);
    EXPECT_EQ(report.first_overlap_loser, Kind::Usable);
    ASSERT_EQ(map->count(), 3u);
    EXPECT_EQ(map->kind_at(0x1FFFFF), Kind::Usable);
    EXPECT_EQ(map->kind_at(0x200000), Kind::Reserved);
    EXPECT_EQ(map->kind_at(0x201000), Kind::Usable);
    EXPECT_EQ(map->total_bytes(Kind::Usable), 0x400000u - 0x1000u);
}

TEST(MemoryMapTest, NucleusAndBundleClaimsCarveUsableMemory) {
    auto map = build({{0x100000, 0x7F00000, Kind::Usable},
                      {0x100000, 0x80000, Kind::Nucleus},
                      {0x400000, 0x2000, Kind::Bundle}});
    EXPECT_EQ(map->kind_at(0x100000), Kind::Nucleus);
    EXPECT_EQ(map->kind_at(0x400000), Kind::Bundle);
    EXPECT_EQ(map->kind_at(0x402000), Kind::Usable);
    EXPECT_EQ(map->highest_end(Kind::Usable), 0x8000000u);
}

TEST(MemoryMapTest, EmptyAndWrappingEntriesAreIgnoredAndCounted) {
    MemoryMapReport report;
    auto map = build({{0x1000, 0, Kind::Usable},
                      {~0ull - 10, 100, Kind::Usable},
                      {0x100000, 0x1000, Kind::Usable}},
                     &report);
    EXPECT_EQ(report.empty_entries, 2u);
    EXPECT_EQ(map->count(), 1u);
}

TEST(MemoryMapTest, IdenticalDuplicatesAreNotOverlaps) {
    MemoryMapReport report;
    auto map = build({{0x100000, 0x1000, Kind::Usable}, {0x100000, 0x1000, Kind::Usable}}, &report);
    EXPECT_EQ(report.overlaps, 0u);
    EXPECT_EQ(map->count(), 1u);
}

}  // namespace
}  // namespace umka
