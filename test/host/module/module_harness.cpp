#include "module_harness.h"

#include <stdlib.h>
#include <sys/mman.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace umka::harness {

namespace services = kabi::kernel_services;

bool read_file(const std::string& path, std::vector<uint8_t>& contents, std::string* error) {
    std::ifstream stream(path, std::ios::binary);
    if (!stream) {
        if (error) *error = "cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    contents.assign(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
    return true;
}

// --- mmap-backed module memory ----------------------------------------------------------

MmapModuleMemory::MmapModuleMemory() : memory_{this, &reserve, &protect, &release} {}

Result<void*> MmapModuleMemory::reserve(void* context, size_t bytes) {
    auto* self = static_cast<MmapModuleMemory*>(context);
    if (self->fail_next_reserve_) {
        self->fail_next_reserve_ = false;
        return Errno::OutOfMemory;
    }
    void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return Errno::OutOfMemory;
    ++self->live_reservations_;
    return memory;
}

Status MmapModuleMemory::protect(void* context, void* start, size_t bytes,
                                 modules::SegmentAccess access) {
    auto* self = static_cast<MmapModuleMemory*>(context);
    if (self->protect_calls_++ >= self->fail_protect_after_) return Errno::NotPermitted;
    int protection = PROT_READ;
    if (access == modules::SegmentAccess::ReadWrite) protection |= PROT_WRITE;
    if (access == modules::SegmentAccess::ReadExecute) protection |= PROT_EXEC;
    if (mprotect(start, bytes, protection) != 0) return Errno::InvalidArgument;
    return Status::ok();
}

void MmapModuleMemory::release(void* context, void* start, size_t bytes) {
    auto* self = static_cast<MmapModuleMemory*>(context);
    munmap(start, bytes);
    --self->live_reservations_;
}

// --- host providers ---------------------------------------------------------------------

RecordingLog::RecordingLog() {
    vtable_ = services::LogVtable{};
    vtable_.vtable_size = sizeof(vtable_);
    vtable_.version = 1;
    vtable_.write = [](void* context, services::LogLevel, const char* text, uint64_t length) {
        static_cast<RecordingLog*>(context)->lines_.emplace_back(text, length);
    };
    vtable_.level = [](void*) { return services::LogLevel::Debug; };
}

ManualClock::ManualClock() {
    vtable_ = services::ClockVtable{};
    vtable_.vtable_size = sizeof(vtable_);
    vtable_.version = 1;
    vtable_.now_ns = [](void* context) { return static_cast<ManualClock*>(context)->now_ns_; };
    vtable_.resolution_ns = [](void*) -> uint64_t { return 1; };
}

// --- the harness ------------------------------------------------------------------------

ModuleHarness::ModuleHarness(size_t capability_capacity, size_t service_capacity)
    : capability_entries_(capability_capacity),
      service_entries_(service_capacity),
      record_cells_(service_capacity * 2),
      binding_entries_(service_capacity * 4),
      capabilities_(capability_entries_.data(), capability_entries_.size()),
      registry_(modules::ServiceRegistryStorage{service_entries_.data(), service_entries_.size(),
                                                record_cells_.data(), record_cells_.size(),
                                                binding_entries_.data(), binding_entries_.size()}) {
    // The host stands in for the nucleus: its Log and Clock are what modules bind to.
    (void)provide("kernel_services", "Log", log_.vtable(), &log_);
    (void)provide("kernel_services", "Clock", clock_.vtable(), &clock_);
}

ModuleHarness::~ModuleHarness() {
    // Consumers before providers: each pass unloads every module nobody is bound to (a swap
    // can leave a provider after its consumers in load order). What never frees up (only a
    // test that left a cycle of bindings) is unmapped anyway.
    bool progress = true;
    while (!modules_.empty() && progress) {
        progress = false;
        for (size_t index = modules_.size(); index-- > 0;) {
            if (unload(modules_[index].get()).is_ok()) progress = true;
        }
    }
    for (auto& module : modules_) modules::unload_module(module->loaded, memory_.memory());
}

Errno ModuleHarness::fail(Errno error, const std::string& reason) {
    last_error_ = error;
    last_reason_ = reason;
    return error;
}

Status ModuleHarness::provide(const char* package, const char* name,
                              const umka_kabi_vtable_header* vtable, void* context,
                              const char* provider) {
    Diagnostic diagnostic;
    Result<UmkaServiceSlot*> slot = registry_.publish(
        package, name, modules::ServiceProvider{provider, vtable, context, 1}, diagnostic);
    if (slot.is_error()) return fail(slot.error(), diagnostic.text());
    return Status::ok();
}

HostModule* ModuleHarness::load(const std::string& path, const LoadOptions& options) {
    auto module = std::make_unique<HostModule>();
    module->path = path;
    std::string error;
    if (!read_file(path, module->file, &error)) {
        fail(Errno::NotFound, error);
        return nullptr;
    }
    Diagnostic diagnostic;
    Result<modules::LoadedModule> loaded = modules::load_module(
        module->file.data(), module->file.size(), memory_.memory(), diagnostic);
    if (loaded.is_error()) {
        fail(loaded.error(), diagnostic.text());
        return nullptr;
    }
    module->loaded = loaded.value();
    const modules::ManifestView& manifest = module->manifest();

    // State regions: carried over, or fresh zeroed memory sized by the manifest.
    if (!options.carried_states.empty()) {
        module->states = options.carried_states;
        module->state_memory = options.carried_memory;
    } else {
        for (size_t index = 0; index < manifest.state_count(); ++index) {
            modules::StateEntry state = manifest.state(index);
            size_t size = (size_t(state.size) + 63) & ~size_t(63);
            void* memory = aligned_alloc(64, size);
            std::memset(memory, 0, size);
            module->state_memory.emplace_back(memory, &free);
            module->states.push_back(
                UmkaStateRegion{memory, size, state.version, UMKA_STATE_ORIGIN_FRESH});
        }
    }

    module->block = std::make_unique<modules::ModuleBindingBlock>();
    module->owner = next_owner_++;
    modules::BindRequest request{
        &module->loaded,       options.providers.empty() ? nullptr : options.providers.data(),
        module->states.data(), module->states.size(),
        module->owner,         options.publication};
    if (!options.providers.empty() && options.providers.size() != manifest.required_count()) {
        modules::unload_module(module->loaded, memory_.memory());
        fail(Errno::InvalidArgument, "LoadOptions.providers does not match the requires count");
        return nullptr;
    }
    Status bound =
        modules::bind_module(request, *module->block, registry_, capabilities_, diagnostic);
    if (bound.is_error()) {
        modules::unload_module(module->loaded, memory_.memory());
        fail(bound.error(), diagnostic.text());
        return nullptr;
    }
    // A published module is committed at once, so it starts now (the nucleus starts boot
    // modules once all are bound; here nothing else is bound to it yet, so a failed start
    // can unload it). A withheld one starts when a swap commits it (evolve).
    if (options.publication == modules::Publication::Publish) {
        Status started = modules::start_module(*module->block, module->name(), diagnostic);
        if (started.is_error()) {
            (void)modules::unbind_module(*module->block, module->name(), registry_, capabilities_,
                                         diagnostic);
            modules::unload_module(module->loaded, memory_.memory());
            fail(started.error(), diagnostic.text());
            return nullptr;
        }
    }
    modules_.push_back(std::move(module));
    last_error_ = Errno::Ok;
    last_reason_.clear();
    return modules_.back().get();
}

Status ModuleHarness::unload(HostModule* module) {
    Diagnostic diagnostic;
    Status unbound = modules::unbind_module(*module->block, module->name(), registry_,
                                            capabilities_, diagnostic);
    if (unbound.is_error()) return fail(unbound.error(), diagnostic.text());
    modules::unload_module(module->loaded, memory_.memory());
    for (auto it = modules_.begin(); it != modules_.end(); ++it) {
        if (it->get() == module) {
            modules_.erase(it);
            break;
        }
    }
    return Status::ok();
}

Status ModuleHarness::start(HostModule* module) {
    Diagnostic diagnostic;
    Status started = modules::start_module(*module->block, module->name(), diagnostic);
    if (started.is_error()) return fail(started.error(), diagnostic.text());
    return Status::ok();
}

Status ModuleHarness::swap(HostModule* current, HostModule* replacement) {
    Diagnostic diagnostic;
    const UmkaServiceRecord* retired[modules::kMaximumProvided];
    size_t retired_count = 0;
    Status swapped = modules::swap_provided(*current->block, *replacement->block,
                                            current->manifest(), replacement->manifest(), registry_,
                                            retired, &retired_count, diagnostic);
    if (swapped.is_error()) return fail(swapped.error(), diagnostic.text());
    for (size_t index = 0; index < retired_count; ++index) registry_.retire(retired[index]);
    return Status::ok();
}

namespace {

size_t find_state(const modules::ManifestView& manifest, const char* name) {
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        if (std::strcmp(manifest.state(index).name, name) == 0) return index;
    }
    return ModuleHarness::kNoState;
}

}  // namespace

Status ModuleHarness::import_states(HostModule& current, HostModule& replacement, uint32_t mode,
                                    uint32_t cause) {
    const modules::ManifestView& old_manifest = current.manifest();
    const modules::ManifestView& new_manifest = replacement.manifest();
    UmkaStateImportFunction import = replacement.block->binding.import_state;
    for (size_t index = 0; index < new_manifest.state_count(); ++index) {
        modules::StateEntry state = new_manifest.state(index);
        size_t old_index = find_state(old_manifest, state.name);
        if (old_index == kNoState) continue;  // no predecessor: the region stays fresh
        const UmkaStateRegion& old_region = current.states[old_index];
        UmkaStateRegion& new_region = replacement.states[index];
        // The old bytes are exactly the old schema's size (the region may be rounded up).
        uint64_t old_size = old_manifest.state(old_index).size;
        if (import == nullptr) {
            if (old_region.schema_version != new_region.schema_version) {
                return fail(Errno::InvalidArgument,
                            std::string("state ") + state.name + " is version " +
                                std::to_string(old_region.schema_version) + ", '" +
                                new_manifest.name() + "' declares " +
                                std::to_string(new_region.schema_version) +
                                " and has no import function");
            }
            if (mode == UMKA_STATE_IMPORT_COMMIT) {
                std::memcpy(new_region.base, old_region.base, old_size);
            }
            continue;
        }
        std::shared_ptr<void> scratch(aligned_alloc(64, (new_region.size + 63) & ~uint64_t(63)),
                                      &free);
        std::memset(scratch.get(), 0, new_region.size);
        void* target = mode == UMKA_STATE_IMPORT_DRY_RUN ? scratch.get() : new_region.base;
        UmkaStateImport request{};
        request.state_index = uint32_t(index);
        request.old_schema_version = old_region.schema_version;
        request.old_base = old_region.base;
        request.old_size = old_size;
        request.new_base = target;
        request.new_size = new_region.size;
        request.mode = mode;
        request.cause = cause;
        if (int32_t status = import(&request); status != 0) {
            return fail(static_cast<Errno>(status),
                        std::string("'") + new_manifest.name() + "' refused state " + state.name +
                            " version " + std::to_string(old_region.schema_version) + ": errno " +
                            std::to_string(status));
        }
    }
    return Status::ok();
}

HostModule* ModuleHarness::evolve(HostModule* current, const std::string& path, uint32_t cause) {
    LoadOptions options;
    options.publication = modules::Publication::Withhold;
    HostModule* replacement = load(path, options);
    if (replacement == nullptr) return nullptr;
    Status imported = import_states(*current, *replacement, UMKA_STATE_IMPORT_DRY_RUN, cause);
    if (imported.is_ok()) {
        imported = import_states(*current, *replacement, UMKA_STATE_IMPORT_COMMIT, cause);
    }
    if (imported.is_ok()) imported = swap(current, replacement);
    if (imported.is_error()) {
        std::string reason = last_reason_;
        Errno error = last_error_;
        (void)unload(replacement);
        fail(error, reason);
        return nullptr;
    }
    if (Status unloaded = unload(current); unloaded.is_error()) return nullptr;
    // Committed: the replacement starts, as the nucleus starts it after the pause. It stays
    // in place on a failed start (its services already have callers); the errno and the
    // reason are in last_error()/last_reason().
    (void)start(replacement);
    return replacement;
}

}  // namespace umka::harness
