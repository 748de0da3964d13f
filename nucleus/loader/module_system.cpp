#include "nucleus/loader/module_system.h"

#include <arch/cpu.h>
#include <arch/memory.h>

#include <new>

#include "nucleus/lib/log.h"
#include "nucleus/mm/physical_memory.h"

namespace umka::loader {
namespace {

constinit ModuleSystem instance;

// Table sizes per requested module. Every binding takes one capability and one registry
// binding; interfaces and states are bounded by the binder's per-module limits.
constexpr size_t kNucleusServices = 16;
constexpr size_t kServicesPerModule = 8;
constexpr size_t kBindingsPerModule = 16;
constexpr size_t kCapabilitiesPerModule = 24;

Result<void*> reserve(void*, size_t bytes) {
    return arch::reserve_module_pages(bytes);
}

Status protect(void*, void* start, size_t bytes, modules::SegmentAccess access) {
    arch::ModulePageAccess page_access =
        access == modules::SegmentAccess::ReadExecute ? arch::ModulePageAccess::ReadExecute
        : access == modules::SegmentAccess::ReadWrite ? arch::ModulePageAccess::ReadWrite
                                                      : arch::ModulePageAccess::ReadOnly;
    return arch::protect_module_pages(start, bytes, page_access);
}

void release(void*, void* start, size_t bytes) {
    arch::release_module_pages(start, bytes);
}

constexpr modules::ModuleMemory kKernelModuleMemory{nullptr, reserve, protect, release};

}  // namespace

namespace {
constinit RecursiveSpinLock capability_lock{LockLevel::CapabilityWriter};

class KernelLoading final : public modules::LoadEnvironment {
public:
    Result<void*> allocate_zeroed(size_t bytes) override { return loader::allocate_zeroed(bytes); }
    void free_zeroed(void* memory) override { loader::free_zeroed(memory); }
    const modules::ModuleMemory& image_memory() override { return kKernelModuleMemory; }
    modules::ServiceRegistry& registry() override { return instance.registry(); }
    modules::CapabilityTable& capabilities() override { return instance.capabilities(); }
    void lock_tables() override {
        arch::InterruptState state = capability_lock.lock();
        if (depth_++ == 0) outer_state_ = state;
    }
    void unlock_tables() override {
        arch::InterruptState state = --depth_ == 0 ? outer_state_ : arch::InterruptState::Disabled;
        capability_lock.unlock(state);
    }
    uint64_t read_cycles() override { return arch::read_cycle_counter(); }

private:
    // The interrupt state before the outermost lock (the inner ones saw them disabled).
    arch::InterruptState outer_state_ = arch::InterruptState::Disabled;
    uint32_t depth_ = 0;
};
constinit KernelLoading kernel_loading_environment;

constinit bundle::Entry bundle_entries[bundle::kMaximumBundleEntries];
constinit bundle::InventoryRequest bundle_requests[bundle::kMaximumModuleRequests];
}  // namespace

modules::LoadEnvironment& kernel_loading() {
    return kernel_loading_environment;
}

const bundle::Inventory& read_bundle(const uint8_t* bytes, size_t size) {
    bundle::InventoryStorage storage{bundle_entries, bundle::kMaximumBundleEntries, bundle_requests,
                                     bundle::kMaximumModuleRequests};
    instance.keep_inventory(bundle::build_inventory(bytes, size, storage));
    return instance.inventory();
}

ModuleSystem& module_system() {
    return instance;
}

RecursiveSpinLock& capability_writer_lock() {
    return capability_lock;
}

const modules::ModuleMemory& kernel_module_memory() {
    return kKernelModuleMemory;
}

const char* signature_state_name(SignatureState state) {
    switch (state) {
    case SignatureState::NotChecked:
        return "unchecked";
    case SignatureState::Verified:
        return "verified";
    case SignatureState::Refused:
        return "refused";
    }
    return "?";
}

Result<void*> allocate_zeroed(size_t bytes) {
    unsigned order = 0;
    while ((kFrameSize << order) < bytes) ++order;
    uint64_t frames = TRY(physical_memory().allocate(order));
    void* memory = arch::physical_to_virtual(frames);
    __builtin_memset(memory, 0, kFrameSize << order);
    return memory;
}

void free_zeroed(void* memory) {
    if (memory == nullptr) return;
    Status freed = physical_memory().free(arch::direct_map_to_physical(memory));
    // Only a nucleus bug gets here (a pointer allocate_zeroed did not return); keep going.
    if (freed.is_error())
        log("modules: freeing %p failed (%s)\n", memory, errno_name(freed.error()));
}

Status ModuleSystem::initialize(size_t module_count) {
    size_t services = kNucleusServices + kServicesPerModule * module_count;
    // The nucleus, the modules, and replacements bound beside them during a live swap.
    size_t instances = module_count + 1 + kSpareModuleRecords;
    size_t bindings = kBindingsPerModule * instances;
    size_t capabilities = kCapabilitiesPerModule * instances;
    size_t records = module_count + kSpareModuleRecords;

    auto* service_entries = static_cast<modules::ServiceEntry*>(
        TRY(allocate_zeroed(services * sizeof(modules::ServiceEntry))));
    // Two records per service: one published, one for a swap in flight.
    auto* record_cells = static_cast<modules::ServiceRecordCell*>(
        TRY(allocate_zeroed(2 * services * sizeof(modules::ServiceRecordCell))));
    auto* binding_entries = static_cast<modules::ServiceBinding*>(
        TRY(allocate_zeroed(bindings * sizeof(modules::ServiceBinding))));
    auto* capability_entries = static_cast<modules::CapabilityEntry*>(
        TRY(allocate_zeroed(capabilities * sizeof(modules::CapabilityEntry))));
    records_ = static_cast<ModuleRecord*>(TRY(allocate_zeroed(records * sizeof(ModuleRecord))));
    record_capacity_ = records;
    record_count_ = 0;

    // The table objects live in frames too: their constructors run here, not statically.
    void* registry_memory = TRY(allocate_zeroed(sizeof(modules::ServiceRegistry)));
    void* capability_memory = TRY(allocate_zeroed(sizeof(modules::CapabilityTable)));
    registry_ = new (registry_memory) modules::ServiceRegistry(modules::ServiceRegistryStorage{
        service_entries, services, record_cells, 2 * services, binding_entries, bindings});
    capabilities_ =
        new (capability_memory) modules::CapabilityTable(capability_entries, capabilities);
    return Status::ok();
}

ModuleRecord* ModuleSystem::add_record() {
    if (record_count_ == record_capacity_) return nullptr;
    ModuleRecord* record = &records_[record_count_];
    record->owner = uint32_t(record_count_ + 1);  // 0 is the nucleus
    ++record_count_;
    return record;
}

ModuleRecord* ModuleSystem::take_spare_record() {
    for (size_t index = 0; index < record_count_; ++index) {
        ModuleRecord& record = records_[index];
        if (record.state == ModuleState::Replaced && !record.image_loaded &&
            record.binding == nullptr) {
            uint32_t owner = record.owner;
            record = ModuleRecord{};
            record.owner = owner;
            return &record;
        }
    }
    return add_record();
}

ModuleRecord* ModuleSystem::record_of_owner(uint32_t owner) {
    if (owner == 0 || owner > record_count_) return nullptr;
    return &records_[owner - 1];
}

ModuleRecord* ModuleSystem::record_containing(const void* address) {
    for (size_t index = 0; index < record_count_; ++index) {
        ModuleRecord& record = records_[index];
        if (record.image_loaded && record.image.contains(address, 1)) return &record;
    }
    return nullptr;
}

ModuleRecord* ModuleSystem::loaded_named(const char* name) {
    for (size_t index = 0; index < record_count_; ++index) {
        ModuleRecord& record = records_[index];
        if (record.state == ModuleState::Loaded && record.image_loaded &&
            __builtin_strcmp(record.image.manifest_view.name(), name) == 0) {
            return &record;
        }
    }
    return nullptr;
}

}  // namespace umka::loader
