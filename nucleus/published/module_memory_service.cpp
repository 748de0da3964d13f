// kernel_services.ModuleMemory: nucleus memory for a module's own bookkeeping (a heap's
// slabs, a driver's buffers). Each region is a capability of the calling module, so only
// its owner can describe or release it, and unloading the module revokes them all. Regions
// are runs of nucleus frames reached through the direct map (read-write, never executable);
// the memory stays nucleus-owned, so it survives a swap of the module that uses it.
#include <arch/memory.h>

#include "nucleus/lib/spinlock.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/mm/physical_memory.h"
#include "nucleus/published/nucleus_services.h"
#include "umka/kabi/kernel_services.hpp"

namespace umka::loader {
namespace {

namespace services = umka::kabi::kernel_services;

struct RegionRecord {
    uint64_t physical;  // 0 when the record is free
    uint64_t length;    // bytes handed out (the block is 2^order frames)
    uint32_t flags;
    uint8_t order;  // kNotOwnedOrder: a view of memory the module does not own (its state)
    uint8_t reserved[3];
};
constexpr uint8_t kNotOwnedOrder = 0xFF;

// Records live in frames chained as pages of records; a page is added when all are in use,
// so the number of regions is bounded only by memory.
struct RecordPage {
    RecordPage* next;
    uint64_t reserved;
    RegionRecord records[(kFrameSize - 16) / sizeof(RegionRecord)];
};
static_assert(sizeof(RecordPage) <= kFrameSize);

// Every region change holds the capability table's writer lock (module_system.h).
// Lock order: a leaf except for the frame allocator lock (taken inside).
constinit RecordPage* first_page = nullptr;

RegionRecord* take_record() {
    capability_writer_lock().assert_held();
    for (RecordPage* page = first_page; page != nullptr; page = page->next) {
        for (RegionRecord& record : page->records) {
            if (record.physical == 0) return &record;
        }
    }
    Result<void*> memory = allocate_zeroed(sizeof(RecordPage));
    if (memory.is_error()) return nullptr;
    auto* page = static_cast<RecordPage*>(memory.value());
    page->next = first_page;
    first_page = page;
    return &page->records[0];
}

// The calling module, found from the return address into its image (the thunk inlines the
// caller's frame): a module cannot act on another module's behalf.
[[gnu::always_inline]] inline ModuleRecord* calling_module(void* return_address) {
    return module_system().record_containing(return_address);
}

Result<RegionRecord*> owned_region(services::MemoryRegion region, ModuleRecord* caller) {
    if (caller == nullptr) return Errno::InvalidArgument;
    modules::CapabilityInfo info{};
    modules::CapabilityCheck check = module_system().capabilities().check(
        modules::CapabilityHandle{region.value}, modules::Rights::Read, &info);
    if (check != modules::CapabilityCheck::Valid ||
        info.kind != modules::CapabilityKind::MemoryRegion) {
        return Errno::InvalidArgument;
    }
    // Between a swap's pause and resume, the replacement's regions may still carry its
    // predecessor's owner id (transfer_module_regions runs after the pause).
    uint32_t inherited = __atomic_load_n(&caller->inherited_owner, __ATOMIC_ACQUIRE);
    if (info.owner != caller->owner && (inherited == 0 || info.owner != inherited)) {
        return Errno::InvalidArgument;
    }
    return static_cast<RegionRecord*>(info.object);
}

struct ModuleMemoryService {
    [[gnu::always_inline]] static inline Status allocate(void*, uint64_t length,
                                                         services::MemoryFlags flags,
                                                         services::MemoryRegion* region) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || length == 0) return Errno::InvalidArgument;
        unsigned order = 0;
        while ((kFrameSize << order) < length) {
            if (++order > FrameAllocator::kMaxOrder) return Errno::InvalidArgument;
        }
        bool below_4g = uint32_t(flags & services::MemoryFlags::Below4g) != 0;
        Result<uint64_t> frames = below_4g ? physical_memory().allocate_below(4ull << 30, order)
                                           : physical_memory().allocate(order);
        if (frames.is_error()) return Errno::OutOfMemory;
        if (uint32_t(flags & services::MemoryFlags::Zeroed) != 0) {
            __builtin_memset(arch::physical_to_virtual(frames.value()), 0, kFrameSize << order);
        }
        RecursiveSpinLockGuard guard(capability_writer_lock());
        RegionRecord* record = take_record();
        Result<modules::CapabilityHandle> handle =
            record == nullptr ? Result<modules::CapabilityHandle>(Errno::OutOfMemory)
                              : module_system().capabilities().insert(
                                    record, modules::CapabilityKind::MemoryRegion,
                                    modules::Rights::Read | modules::Rights::Write, caller->owner);
        if (handle.is_error()) {
            (void)physical_memory().free(frames.value());
            return Errno::OutOfMemory;
        }
        *record = RegionRecord{frames.value(), length, uint32_t(flags), uint8_t(order), {}};
        region->value = handle.value().value;
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status release(void*, services::MemoryRegion region) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        RecursiveSpinLockGuard guard(capability_writer_lock());
        RegionRecord* record = TRY(owned_region(region, caller));
        TRY(module_system().capabilities().revoke(modules::CapabilityHandle{region.value}));
        if (record->order != kNotOwnedOrder) (void)physical_memory().free(record->physical);
        *record = RegionRecord{};
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status describe(void*, services::MemoryRegion region,
                                                         services::RegionInfo* info) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        RegionRecord* record = TRY(owned_region(region, caller));
        *info = services::RegionInfo{};
        info->address = reinterpret_cast<uint64_t>(arch::physical_to_virtual(record->physical));
        info->length = record->length;
        info->flags = services::MemoryFlags(record->flags);
        return Status::ok();
    }

    // The module's first state region (also in its binding) as a region handle, so code
    // that only has this interface can reach it. The region is not the module's to free.
    [[gnu::always_inline]] static inline Status state_region(void*, services::MemoryRegion* region,
                                                             uint32_t* version) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || caller->binding == nullptr) return Errno::InvalidArgument;
        if (caller->binding->binding.state_count == 0) return Errno::NotFound;
        const UmkaStateRegion& state = caller->binding->states[0];
        RecursiveSpinLockGuard guard(capability_writer_lock());
        RegionRecord* record = take_record();
        if (record == nullptr) return Errno::OutOfMemory;
        Result<modules::CapabilityHandle> handle = module_system().capabilities().insert(
            record, modules::CapabilityKind::MemoryRegion,
            modules::Rights::Read | modules::Rights::Write, caller->owner);
        if (handle.is_error()) return Errno::OutOfMemory;
        *record = RegionRecord{
            arch::direct_map_to_physical(state.base), state.size, 0, kNotOwnedOrder, {}};
        region->value = handle.value().value;
        *version = state.schema_version;
        return Status::ok();
    }
};

constexpr services::ModuleMemoryVtable kModuleMemoryVtable =
    services::make_module_memory_vtable<ModuleMemoryService>();

bool owned_by_module(void*, void* object) {
    return static_cast<const RegionRecord*>(object)->order != kNotOwnedOrder;
}

}  // namespace

size_t transfer_module_regions(uint32_t from_owner, uint32_t to_owner) {
    // Views of the old instance's state regions stay behind: they describe memory that
    // goes away with the old instance.
    return module_system().capabilities().transfer_owned(
        from_owner, to_owner, modules::CapabilityKind::MemoryRegion, owned_by_module, nullptr);
}

Status publish_module_memory(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, "kernel_services", "ModuleMemory",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kModuleMemoryVtable),
                          kModuleMemoryVtable.version, diagnostic);
}

}  // namespace umka::loader
