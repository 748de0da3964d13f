#include "arch/x86_64/mm/page_table_entry.h"

#include <gtest/gtest.h>

namespace umka::arch {
namespace {

TEST(PageTableEntryTest, EncodesEachAccessWithWriteXorExecute) {
    PageMapping text{0x123000, PageAccess::ReadExecute, PageCaching::WriteBack, PageSize::Small4K,
                     true};
    uint64_t entry = encode_leaf(text);
    EXPECT_EQ(entry, 0x123000u | pte::kPresent);
    EXPECT_FALSE(violates_write_xor_execute(entry));

    PageMapping data{0x456000, PageAccess::ReadWrite, PageCaching::WriteBack, PageSize::Small4K,
                     true};
    entry = encode_leaf(data);
    EXPECT_EQ(entry, 0x456000u | pte::kPresent | pte::kWritable | pte::kNoExecute);
    EXPECT_FALSE(violates_write_xor_execute(entry));

    PageMapping rodata{0x789000, PageAccess::ReadOnly, PageCaching::WriteBack, PageSize::Small4K,
                       true};
    EXPECT_EQ(encode_leaf(rodata), 0x789000u | pte::kPresent | pte::kNoExecute);
}

TEST(PageTableEntryTest, RoundTripsEveryCombination) {
    for (PageAccess access :
         {PageAccess::ReadOnly, PageAccess::ReadWrite, PageAccess::ReadExecute}) {
        for (PageCaching caching : {PageCaching::WriteBack, PageCaching::Uncached}) {
            for (PageSize size : {PageSize::Small4K, PageSize::Large2M}) {
                for (bool global : {false, true}) {
                    PageMapping mapping{0x40000000, access, caching, size, true, global, false};
                    PageMapping decoded =
                        decode_leaf(encode_leaf(mapping), size == PageSize::Large2M ? 2 : 1);
                    EXPECT_EQ(decoded.physical, mapping.physical);
                    EXPECT_EQ(decoded.access, access);
                    EXPECT_EQ(decoded.caching, caching);
                    EXPECT_EQ(decoded.size, size);
                    EXPECT_EQ(decoded.global, global);
                    EXPECT_TRUE(decoded.present);
                    EXPECT_FALSE(violates_write_xor_execute(encode_leaf(mapping)));
                }
            }
        }
    }
}

TEST(PageTableEntryTest, LargePagesDropLowAddressBits) {
    PageMapping mapping{0x40123000, PageAccess::ReadWrite, PageCaching::WriteBack,
                        PageSize::Large2M, true};
    EXPECT_EQ(encode_leaf(mapping) & pte::kAddressMask, 0x40000000u);
    EXPECT_TRUE(encode_leaf(mapping) & pte::kLargePage);
}

TEST(PageTableEntryTest, HighPhysicalBitsSurviveAndReservedBitsDoNot) {
    PageMapping mapping{0x000ffffffffff000ull, PageAccess::ReadOnly, PageCaching::WriteBack,
                        PageSize::Small4K, true};
    EXPECT_EQ(decode_leaf(encode_leaf(mapping), 1).physical, 0x000ffffffffff000ull);
    mapping.physical = 0xfff0000000000000ull | 0x5000;
    EXPECT_EQ(decode_leaf(encode_leaf(mapping), 1).physical, 0x5000u);
}

TEST(PageTableEntryTest, ProtectionKeysTakeBits59To62AndRoundTrip) {
    PageMapping mapping{0x456000, PageAccess::ReadWrite, PageCaching::WriteBack, PageSize::Small4K,
                        true};
    EXPECT_EQ(encode_leaf(mapping) & pte::kProtectionKeyMask, 0u) << "key 0 unless asked";
    for (uint8_t key = 0; key < 16; ++key) {
        mapping.protection_key = key;
        uint64_t entry = encode_leaf(mapping);
        EXPECT_EQ((entry >> 59) & 0xf, key);
        EXPECT_EQ(entry & pte::kAddressMask, 0x456000u) << "the key leaves the address alone";
        EXPECT_TRUE(entry & pte::kNoExecute);
        EXPECT_EQ(decode_leaf(entry, 1).protection_key, key);
    }
    mapping.protection_key = 0x1f;  // only four bits exist
    EXPECT_EQ(decode_leaf(encode_leaf(mapping), 1).protection_key, 0xf);
    EXPECT_TRUE(encode_leaf(mapping) & pte::kNoExecute) << "a wide key never reaches NX";
}

TEST(PageTableEntryTest, NotPresentEncodesToZero) {
    EXPECT_EQ(encode_leaf(PageMapping{}), 0u);
    EXPECT_FALSE(decode_leaf(0, 1).present);
}

TEST(PageTableEntryTest, DetectsWritableExecutableEntries) {
    EXPECT_TRUE(violates_write_xor_execute(pte::kPresent | pte::kWritable));
    EXPECT_FALSE(violates_write_xor_execute(pte::kWritable));  // not present
}

TEST(PageTableEntryTest, IndicesAndCanonicalAddresses) {
    uint64_t address = 0xFFFFFFFF80123456ull;
    EXPECT_EQ(table_index(address, 4), 511u);
    EXPECT_EQ(table_index(address, 3), 510u);
    EXPECT_EQ(table_index(address, 2), 0u);
    EXPECT_EQ(table_index(address, 1), 0x123u);
    EXPECT_TRUE(is_canonical(address));
    EXPECT_TRUE(is_canonical(0x00007FFFFFFFFFFFull));
    EXPECT_FALSE(is_canonical(0x0000800000000000ull));
}

TEST(PageTableEntryTest, TableEntriesPointAndGrant) {
    EXPECT_EQ(encode_table(0x5000), 0x5000u | pte::kPresent | pte::kWritable);
}

}  // namespace
}  // namespace umka::arch
