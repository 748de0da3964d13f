#include <arch/memory.h>
#include <arch/memory_domain.h>

#include "arch/x86_64/cpu/x86.h"
#include "arch/x86_64/mm/page_table_entry.h"
#include "nucleus/lib/spinlock.h"

extern "C" {
extern char __nucleus_physical_start[], __nucleus_physical_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];
extern char boot_stack[], boot_stack_top[];
}

namespace umka::arch {
namespace {

constexpr uint64_t kKernelVirtualBase = 0xFFFFFFFF80000000ull;
constexpr uint64_t kPhysicalWindowBase = 0xFFFF800000000000ull;
constexpr uint64_t kStackRegionBase = 0xFFFFFE0000000000ull;
constexpr uint64_t kLargePage = 2ull << 20;
constexpr uint64_t kBootIdentityLimit = 4ull << 30;

// Lock order: address_space_lock is a leaf; it is never held while taking another lock
// except the frame allocator's caller-held serialisation (boot is single-threaded).
constinit SpinLock address_space_lock{LockLevel::AddressSpace};
constinit PhysicalMemory* table_frames = nullptr;
constinit uint64_t window_offset = 0;  // 0 while the boot identity map is live
constinit uint64_t root_table = 0;
constinit uint64_t table_frame_count = 0;
constinit uint64_t next_stack_slot = kStackRegionBase;

uint64_t* table_at(uint64_t physical) {
    return reinterpret_cast<uint64_t*>(physical + window_offset);
}

Result<uint64_t> new_table() {
    // Before the switch, tables must be reachable through the boot identity map.
    Result<uint64_t> frame = window_offset == 0 ? table_frames->allocate_below(kBootIdentityLimit)
                                                : table_frames->allocate();
    if (frame.is_error()) return frame;
    uint64_t* table = table_at(frame.value());
    for (int index = 0; index < 512; ++index) table[index] = 0;
    ++table_frame_count;
    return frame;
}

// Returns the table one level below `entry`, creating it if absent. A large page in the
// way means the range is already mapped at a coarser grain: EEXIST.
Result<uint64_t> descend(uint64_t& entry) {
    if ((entry & pte::kPresent) == 0) {
        uint64_t frame = TRY(new_table());
        entry = encode_table(frame);
        return frame;
    }
    if (entry & pte::kLargePage) return Errno::Exists;
    return entry & pte::kAddressMask;
}

// Installs one leaf. `replace` chooses between refusing and accepting an existing mapping.
enum class ExistingMapping : uint8_t { Refuse, Keep };

Status map_one(uint64_t virtual_address, const PageMapping& mapping, ExistingMapping existing) {
    uint64_t* pml4 = table_at(root_table);
    uint64_t pdpt = TRY(descend(pml4[table_index(virtual_address, 4)]));
    uint64_t* pdpt_table = table_at(pdpt);
    uint64_t& pd_entry = pdpt_table[table_index(virtual_address, 3)];
    if (mapping.size == PageSize::Large2M) {
        uint64_t pd = TRY(descend(pd_entry));
        uint64_t& leaf = table_at(pd)[table_index(virtual_address, 2)];
        if (leaf & pte::kPresent)
            return existing == ExistingMapping::Keep ? Status::ok() : Status(Errno::Exists);
        leaf = encode_leaf(mapping);
        return Status::ok();
    }
    uint64_t pd = TRY(descend(pd_entry));
    uint64_t& pt_entry = table_at(pd)[table_index(virtual_address, 2)];
    if ((pt_entry & pte::kPresent) && (pt_entry & pte::kLargePage)) {
        return existing == ExistingMapping::Keep ? Status::ok() : Status(Errno::Exists);
    }
    uint64_t pt = TRY(descend(pt_entry));
    uint64_t& leaf = table_at(pt)[table_index(virtual_address, 1)];
    if (leaf & pte::kPresent)
        return existing == ExistingMapping::Keep ? Status::ok() : Status(Errno::Exists);
    leaf = encode_leaf(mapping);
    return Status::ok();
}

// Maps [physical, physical+length) at virtual, using 2 MiB pages where alignment allows.
Status map_range(uint64_t virtual_address, uint64_t physical, uint64_t length, PageAccess access,
                 PageCaching caching, ExistingMapping existing) {
    uint64_t end = physical + length;
    while (physical < end) {
        PageMapping mapping{physical, access, caching, PageSize::Small4K, true, true, false};
        uint64_t step = kFrameSize;
        if ((physical % kLargePage) == 0 && (virtual_address % kLargePage) == 0 &&
            physical + kLargePage <= end) {
            mapping.size = PageSize::Large2M;
            step = kLargePage;
        }
        TRY(map_one(virtual_address, mapping, existing));
        physical += step;
        virtual_address += step;
    }
    return Status::ok();
}

uint64_t physical_of(const char* symbol) {
    return reinterpret_cast<uint64_t>(symbol) - kKernelVirtualBase;
}

bool is_ram(MemoryRegionKind kind) {
    return kind == MemoryRegionKind::Usable || kind == MemoryRegionKind::AcpiReclaimable ||
           kind == MemoryRegionKind::AcpiNvs || kind == MemoryRegionKind::Nucleus ||
           kind == MemoryRegionKind::Bundle;
}

const void* identity_map(void*, uint64_t physical, size_t length) {
    if (physical + length > kBootIdentityLimit || physical + length < physical) return nullptr;
    return reinterpret_cast<const void*>(physical);
}

const void* on_demand_map(void*, uint64_t physical, size_t length) {
    Result<void*> mapped = map_physical(physical, length, DeviceAccess::ReadOnlyCached);
    return mapped.is_ok() ? mapped.value() : nullptr;
}

void audit_table(uint64_t table, unsigned level, AddressSpaceAudit& audit) {
    uint64_t* entries = table_at(table);
    for (int index = 0; index < 512; ++index) {
        uint64_t entry = entries[index];
        if ((entry & pte::kPresent) == 0) continue;
        bool leaf = level == 1 || (level == 2 && (entry & pte::kLargePage));
        if (leaf) {
            ++audit.leaf_entries;
            if (level == 2) ++audit.large_leaf_entries;
            if (violates_write_xor_execute(entry)) ++audit.write_execute_violations;
        } else {
            audit_table(entry & pte::kAddressMask, level - 1, audit);
        }
    }
}

}  // namespace

NucleusImage nucleus_image() {
    return NucleusImage{reinterpret_cast<uint64_t>(__nucleus_physical_start),
                        reinterpret_cast<uint64_t>(__nucleus_physical_end)};
}

PhysicalView boot_physical_view() {
    return PhysicalView{identity_map, nullptr};
}
PhysicalView kernel_physical_view() {
    return PhysicalView{on_demand_map, nullptr};
}

void* physical_to_virtual(uint64_t physical) {
    return reinterpret_cast<void*>(physical + window_offset);
}

uint64_t direct_map_to_physical(const void* pointer) {
    return reinterpret_cast<uint64_t>(pointer) - window_offset;
}

Status build_kernel_address_space(PhysicalMemory& frames, const MemoryMap& memory_map) {
    table_frames = &frames;
    root_table = TRY(new_table());

    // The image, section by section: text RX, rodata R, data and bss RW. Data and bss carry
    // the nucleus's protection key (arch/memory_domain.h), so a module's code cannot write
    // them; the boot stack does not: the console task runs on it, module code included.
    struct Section {
        const char* start;
        const char* end;
        PageAccess access;
        uint8_t key;
    };
    const Section sections[] = {
        {__text_start, __text_end, PageAccess::ReadExecute, 0},
        {__rodata_start, __rodata_end, PageAccess::ReadOnly, 0},
        {__data_start, __data_end, PageAccess::ReadWrite, kNucleusDataKey},
    };
    const uint64_t stack_start = reinterpret_cast<uint64_t>(boot_stack);
    const uint64_t stack_end = reinterpret_cast<uint64_t>(boot_stack_top);
    for (const Section& section : sections) {
        uint64_t start = reinterpret_cast<uint64_t>(section.start);
        uint64_t length = reinterpret_cast<uint64_t>(section.end) - start;
        for (uint64_t offset = 0; offset < length; offset += kFrameSize) {
            uint64_t page = start + offset;
            bool stack = page >= stack_start && page < stack_end;
            PageMapping mapping{physical_of(section.start) + offset,
                                section.access,
                                PageCaching::WriteBack,
                                PageSize::Small4K,
                                true,
                                true,
                                false,
                                stack ? uint8_t(0) : section.key};
            TRY(map_one(page, mapping, ExistingMapping::Refuse));
        }
    }

    // The direct map covers every RAM region, page-aligned outward (firmware regions are
    // not always page-aligned and ACPI tables may share a page with RAM).
    for (const MemoryRegion& region : memory_map) {
        if (!is_ram(region.kind)) continue;
        uint64_t start = region.base & ~(kFrameSize - 1);
        uint64_t end = (region.end() + kFrameSize - 1) & ~(kFrameSize - 1);
        TRY(map_range(kPhysicalWindowBase + start, start, end - start, PageAccess::ReadWrite,
                      PageCaching::WriteBack, ExistingMapping::Keep));
    }

    // Global pages survive CR3 reloads; the nucleus mappings are the same in every space.
    uint64_t cr4;
    asm volatile("mov %%cr4, %0" : "=r"(cr4));
    asm volatile("mov %0, %%cr4" ::"r"(cr4 | (1u << 7)));
    x86::write_cr3(root_table);
    window_offset = kPhysicalWindowBase;
    frames.relocate_metadata(physical_to_virtual);
    return Status::ok();
}

uint64_t kernel_root_table() {
    return root_table;
}

Result<void*> map_physical(uint64_t physical, size_t length, DeviceAccess access) {
    if (length == 0 || physical + length < physical) return Errno::InvalidArgument;
    if (window_offset == 0) return reinterpret_cast<void*>(physical);
    uint64_t start = physical & ~(kFrameSize - 1);
    uint64_t end = (physical + length + kFrameSize - 1) & ~(kFrameSize - 1);
    PageAccess page_access =
        access == DeviceAccess::ReadOnlyCached ? PageAccess::ReadOnly : PageAccess::ReadWrite;
    PageCaching caching =
        access == DeviceAccess::ReadOnlyCached ? PageCaching::WriteBack : PageCaching::Uncached;
    {
        SpinLockGuard guard(address_space_lock);
        for (uint64_t page = start; page < end; page += kFrameSize) {
            PageMapping mapping{page, page_access, caching, PageSize::Small4K, true, true, false};
            TRY(map_one(kPhysicalWindowBase + page, mapping, ExistingMapping::Keep));
        }
    }
    return reinterpret_cast<void*>(kPhysicalWindowBase + physical);
}

Result<uint64_t> allocate_kernel_stack(size_t bytes) {
    uint64_t pages = (bytes + kFrameSize - 1) / kFrameSize;
    SpinLockGuard guard(address_space_lock);
    uint64_t base = next_stack_slot + kFrameSize;  // the page below stays unmapped: guard
    for (uint64_t page = 0; page < pages; ++page) {
        uint64_t frame = TRY(table_frames->allocate());
        PageMapping mapping{
            frame, PageAccess::ReadWrite, PageCaching::WriteBack, PageSize::Small4K, true, true,
            false};
        TRY(map_one(base + page * kFrameSize, mapping, ExistingMapping::Refuse));
    }
    next_stack_slot = base + pages * kFrameSize;
    return base + pages * kFrameSize;
}

AddressSpaceAudit audit_kernel_address_space() {
    AddressSpaceAudit audit{};
    SpinLockGuard guard(address_space_lock);
    audit_table(root_table, 4, audit);
    audit.table_frames = table_frame_count;
    return audit;
}

}  // namespace umka::arch

namespace umka::arch {

// Walks the live tables without taking the lock: used by fault reports, which must not
// block on a lock the faulting CPU may hold.
bool is_mapped(uint64_t virtual_address) {
    if (!is_canonical(virtual_address)) return false;
    uint64_t table = x86::read_cr3() & pte::kAddressMask;
    for (unsigned level = 4; level >= 1; --level) {
        uint64_t entry = table_at(table)[table_index(virtual_address, level)];
        if ((entry & pte::kPresent) == 0) return false;
        if (level == 1 || (level <= 3 && (entry & pte::kLargePage))) return true;
        table = entry & pte::kAddressMask;
    }
    return false;
}

}  // namespace umka::arch

namespace umka::arch {
namespace {

// Module images: each reservation is followed by an unmapped guard page. The area is
// never reused in this version (a swapped-out module's range stays reserved).
constexpr uint64_t kModuleAreaBase = 0xFFFFFC0000000000ull;
constinit uint64_t next_module_address = kModuleAreaBase;

uint64_t* leaf_entry(uint64_t virtual_address) {
    uint64_t table = root_table;
    for (unsigned level = 4; level > 1; --level) {
        uint64_t entry = table_at(table)[table_index(virtual_address, level)];
        if ((entry & pte::kPresent) == 0 || (entry & pte::kLargePage)) return nullptr;
        table = entry & pte::kAddressMask;
    }
    uint64_t* leaf = &table_at(table)[table_index(virtual_address, 1)];
    return (*leaf & pte::kPresent) ? leaf : nullptr;
}

void invalidate(uint64_t virtual_address) {
    asm volatile("invlpg (%0)" ::"r"(virtual_address) : "memory");
}

}  // namespace

Result<void*> reserve_module_pages(size_t bytes) {
    if (bytes == 0 || bytes % kFrameSize != 0) return Errno::InvalidArgument;
    SpinLockGuard guard(address_space_lock);
    uint64_t base = next_module_address;
    for (uint64_t offset = 0; offset < bytes; offset += kFrameSize) {
        Result<uint64_t> frame = table_frames->allocate();
        Status status = frame.status();
        if (frame.is_ok()) {
            PageMapping mapping{frame.value(),
                                PageAccess::ReadWrite,
                                PageCaching::WriteBack,
                                PageSize::Small4K,
                                true,
                                true,
                                false};
            status = map_one(base + offset, mapping, ExistingMapping::Refuse);
            if (status.is_error()) (void)table_frames->free(frame.value());
        }
        if (status.is_error()) {
            for (uint64_t undo = 0; undo < offset; undo += kFrameSize) {
                uint64_t* leaf = leaf_entry(base + undo);
                (void)table_frames->free(*leaf & pte::kAddressMask);
                *leaf = 0;
                invalidate(base + undo);
            }
            return status.error();
        }
    }
    next_module_address = base + bytes + kFrameSize;  // guard page
    return reinterpret_cast<void*>(base);
}

Status protect_module_pages(void* start, size_t bytes, ModulePageAccess module_access) {
    PageAccess access = module_access == ModulePageAccess::ReadExecute ? PageAccess::ReadExecute
                        : module_access == ModulePageAccess::ReadWrite ? PageAccess::ReadWrite
                                                                       : PageAccess::ReadOnly;
    uint64_t first = reinterpret_cast<uint64_t>(start);
    if (first % kFrameSize != 0 || first < kModuleAreaBase) return Errno::InvalidArgument;
    SpinLockGuard guard(address_space_lock);
    for (uint64_t page = first; page < first + bytes; page += kFrameSize) {
        uint64_t* leaf = leaf_entry(page);
        if (leaf == nullptr) return Errno::BadAddress;
        PageMapping mapping{*leaf & pte::kAddressMask,
                            access,
                            PageCaching::WriteBack,
                            PageSize::Small4K,
                            true,
                            true,
                            false};
        *leaf = encode_leaf(mapping);
        invalidate(page);
    }
    return Status::ok();
}

void release_module_pages(void* start, size_t bytes) {
    uint64_t first = reinterpret_cast<uint64_t>(start);
    SpinLockGuard guard(address_space_lock);
    for (uint64_t page = first; page < first + bytes; page += kFrameSize) {
        uint64_t* leaf = leaf_entry(page);
        if (leaf == nullptr) continue;
        (void)table_frames->free(*leaf & pte::kAddressMask);
        *leaf = 0;
        invalidate(page);
    }
}

}  // namespace umka::arch
