#include "nucleus/loader/boot_modules.h"

#include <arch/cpu.h>

#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/console/console.h"
#include "nucleus/crypto/module_signature.h"
#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/loader/nucleus_services.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/module/dependency_resolver.h"
#include "nucleus/module/transport_choice.h"
#include "nucleus/panic.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/console.hpp"
#include "umka/kabi/nucleus_manifest.hpp"
#include "umka/module_signing_key.h"

namespace umka::loader {
namespace {

void count_request(void* context, const bundle::ModuleRequest&) {
    ++*static_cast<size_t*>(context);
}

void record_request(void*, const bundle::ModuleRequest& request) {
    ModuleRecord* record = module_system().add_record();
    if (record == nullptr) return;  // cannot happen: sized by the same manifest
    size_t length =
        request.file.length < kFileNameCapacity - 1 ? request.file.length : kFileNameCapacity - 1;
    __builtin_memcpy(record->file, request.file.text, length);
    record->file[length] = '\0';
    record->tier = request.tier;
    record->transport = request.transport;
    record->criticality = request.criticality;
    record->port_base = request.port_base;
    record->port_count = request.port_count;
}

void refuse(ModuleRecord& record, Errno error, const char* reason) {
    record.state = ModuleState::Refused;
    format(record.reason, sizeof record.reason, "%s: %s", errno_name(error), reason);
}

// Signature, then ELF rules, then loading: nothing of an unverified file is interpreted
// beyond its trailer.
void verify_and_load(ModuleRecord& record, const uint8_t* bundle, size_t size) {
    uint64_t start = arch::read_cycle_counter();
    bundle::Entry entry{};
    if (!bundle::find_entry(bundle, size, record.file, entry)) {
        refuse(record, Errno::NotFound, "not in the bundle");
        return;
    }
    record.file_size = entry.size;
    crypto::SignedModuleView signed_module{};
    const char* reason = nullptr;
    Status status = crypto::split_signed_module(entry.data, entry.size, signed_module, &reason);
    if (status.is_ok()) {
        status = crypto::verify_module_signature(signed_module, crypto::kModuleSigningPublicKey,
                                                 &reason);
    }
    if (status.is_error()) {
        record.signature = SignatureState::Refused;
        refuse(record, status.error(), reason);
        return;
    }
    record.signature = SignatureState::Verified;
    record.verify_cycles = arch::read_cycle_counter() - start;

    modules::Diagnostic diagnostic;
    Result<modules::LoadedModule> image = modules::load_module(
        signed_module.image, signed_module.image_size, kernel_module_memory(), diagnostic);
    if (image.is_error()) {
        refuse(record, image.error(), diagnostic.text());
        return;
    }
    record.image = image.value();
    record.image_loaded = true;
    record.load_cycles = arch::read_cycle_counter() - start;
}

Status bind(ModuleRecord& record, modules::Diagnostic& diagnostic) {
    uint64_t start = arch::read_cycle_counter();
    const modules::ManifestView& manifest = record.image.manifest_view;
    TRY(modules::check_requested_placement(manifest, record.tier, record.transport, diagnostic));
    UmkaStateRegion states[modules::kMaximumBoundStates];
    size_t state_count = manifest.state_count();
    if (state_count > modules::kMaximumBoundStates) {
        return modules::refuse(diagnostic, Errno::NoSpace, "%zu state regions (at most %zu)",
                               state_count, modules::kMaximumBoundStates);
    }
    for (size_t index = 0; index < state_count; ++index) {
        modules::StateEntry state = manifest.state(index);
        void* base = TRY(allocate_zeroed(state.size));
        states[index] = UmkaStateRegion{base, state.size, state.version, UMKA_STATE_ORIGIN_FRESH};
    }
    record.binding = static_cast<modules::ModuleBindingBlock*>(
        TRY(allocate_zeroed(sizeof(modules::ModuleBindingBlock))));
    modules::BindRequest request{&record.image, nullptr, states, state_count, record.owner};
    TRY(modules::bind_module(request, *record.binding, module_system().registry(),
                             module_system().capabilities(), diagnostic));
    prepare_module_ring_bindings(record);
    record.load_cycles += arch::read_cycle_counter() - start;
    return Status::ok();
}

void report(const ModuleRecord& record) {
    if (record.state == ModuleState::Loaded) {
        log("module %s %u loaded from %s: tier %u, %s, %zu KiB text, signature %s (%lu us), "
            "%lu us in all\n",
            record.image.manifest_view.name(), record.image.manifest_view.module_version(),
            record.file, record.tier, bundle::transport_name(record.transport),
            (record.image.text_size + 1023) / 1024, signature_state_name(record.signature),
            clock::cycles_to_microseconds(record.verify_cycles),
            clock::cycles_to_microseconds(record.load_cycles));
    } else {
        log("module %s refused: %s\n", record.file, record.reason);
    }
}

void resolve_and_bind(size_t module_count) {
    ModuleSystem& system = module_system();
    size_t choice_count = 0;
    for (size_t index = 0; index < system.record_count(); ++index) {
        if (system.record(index).image_loaded) {
            choice_count += system.record(index).image.manifest_view.required_count();
        }
    }
    Result<void*> modules_memory = allocate_zeroed(module_count * sizeof(modules::ResolverModule));
    Result<void*> choices_memory =
        allocate_zeroed((choice_count + 1) * sizeof(modules::ProviderChoice));
    Result<void*> order_memory = allocate_zeroed(module_count * sizeof(uint16_t));
    Result<void*> index_memory = allocate_zeroed(module_count * sizeof(size_t));
    if (modules_memory.is_error() || choices_memory.is_error() || order_memory.is_error() ||
        index_memory.is_error()) {
        panic("modules: no memory for dependency resolution");
    }
    modules::ResolverStorage storage{
        static_cast<modules::ResolverModule*>(modules_memory.value()), module_count,
        static_cast<modules::ProviderChoice*>(choices_memory.value()), choice_count + 1,
        static_cast<uint16_t*>(order_memory.value())};
    auto* record_of = static_cast<size_t*>(index_memory.value());

    modules::Diagnostic diagnostic;
    Result<modules::ManifestView> nucleus =
        modules::ManifestView::parse(&umka::kabi::nucleus::nucleus_manifest,
                                     sizeof(umka::kabi::nucleus::nucleus_manifest), diagnostic);
    if (nucleus.is_error())
        panic("modules: the nucleus's own manifest is invalid: %s", diagnostic.text());
    modules::DependencyResolver resolver(storage, &nucleus.value());
    for (size_t index = 0; index < system.record_count(); ++index) {
        ModuleRecord& record = system.record(index);
        if (!record.image_loaded) continue;
        Result<size_t> added = resolver.add(record.image.manifest_view, diagnostic);
        if (added.is_error()) {
            refuse(record, added.error(), diagnostic.text());
            continue;
        }
        record_of[added.value()] = index;
    }
    resolver.resolve();
    uint32_t load_order = 0;
    for (size_t next = resolver.next_to_load(); next != modules::DependencyResolver::kNone;
         next = resolver.next_to_load()) {
        ModuleRecord& record = system.record(record_of[next]);
        Status status = bind(record, diagnostic);
        if (status.is_ok()) {
            record.state = ModuleState::Loaded;
            record.load_order = ++load_order;
            resolver.mark_loaded(next);
        } else {
            refuse(record, status.error(), diagnostic.text());
            resolver.mark_failed(next, record.reason);
        }
    }
    for (size_t module = 0; module < resolver.module_count(); ++module) {
        ModuleRecord& record = system.record(record_of[module]);
        if (resolver.outcome(module) == modules::ModuleOutcome::Loaded) continue;
        if (record.state != ModuleState::Refused) {
            record.state = ModuleState::Refused;
            format(record.reason, sizeof record.reason, "%s: %s",
                   modules::module_outcome_name(resolver.outcome(module)), resolver.reason(module));
        }
        // Its image never runs: give the pages back.
        modules::unload_module(record.image, kernel_module_memory());
        record.image_loaded = false;
    }
}

}  // namespace

void load_boot_modules(const uint8_t* bundle, size_t size) {
    size_t module_count = 0;
    bundle::ManifestVisitor counting{&module_count, count_request, nullptr};
    bundle::Inventory inventory = bundle::inspect_bundle(bundle, size, counting);
    if (inventory.problem == bundle::InventoryProblem::Archive ||
        inventory.problem == bundle::InventoryProblem::ManifestMissing ||
        inventory.problem == bundle::InventoryProblem::Manifest || module_count == 0) {
        return;  // bring-up already said why
    }
    ModuleSystem& system = module_system();
    Status status = system.initialize(module_count);
    if (status.is_error())
        panic("modules: no memory for the module tables (%s)", errno_name(status.error()));
    system.keep_bundle(bundle, size);
    bundle::ManifestVisitor recording{nullptr, record_request, nullptr};
    (void)bundle::inspect_bundle(bundle, size, recording);

    modules::Diagnostic diagnostic;
    status = publish_nucleus_services(system.registry(), diagnostic);
    if (status.is_error())
        panic("modules: publishing the nucleus's services: %s", diagnostic.text());

    for (size_t index = 0; index < system.record_count(); ++index) {
        verify_and_load(system.record(index), bundle, size);
    }
    resolve_and_bind(module_count);
    for (size_t index = 0; index < system.record_count(); ++index) {
        const ModuleRecord& record = system.record(index);
        report(record);
        if (record.state != ModuleState::Loaded &&
            record.criticality == bundle::Criticality::Critical) {
            panic("modules: critical module %s could not be loaded: %s", record.file,
                  record.reason);
        }
    }
}

void start_boot_modules() {
    ModuleSystem& system = module_system();
    if (!system.initialized()) return;
    for (uint32_t order = 1; order <= system.record_count(); ++order) {
        for (size_t index = 0; index < system.record_count(); ++index) {
            ModuleRecord& record = system.record(index);
            if (record.load_order != order || record.state != ModuleState::Loaded) continue;
            modules::Diagnostic diagnostic;
            Status started = modules::start_module(*record.binding,
                                                   record.image.manifest_view.name(), diagnostic);
            if (started.is_error()) {
                record.start_error = started.error();
                format(record.reason, sizeof record.reason, "%s", diagnostic.text());
                log("module %s: %s\n", record.image.manifest_view.name(), diagnostic.text());
                if (record.criticality == bundle::Criticality::Critical) {
                    panic("modules: critical module %s did not start: %s", record.file,
                          diagnostic.text());
                }
            }
        }
    }
    // The nucleus allocates from the heap module from now on (object_memory.cpp); its
    // binding is recorded now rather than at the first allocation.
    (void)heap_available();
}

void start_console() {
    ModuleSystem& system = module_system();
    if (system.initialized()) {
        Result<UmkaServiceSlot*> slot = system.registry().find("console", "Console", nullptr);
        umka::kabi::console::ConsoleRef console;
        // run() returns EAGAIN after each command: the slot is loaded again, so a console
        // replaced by that command (its own `evolve`) goes on in the new module while the
        // old image, now left, can be unloaded (docs/evolution.md, "The console swapped
        // from itself").
        if (slot.is_ok() && umka::kabi::bind_service(slot.value(), &console).is_ok()) {
            umka::kabi::Status status = console.run();
            while (status.code() == UMKA_KABI_EAGAIN &&
                   umka::kabi::bind_service(slot.value(), &console).is_ok()) {
                status = console.run();
            }
            log("console: the console module returned (%s); the nucleus console takes over\n",
                errno_name(Errno(status.code())));
            console::run();
        }
    }
    log("console: no console module is loaded; the nucleus console takes over\n");
    console::run();
}

}  // namespace umka::loader
