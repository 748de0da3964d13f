// x86-64 4-level paging entries (Intel SDM Vol. 3A, 4.5). Pure and constexpr so the
// encoding is tested on the host (test/host/page_table_entry_test.cpp).
#pragma once

#include <stdint.h>

namespace umka::arch {

enum class PageAccess : uint8_t {
    ReadOnly,     // R, NX
    ReadWrite,    // RW, NX
    ReadExecute,  // RX
};

enum class PageCaching : uint8_t {
    WriteBack,
    Uncached,  // PCD | PWT: device registers
};

enum class PageSize : uint8_t { Small4K, Large2M };

struct PageMapping {
    uint64_t physical = 0;
    PageAccess access = PageAccess::ReadOnly;
    PageCaching caching = PageCaching::WriteBack;
    PageSize size = PageSize::Small4K;
    bool present = false;
    bool global = false;
    bool user = false;
    // Bits 62:59: the page's protection key (arch/memory_domain.h); 0 is no domain's.
    uint8_t protection_key = 0;
};

namespace pte {
inline constexpr uint64_t kPresent = 1ull << 0;
inline constexpr uint64_t kWritable = 1ull << 1;
inline constexpr uint64_t kUser = 1ull << 2;
inline constexpr uint64_t kWriteThrough = 1ull << 3;
inline constexpr uint64_t kCacheDisable = 1ull << 4;
inline constexpr uint64_t kAccessed = 1ull << 5;
inline constexpr uint64_t kDirty = 1ull << 6;
inline constexpr uint64_t kLargePage = 1ull << 7;  // in PD (2 MiB) and PDPT (1 GiB) entries
inline constexpr uint64_t kGlobal = 1ull << 8;
inline constexpr uint64_t kNoExecute = 1ull << 63;
inline constexpr unsigned kProtectionKeyShift = 59;
inline constexpr uint64_t kProtectionKeyMask = 0xfull << kProtectionKeyShift;
inline constexpr uint64_t kAddressMask = 0x000ffffffffff000ull;
inline constexpr uint64_t kLargeAddressMask = 0x000fffffffe00000ull;
}  // namespace pte

// Encodes a leaf entry. A 2 MiB leaf needs a 2 MiB-aligned physical address.
constexpr uint64_t encode_leaf(const PageMapping& mapping) {
    if (!mapping.present) return 0;
    uint64_t entry = pte::kPresent;
    uint64_t mask = mapping.size == PageSize::Large2M ? pte::kLargeAddressMask : pte::kAddressMask;
    entry |= mapping.physical & mask;
    if (mapping.size == PageSize::Large2M) entry |= pte::kLargePage;
    if (mapping.access == PageAccess::ReadWrite) entry |= pte::kWritable;
    if (mapping.access != PageAccess::ReadExecute) entry |= pte::kNoExecute;
    if (mapping.caching == PageCaching::Uncached) entry |= pte::kCacheDisable | pte::kWriteThrough;
    if (mapping.global) entry |= pte::kGlobal;
    if (mapping.user) entry |= pte::kUser;
    entry |=
        (uint64_t(mapping.protection_key) << pte::kProtectionKeyShift) & pte::kProtectionKeyMask;
    return entry;
}

// Decodes a leaf entry found at the given level (1 = PT, 2 = PD).
constexpr PageMapping decode_leaf(uint64_t entry, unsigned level) {
    PageMapping mapping;
    mapping.present = (entry & pte::kPresent) != 0;
    if (!mapping.present) return mapping;
    bool large = level == 2 && (entry & pte::kLargePage) != 0;
    mapping.size = large ? PageSize::Large2M : PageSize::Small4K;
    mapping.physical = entry & (large ? pte::kLargeAddressMask : pte::kAddressMask);
    bool writable = (entry & pte::kWritable) != 0;
    bool executable = (entry & pte::kNoExecute) == 0;
    mapping.access = executable ? PageAccess::ReadExecute
                                : (writable ? PageAccess::ReadWrite : PageAccess::ReadOnly);
    mapping.caching = (entry & pte::kCacheDisable) ? PageCaching::Uncached : PageCaching::WriteBack;
    mapping.global = (entry & pte::kGlobal) != 0;
    mapping.user = (entry & pte::kUser) != 0;
    mapping.protection_key = uint8_t((entry & pte::kProtectionKeyMask) >> pte::kProtectionKeyShift);
    return mapping;
}

// A writable and executable leaf violates W^X; the encoder can never produce one, and the
// nucleus's page-table audit uses this to prove it for every installed entry.
constexpr bool violates_write_xor_execute(uint64_t entry) {
    return (entry & pte::kPresent) && (entry & pte::kWritable) && !(entry & pte::kNoExecute);
}

// Non-leaf entries grant everything; leaves restrict. (Intel SDM 4.6: permissions combine
// as the most restrictive along the walk.)
constexpr uint64_t encode_table(uint64_t table_physical) {
    return (table_physical & pte::kAddressMask) | pte::kPresent | pte::kWritable;
}

constexpr unsigned table_index(uint64_t virtual_address, unsigned level) {
    return static_cast<unsigned>((virtual_address >> (12 + 9 * (level - 1))) & 0x1ff);
}

constexpr bool is_canonical(uint64_t virtual_address) {
    uint64_t upper = virtual_address >> 47;
    return upper == 0 || upper == 0x1ffff;
}

}  // namespace umka::arch
