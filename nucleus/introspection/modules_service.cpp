// introspection.Modules: the module records (`mods`), service bindings (`services`) and the
// capabilities a module holds (`caps`).
#include "nucleus/containment/containment.h"
#include "nucleus/containment/memory_domain.h"
#include "nucleus/introspection/introspection.h"
#include "nucleus/introspection/record_text.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/time/clock.h"

namespace umka::introspection {
namespace {

namespace api = umka::kabi::introspection;
using loader::ModuleRecord;
using loader::ModuleState;

// The registry and capability table are visited with callbacks: these stop at `wanted`.
struct BindingSearch {
    uint32_t wanted;
    uint32_t seen;
    api::BindingRecord* record;
    bool found;
};

void visit_binding(void* context, const modules::ServiceBindingView& binding) {
    auto* search = static_cast<BindingSearch*>(context);
    if (search->found || search->seen++ != search->wanted) return;
    api::BindingRecord& record = *search->record;
    copy_text(record.consumer, binding.consumer);
    copy_text(record.provider, binding.provider);
    copy_text(record.package, binding.package);
    copy_text(record.interface, binding.name);
    record.provider_version = binding.provider_version;
    record.required_version = binding.required_version;
    record.transport =
        binding.transport == UMKA_KABI_TRANSPORT_DIRECT &&
                !loader::consumer_uses_ring(binding.consumer, binding.package, binding.name)
            ? api::BindingTransport::Direct
            : api::BindingTransport::Ring;
    search->found = true;
}

struct CapabilitySearch {
    uint32_t wanted;
    uint32_t seen;
    api::CapabilityRecord* record;
    bool found;
};

void visit_capability(void* context, modules::CapabilityHandle handle,
                      const modules::CapabilityInfo& info) {
    auto* search = static_cast<CapabilitySearch*>(context);
    if (search->found || search->seen++ != search->wanted || search->record == nullptr) return;
    api::CapabilityRecord& record = *search->record;
    record.handle = handle.value;
    record.rights = uint32_t(info.rights);
    copy_text(record.kind, modules::capability_kind_name(info.kind));
    if (info.kind == modules::CapabilityKind::ServiceBinding) {
        const modules::ServiceEntry* entry = loader::module_system().registry().entry_of(
            static_cast<const UmkaServiceSlot*>(info.object));
        if (entry != nullptr) {
            copy_text(record.package, entry->package);
            copy_text(record.interface, entry->name);
            copy_text(record.provider, entry->provider);
        }
    }
    search->found = true;
}

// The loaded module named exactly `name` (`length` bytes, no terminator).
Result<const ModuleRecord*> loaded_module(const char* name, uint64_t length) {
    if (name == nullptr || length == 0 || length >= loader::kFileNameCapacity) {
        return Errno::InvalidArgument;
    }
    loader::ModuleSystem& system = loader::module_system();
    for (size_t index = 0; system.initialized() && index < system.record_count(); ++index) {
        const ModuleRecord& record = system.record(index);
        if (record.state != ModuleState::Loaded) continue;
        const char* loaded_name = record.image.manifest_view.name();
        if (__builtin_strlen(loaded_name) == length &&
            __builtin_memcmp(loaded_name, name, length) == 0) {
            return &record;
        }
    }
    return Errno::NotFound;
}

struct ModulesService {
    static uint32_t module_count(void*) {
        loader::ModuleSystem& system = loader::module_system();
        return system.initialized() ? uint32_t(system.record_count()) : 0;
    }

    static Status module(void*, uint32_t index, api::ModuleRecord* out) {
        loader::ModuleSystem& system = loader::module_system();
        if (!system.initialized() || index >= system.record_count()) return Errno::NotFound;
        const ModuleRecord& record = system.record(index);
        *out = api::ModuleRecord{};
        out->tier = record.tier;
        // A module's ring requests and guarded direct calls run in its memory domain when
        // there are domains (docs/crash-containment.md, "Memory domains"); unguarded direct
        // calls never do.
        const char* name =
            record.state == ModuleState::Loaded ? record.image.manifest_view.name() : "";
        out->isolation =
            record.state == ModuleState::Loaded &&
                    containment::domain_support() == containment::DomainSupport::On &&
                    (loader::provider_serves_ring(name) || containment::provider_is_guarded(name))
                ? api::Isolation::MemoryDomain
                : api::Isolation::None;
        copy_text(out->transport, bundle::transport_name(record.transport));
        copy_text(out->signature, loader::signature_state_name(record.signature));
        copy_text(out->reason, record.reason);
        copy_text(out->file, record.file);
        if (record.state == ModuleState::Loaded) {
            out->state = api::ModuleState::Loaded;
            copy_text(out->name, record.image.manifest_view.name());
            out->module_version = record.image.manifest_view.module_version();
            out->text_bytes = record.image.text_size;
            out->file_bytes = record.file_size;
            out->load_us = clock::cycles_to_microseconds(record.load_cycles);
            out->verify_us = clock::cycles_to_microseconds(record.verify_cycles);
            out->start_failed = record.start_error != Errno::Ok ? 1 : 0;
            return Status::ok();
        }
        copy_text(out->name, record.file);
        if (record.state == ModuleState::Replaced) {
            // A replaced record whose image is gone is a spare slot: nothing to show.
            if (!record.image_loaded) return Errno::NotFound;
            out->state = api::ModuleState::Replaced;
            return Status::ok();
        }
        out->state = api::ModuleState::Refused;
        return Status::ok();
    }

    static uint32_t service_count(void*) {
        loader::ModuleSystem& system = loader::module_system();
        return system.initialized() ? uint32_t(system.registry().service_count()) : 0;
    }

    static uint32_t binding_count(void*) {
        loader::ModuleSystem& system = loader::module_system();
        return system.initialized() ? uint32_t(system.registry().binding_count()) : 0;
    }

    static Status binding(void*, uint32_t index, api::BindingRecord* record) {
        loader::ModuleSystem& system = loader::module_system();
        if (!system.initialized()) return Errno::NotFound;
        *record = api::BindingRecord{};
        BindingSearch search{index, 0, record, false};
        system.registry().for_each_binding(visit_binding, &search);
        return search.found ? Status::ok() : Status(Errno::NotFound);
    }

    static Status capability_count(void*, const char* name, uint64_t length, uint32_t* count) {
        Result<const ModuleRecord*> record = loaded_module(name, length);
        if (record.is_error()) return record.error();
        CapabilitySearch search{UINT32_MAX, 0, nullptr, false};
        loader::module_system().capabilities().for_each_owned(record.value()->owner,
                                                              visit_capability, &search);
        *count = search.seen;
        return Status::ok();
    }

    static Status capability(void*, const char* name, uint64_t length, uint32_t index,
                             api::CapabilityRecord* out) {
        Result<const ModuleRecord*> record = loaded_module(name, length);
        if (record.is_error()) return record.error();
        *out = api::CapabilityRecord{};
        CapabilitySearch search{index, 0, out, false};
        loader::module_system().capabilities().for_each_owned(record.value()->owner,
                                                              visit_capability, &search);
        return search.found ? Status::ok() : Status(Errno::NotFound);
    }
};

}  // namespace

const api::ModulesVtable kModulesVtable = api::make_modules_vtable<ModulesService>();

}  // namespace umka::introspection
