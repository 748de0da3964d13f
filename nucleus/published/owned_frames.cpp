#include "nucleus/published/owned_frames.h"

#include <arch/memory.h>

#include "nucleus/lib/spinlock.h"
#include "nucleus/mm/physical_memory.h"

namespace umka::loader {
namespace {

// Records live in frames chained as pages of records; a page is added when all are in use,
// so the number of runs is bounded only by memory.
struct RecordPage {
    RecordPage* next;
    uint64_t reserved;
    FrameRun records[(kFrameSize - 16) / sizeof(FrameRun)];
};
static_assert(sizeof(RecordPage) <= kFrameSize);

constinit RecordPage* first_page = nullptr;

FrameRun* take_record() {
    capability_writer_lock().assert_held();
    for (RecordPage* page = first_page; page != nullptr; page = page->next) {
        for (FrameRun& record : page->records) {
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

Result<uint64_t> insert(const ModuleRecord* caller, modules::CapabilityKind kind,
                        const FrameRun& run) {
    capability_writer_lock().assert_held();
    FrameRun* record = take_record();
    if (record == nullptr) return Errno::OutOfMemory;
    Result<modules::CapabilityHandle> handle = module_system().capabilities().insert(
        record, kind, modules::Rights::Read | modules::Rights::Write, caller->owner);
    if (handle.is_error()) return Errno::OutOfMemory;
    *record = run;
    return handle.value().value;
}

void free_run(FrameRun& record) {
    if (record.order != kNotOwnedOrder) (void)physical_memory().free(record.physical);
    record = FrameRun{};
}

}  // namespace

Result<GrantedRun> grant_frames(const ModuleRecord* caller, modules::CapabilityKind kind,
                                uint64_t length, FramePlacement placement, FrameFill fill,
                                uint32_t flags) {
    if (caller == nullptr || length == 0) return Errno::InvalidArgument;
    unsigned order = 0;
    while ((kFrameSize << order) < length) {
        if (++order > FrameAllocator::kMaxOrder) return Errno::InvalidArgument;
    }
    Result<uint64_t> frames = placement == FramePlacement::Below4g
                                  ? physical_memory().allocate_below(4ull << 30, order)
                                  : physical_memory().allocate(order);
    if (frames.is_error()) return Errno::OutOfMemory;
    if (fill == FrameFill::Zeroed) {
        __builtin_memset(arch::physical_to_virtual(frames.value()), 0, kFrameSize << order);
    }
    FrameRun run{frames.value(), length, flags, uint8_t(order), {}};
    RecursiveSpinLockGuard guard(capability_writer_lock());
    Result<uint64_t> handle = insert(caller, kind, run);
    if (handle.is_error()) {
        (void)physical_memory().free(frames.value());
        return handle.error();
    }
    return GrantedRun{handle.value(), run};
}

Result<uint64_t> grant_view(const ModuleRecord* caller, modules::CapabilityKind kind,
                            uint64_t physical, uint64_t length) {
    if (caller == nullptr || physical == 0) return Errno::InvalidArgument;
    RecursiveSpinLockGuard guard(capability_writer_lock());
    return insert(caller, kind, FrameRun{physical, length, 0, kNotOwnedOrder, {}});
}

namespace {

// The live record behind `handle`, for the writer side (the caller holds the lock).
Result<FrameRun*> owned_record(uint64_t handle, modules::CapabilityKind kind,
                               const ModuleRecord* caller) {
    if (caller == nullptr) return Errno::InvalidArgument;
    modules::CapabilityInfo info{};
    modules::CapabilityCheck check = module_system().capabilities().check(
        modules::CapabilityHandle{handle}, modules::Rights::Read, &info);
    if (check != modules::CapabilityCheck::Valid || info.kind != kind) {
        return Errno::InvalidArgument;
    }
    // Between a swap's pause and resume, the replacement's runs may still carry its
    // predecessor's owner id (transfer_module_regions runs after the pause).
    uint32_t inherited = __atomic_load_n(&caller->inherited_owner, __ATOMIC_ACQUIRE);
    if (info.owner != caller->owner && (inherited == 0 || info.owner != inherited)) {
        return Errno::InvalidArgument;
    }
    return static_cast<FrameRun*>(info.object);
}

}  // namespace

Result<FrameRun> owned_frames(uint64_t handle, modules::CapabilityKind kind,
                              const ModuleRecord* caller) {
    FrameRun* record = TRY(owned_record(handle, kind, caller));
    FrameRun copy;
    __builtin_memcpy(&copy, record, sizeof copy);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    // Still the same capability: the copy is of this run, not of a record reused since.
    TRY(owned_record(handle, kind, caller));
    if (copy.physical == 0) return Errno::InvalidArgument;
    return copy;
}

Status release_frames(uint64_t handle, modules::CapabilityKind kind, const ModuleRecord* caller) {
    RecursiveSpinLockGuard guard(capability_writer_lock());
    FrameRun* record = TRY(owned_record(handle, kind, caller));
    TRY(module_system().capabilities().revoke(modules::CapabilityHandle{handle}));
    free_run(*record);
    return Status::ok();
}

namespace {

// The kinds of capability whose object is a FrameRun.
constexpr modules::CapabilityKind kRunKinds[] = {modules::CapabilityKind::MemoryRegion,
                                                 modules::CapabilityKind::DmaBuffer,
                                                 modules::CapabilityKind::MmioWindow};

bool is_run_kind(modules::CapabilityKind kind) {
    for (modules::CapabilityKind run_kind : kRunKinds) {
        if (kind == run_kind) return true;
    }
    return false;
}

// A state view (a MemoryRegion the module does not own) stays with the old instance; a
// Mmio window is a view too, of device registers, and moves.
bool moves_with_swap(void* context, void* object) {
    auto kind = *static_cast<const modules::CapabilityKind*>(context);
    return kind != modules::CapabilityKind::MemoryRegion ||
           static_cast<const FrameRun*>(object)->order != kNotOwnedOrder;
}

}  // namespace

size_t transfer_module_regions(uint32_t from_owner, uint32_t to_owner) {
    capability_writer_lock().assert_held();
    size_t moved = 0;
    for (modules::CapabilityKind kind : kRunKinds) {
        moved += module_system().capabilities().transfer_owned(from_owner, to_owner, kind,
                                                               moves_with_swap, &kind);
    }
    return moved;
}

size_t release_module_regions(uint32_t owner) {
    size_t released = 0;
    RecursiveSpinLockGuard guard(capability_writer_lock());
    module_system().capabilities().for_each_owned(
        owner,
        [](void* context, modules::CapabilityHandle handle, const modules::CapabilityInfo& info) {
            if (!is_run_kind(info.kind)) return;
            if (module_system().capabilities().revoke(handle).is_error()) return;
            free_run(*static_cast<FrameRun*>(info.object));
            ++*static_cast<size_t*>(context);
        },
        &released);
    return released;
}

}  // namespace umka::loader
