#include "nucleus/loader/boot_modules.h"

#include <arch/cpu.h>

#include <atomic>

#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/console/console.h"
#include "nucleus/containment/containment.h"
#include "nucleus/crypto/module_signature.h"
#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"
#include "nucleus/lib/verify.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/module/dependency_resolver.h"
#include "nucleus/module/transport_choice.h"
#include "nucleus/panic.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/smp/rendezvous.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/console.hpp"
#include "umka/kabi/nucleus_manifest.hpp"
#include "umka/module_signing_key.h"
#include "umka/name_copy.h"

namespace umka::loader {
namespace {

void refuse(ModuleRecord& record, Errno error, const char* reason) {
    record.state = ModuleState::Refused;
    format(record.reason, sizeof record.reason, "%s: %s", errno_name(error), reason);
}

// A record per manifest module line, in manifest order. A line that is malformed or names a
// file the bundle lacks becomes a refused record carrying why, so `mods` and the boot log
// say which line is wrong instead of listing nothing.
void record_request(const bundle::InventoryRequest& request) {
    ModuleRecord* record = module_system().add_record();
    if (record == nullptr) return;  // cannot happen: sized by the same inventory
    const bundle::ModuleRequest& module = request.request;
    record->tier = module.tier;
    record->transport = module.transport;
    record->criticality = module.criticality;
    record->port_base = module.port_base;
    record->port_count = module.port_count;
    record->configuration_space = module.configuration_space;
    record->legacy_irq = module.isa_irq;
    // Names are taken whole or refused: a cut name could name another file of the bundle.
    bool named =
        umka::copy_name(record->file, sizeof record->file, module.file.text, module.file.length);
    if (!named) {
        format(record->file, sizeof record->file, "%.*s...", int(kFileNameCapacity - 4),
               module.file.text);
    }
    if (request.problem == bundle::RequestProblem::MalformedLine) {
        if (module.file.length == 0) {
            format(record->file, sizeof record->file, "%s:%u", bundle::kManifestName,
                   request.error.line);
        }
        record->state = ModuleState::Refused;
        format(record->reason, sizeof record->reason, "%s: %s:%u:%u: %s",
               errno_name(Errno::InvalidArgument), bundle::kManifestName, request.error.line,
               request.error.column, request.error.reason);
    } else if (!named) {
        refuse(*record, Errno::InvalidArgument,
               module.file.length >= kFileNameCapacity ? "the file name is longer than 63 bytes"
                                                       : "the file name holds a NUL byte");
    } else if (request.problem == bundle::RequestProblem::FileMissing) {
        refuse(*record, Errno::NotFound, "not in the bundle");
    }
}

// An Ed25519 check over each whole file is most of what loading the boot modules costs,
// and the checks are independent: every online CPU takes files from one counter
// (smp::rendezvous RunEverywhere, the boot CPU included), so N CPUs check N files at a
// time. Loading and binding stay in manifest order on the boot CPU. The work list is
// static: a CPU that answers a timed-out rendezvous late still finds it valid, takes no
// file (the counter is past the end) and leaves.
struct SignatureWork {
    const bundle::Entry* entries[bundle::kMaximumModuleRequests];
    modules::SignatureCheck checks[bundle::kMaximumModuleRequests];
    uint32_t count;
    std::atomic<uint32_t> next;
    std::atomic<uint32_t> finished;
};
constinit SignatureWork signature_work{};

uint64_t read_cycles() {
    return arch::read_cycle_counter();
}

void check_signatures_on_this_cpu(void*) {
    SignatureWork& work = signature_work;
    for (;;) {
        uint32_t index = work.next.fetch_add(1, std::memory_order_relaxed);
        if (index >= work.count) return;
        const bundle::Entry& entry = *work.entries[index];
        work.checks[index] = modules::check_signature(entry.data, entry.size,
                                                      crypto::kModuleSigningPublicKey, read_cycles);
        work.finished.fetch_add(1, std::memory_order_release);
    }
}

// Fills signature_work.checks[i] for request i (entries the bundle lacks stay unchecked).
void check_signatures(const bundle::Inventory& inventory) {
    SignatureWork& work = signature_work;
    VERIFY(inventory.request_count <= bundle::kMaximumModuleRequests);
    work.count = 0;
    for (uint32_t index = 0; index < inventory.request_count; ++index) {
        const bundle::Entry* entry = inventory.requests[index].entry;
        if (entry != nullptr) work.entries[work.count++] = entry;
    }
    work.next.store(0, std::memory_order_relaxed);
    work.finished.store(0, std::memory_order_relaxed);
    // A timed-out rendezvous still ran here; what no CPU took, this CPU takes now.
    (void)smp::rendezvous(smp::RendezvousMode::RunEverywhere, check_signatures_on_this_cpu,
                          nullptr);
    check_signatures_on_this_cpu(nullptr);
    while (work.finished.load(std::memory_order_acquire) < work.count) arch::cpu_relax();
}

const modules::SignatureCheck* checked_signature(const bundle::Entry* entry) {
    for (uint32_t index = 0; index < signature_work.count; ++index) {
        if (signature_work.entries[index] == entry) return &signature_work.checks[index];
    }
    return nullptr;
}

// Find, signature, ELF: nothing of an unverified file is interpreted beyond its trailer.
void verify_and_load(ModuleRecord& record, const bundle::InventoryRequest& inventory_request) {
    if (record.state == ModuleState::Refused) return;
    modules::LoadProgress progress;
    modules::Diagnostic diagnostic;
    modules::ImageRequest request{&module_system().inventory(), record.file,
                                  crypto::kModuleSigningPublicKey,
                                  checked_signature(inventory_request.entry)};
    Result<modules::LoadedModule> image =
        modules::load_image(kernel_loading(), request, progress, diagnostic);
    record.file_size = progress.file_size;
    record.verify_cycles = progress.verify_cycles;
    if (progress.step > modules::LoadStep::Signature) record.signature = SignatureState::Verified;
    if (progress.step == modules::LoadStep::Signature) record.signature = SignatureState::Refused;
    if (image.is_error()) {
        refuse(record, image.error(), diagnostic.text());
        return;
    }
    record.image = image.value();
    record.image_loaded = true;
    record.load_cycles = progress.load_cycles;
}

Status bind(ModuleRecord& record, modules::Diagnostic& diagnostic) {
    TRY(modules::check_requested_placement(record.image.manifest_view, record.tier,
                                           record.transport, diagnostic));
    modules::LoadProgress progress;
    modules::BindOptions options;
    options.owner = record.owner;
    TRY(modules::bind_image(kernel_loading(), record.image, options, record.binding, progress,
                            diagnostic));
    prepare_module_ring_bindings(record);
    containment::set_watchdog_limit(record.image.manifest_view.name(),
                                    record.image.manifest_view.watchdog_ms());
    record.load_cycles += progress.load_cycles;
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
        if (record.tier == 1) {
            // Not silently: tier 1 promises a memory domain, which only the code on a guarded
            // path (ring requests, guarded direct calls, swap starts, interrupt handlers)
            // runs in.
            log("module %s: tier 1 without a memory domain of its own: only ring requests, "
                "guarded direct calls, swap starts and interrupt handlers run in one "
                "(docs/crash-containment.md)\n",
                record.image.manifest_view.name());
        }
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
        modules::unload_image(kernel_loading(), record.image);
        record.image_loaded = false;
    }
    free_zeroed(modules_memory.value());
    free_zeroed(choices_memory.value());
    free_zeroed(order_memory.value());
    free_zeroed(index_memory.value());
}

}  // namespace

void load_boot_modules() {
    ModuleSystem& system = module_system();
    const bundle::Inventory& inventory = system.inventory();
    if (!inventory.usable() || inventory.request_count == 0) return;  // bring-up said why
    Status status = system.initialize(inventory.request_count);
    if (status.is_error())
        panic("modules: no memory for the module tables (%s)", errno_name(status.error()));
    for (uint32_t index = 0; index < inventory.request_count; ++index) {
        record_request(inventory.requests[index]);
    }

    modules::Diagnostic diagnostic;
    status = publish_nucleus_services(system.registry(), diagnostic);
    if (status.is_error())
        panic("modules: publishing the nucleus's services: %s", diagnostic.text());

    VERIFY(system.record_count() == inventory.request_count);  // record i is request i
    check_signatures(inventory);
    for (size_t index = 0; index < system.record_count(); ++index) {
        verify_and_load(system.record(index), inventory.requests[index]);
    }
    resolve_and_bind(inventory.request_count);
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
    // A restart (a start that crashed) loads the fresh instance into a record of its own,
    // with load order 0, and starts it itself: the loops below start only the boot
    // bundle's records, by their load order.
    const size_t boot_records = system.record_count();
    for (uint32_t order = 1; order <= boot_records; ++order) {
        for (size_t index = 0; index < boot_records; ++index) {
            ModuleRecord& record = system.record(index);
            if (record.load_order != order || record.state != ModuleState::Loaded) continue;
            modules::Diagnostic diagnostic;
            // Guarded like a swap's start: a fault in it is contained and the module
            // restarted (its fresh instances' starts guarded too), or it ends failed.
            uint64_t crash_sequence = 0;
            Status started = containment::guarded_start(record, diagnostic, crash_sequence);
            if (crash_sequence != 0 &&
                containment::recover_start(crash_sequence) == containment::Health::Running) {
                continue;  // a fresh instance started
            }
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
