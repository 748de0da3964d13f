#include "nucleus/evolution/module_swap.h"

#include <arch/cpu.h>

#include "nucleus/boot/timeline.h"
#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/crypto/module_signature.h"
#include "nucleus/evolution/replacement_check.h"
#include "nucleus/evolution/state_transfer.h"
#include "nucleus/lib/format.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/smp/rendezvous.h"
#include "nucleus/time/clock.h"
#include "umka/module_signing_key.h"
#include "umka/name_copy.h"

namespace umka::evolution {
namespace {

using loader::ModuleRecord;
using loader::ModuleState;

const char* name_of(const ModuleRecord& record) {
    return record.image.manifest_view.name();
}

ModuleRecord* running_module(const char* name) {
    loader::ModuleSystem& system = loader::module_system();
    for (size_t index = 0; index < system.record_count(); ++index) {
        ModuleRecord& record = system.record(index);
        if (record.state == ModuleState::Loaded && record.image_loaded &&
            __builtin_strcmp(name_of(record), name) == 0) {
            return &record;
        }
    }
    return nullptr;
}

bool hash_bundle_file(const char* file, uint8_t (&hash)[kHashSize]) {
    const bundle::Entry* entry = loader::module_system().inventory().find(file);
    if (entry == nullptr) return false;
    crypto::Sha256::hash(entry->data, entry->size, hash);
    return true;
}

// The old instance's state regions as the transfer sees them.
size_t sources_of(const ModuleRecord& record, StateSource* sources) {
    const modules::ManifestView& manifest = record.image.manifest_view;
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        modules::StateEntry state = manifest.state(index);
        const UmkaStateRegion& region = record.binding->states[index];
        sources[index] = StateSource{state.name, region.schema_version, region.base, state.size};
    }
    return manifest.state_count();
}

void free_scratch(const UmkaStateRegion* states, size_t count) {
    for (size_t index = 0; index < count; ++index) loader::free_zeroed(states[index].base);
}

void pause_entry(void* argument) {
    static_cast<ModuleSwap*>(argument)->run_pause();
}

}  // namespace

uint64_t ModuleSwap::read_cycles() {
    return arch::read_cycle_counter();
}

uint64_t ModuleSwap::time_microseconds() {
    return clock::cycles_to_microseconds(arch::read_cycle_counter() - timeline::entry_cycles());
}

Status ModuleSwap::prepare(const EvolveRequest& request, modules::Diagnostic& diagnostic) {
    old_ = new_ = nullptr;
    hook_count_ = 0;
    import_function_ = nullptr;
    retired_count_ = 0;
    regions_transferred_ = 0;
    ring_requests_queued_ = 0;
    facts_ = ModuleFacts{};
    loader::ModuleSystem& system = loader::module_system();
    if (!system.initialized() || !system.inventory().usable()) {
        return modules::refuse(diagnostic, Errno::NotFound,
                               "no module system (the bundle loaded no modules)");
    }
    old_ = running_module(request.service);
    if (old_ == nullptr) {
        return modules::refuse(diagnostic, Errno::NotFound,
                               "no running module is named '%s' (`mods` lists them)",
                               request.service);
    }
    facts_.old_version = old_->image.manifest_view.module_version();
    // The calling context may be inside the old module (the console running `evolve` of
    // itself): the swap goes ahead and resume() parks the old image, which the caller
    // leaves when its call returns (docs/evolution.md, "The console swapped from itself").
    if (hash_bundle_file(old_->file, old_hash_)) facts_.old_image_hash = old_hash_;
    if (!hash_bundle_file(request.file, new_hash_)) {
        return modules::refuse(diagnostic, Errno::NotFound, "'%s' is not a file of the boot bundle",
                               request.file);
    }
    facts_.new_image_hash = new_hash_;
    size_t parked = 0;
    for (const Parked& slot : parked_) parked += slot.record != nullptr ? 1 : 0;
    if (parked == kMaximumParkedImages) {
        return modules::refuse(
            diagnostic, Errno::Busy,
            "%zu old images are still parked (some task may run them); try later", parked);
    }
    new_ = system.take_spare_record();
    if (new_ == nullptr) {
        return modules::refuse(diagnostic, Errno::NoSpace, "no module record is free for '%s'",
                               request.file);
    }
    if (!umka::copy_name(new_->file, sizeof new_->file, request.file)) {
        // Cannot happen for names that fit the bundle check above; never cut one.
        abandon();
        return modules::refuse(diagnostic, Errno::InvalidArgument,
                               "file name '%s' is longer than %zu bytes", request.file,
                               loader::kFileNameCapacity - 1);
    }
    new_->tier = old_->tier;
    new_->transport = old_->transport;
    new_->criticality = old_->criticality;
    new_->port_base = old_->port_base;
    new_->port_count = old_->port_count;
    new_->state = ModuleState::Requested;
    // The same load-and-bind sequence as boot (modules/module_loading.h); the replacement
    // rule is checked between loading and binding, and it is bound withheld.
    modules::LoadProgress progress;
    modules::ImageRequest image_request{&system.inventory(), new_->file,
                                        crypto::kModuleSigningPublicKey};
    Result<modules::LoadedModule> image =
        modules::load_image(loader::kernel_loading(), image_request, progress, diagnostic);
    new_->file_size = progress.file_size;
    new_->verify_cycles = progress.verify_cycles;
    if (progress.step > modules::LoadStep::Signature)
        new_->signature = loader::SignatureState::Verified;
    if (image.is_error() && progress.step == modules::LoadStep::Signature)
        diagnostic.prefix("signature check of '%s' failed", new_->file);
    if (image.is_error() && progress.step == modules::LoadStep::Image)
        diagnostic.prefix("'%s'", new_->file);
    TRY(image.status());
    new_->image = image.value();
    new_->image_loaded = true;
    const modules::ManifestView& manifest = new_->image.manifest_view;
    facts_.new_version = manifest.module_version();
    TRY(check_replacement(old_->image.manifest_view, manifest, old_->binding->published,
                          system.registry(), diagnostic));
    modules::BindOptions options;
    options.owner = new_->owner;
    options.publication = modules::Publication::Withhold;
    options.predecessor = &old_->image.manifest_view;
    TRY(modules::bind_image(loader::kernel_loading(), new_->image, options, new_->binding, progress,
                            diagnostic));
    import_function_ = new_->binding->binding.import_state;
    new_->load_cycles = progress.load_cycles;
    // Services that keep state beside the module's own regions hook the pause
    // (pause_hooks.h); abandon() unwinds every hook whose prepare was called.
    for (size_t index = 0; index < manifest.provided_count(); ++index) {
        const PauseHook* hook = pause_hook_for(manifest, index);
        if (hook == nullptr || hook_count_ == kMaximumPauseHooks) continue;
        hooks_[hook_count_++] = hook;
        TRY(hook->prepare(new_->binding->provided[index], diagnostic));
    }
    return Status::ok();
}

Status ModuleSwap::validate(modules::Diagnostic& diagnostic) {
    const modules::ManifestView& manifest = new_->image.manifest_view;
    StateSource sources[modules::kMaximumBoundStates];
    size_t source_count = sources_of(*old_, sources);
    StateTarget targets[modules::kMaximumBoundStates];
    UmkaStateRegion scratch[modules::kMaximumBoundStates] = {};
    size_t count = manifest.state_count();
    Status status = Status::ok();
    for (size_t index = 0; index < count && status.is_ok(); ++index) {
        modules::StateEntry state = manifest.state(index);
        Result<void*> base = loader::allocate_zeroed(state.size);
        if (base.is_error()) {
            status = modules::refuse(diagnostic, Errno::OutOfMemory,
                                     "no scratch memory for state '%s'", state.name);
            break;
        }
        scratch[index].base = base.value();
        targets[index] = StateTarget{state.name, state.version, base.value(), state.size};
    }
    // The old state keeps changing until the pause: the dry run sees a recent copy and
    // proves the versions and the module's import accept it.
    if (status.is_ok()) {
        Result<size_t> carried =
            transfer_states(sources, source_count, targets, count, import_function_,
                            TransferMode::DryRun, manifest.name(), diagnostic);
        if (carried.is_ok()) facts_.states_carried = carried.value();
        status = carried.status();
    }
    free_scratch(scratch, count);
    TRY(status);
    for (size_t index = 0; index < hook_count_; ++index) TRY(hooks_[index]->dry_run(diagnostic));
    return Status::ok();
}

void ModuleSwap::run_pause() {
    modules::Diagnostic& diagnostic = *pause_diagnostic_;
    uint64_t start = arch::read_cycle_counter();
    const modules::ManifestView& manifest = new_->image.manifest_view;
    StateSource sources[modules::kMaximumBoundStates];
    size_t source_count = sources_of(*old_, sources);
    StateTarget targets[modules::kMaximumBoundStates];
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        const UmkaStateRegion& region = new_->binding->states[index];
        targets[index] = StateTarget{manifest.state(index).name, region.schema_version, region.base,
                                     region.size};
    }
    Result<size_t> carried =
        transfer_states(sources, source_count, targets, manifest.state_count(), import_function_,
                        TransferMode::Commit, manifest.name(), diagnostic);
    pause_status_ = carried.status();
    for (size_t index = 0; index < hook_count_ && pause_status_.is_ok(); ++index)
        pause_status_ = hooks_[index]->commit(state_check_, diagnostic);
    transfer_cycles_ = arch::read_cycle_counter() - start;
    if (pause_status_.is_error()) return;  // nothing stored: the old module serves on
    loader::ModuleSystem& system = loader::module_system();
    // The shared slots the swap stores into: ring bindings to them hand their queued
    // requests to the new code.
    const UmkaServiceSlot* swapped_slots[modules::kMaximumProvided];
    size_t swapped_slot_count = 0;
    for (UmkaServiceSlot* slot : old_->binding->published) {
        if (slot != nullptr) swapped_slots[swapped_slot_count++] = slot;
    }
    pause_status_ =
        modules::swap_provided(*old_->binding, *new_->binding, old_->image.manifest_view, manifest,
                               system.registry(), retired_, &retired_count_, diagnostic);
    if (pause_status_.is_error()) return;  // refused before its first store
    ring_requests_queued_ = loader::ring_requests_outstanding(swapped_slots, swapped_slot_count);
    for (size_t index = 0; index < hook_count_; ++index) hooks_[index]->switch_over();
    regions_transferred_ = loader::transfer_module_regions(old_->owner, new_->owner);
    old_->state = ModuleState::Replaced;
    new_->state = ModuleState::Loaded;
}

Status ModuleSwap::swap(SwapTiming& timing, modules::Diagnostic& diagnostic) {
    pause_status_ = Status::ok();
    pause_diagnostic_ = &diagnostic;
    Result<smp::RendezvousResult> held =
        smp::rendezvous(smp::RendezvousMode::HoldUntilReleased, pause_entry, this);
    if (held.is_error()) {
        return modules::refuse(diagnostic, held.error(),
                               "the CPUs did not gather for the pause (%s)",
                               errno_name(held.error()));
    }
    timing.gather_cycles = held.value().cycles_to_gather;
    timing.pause_cycles = held.value().cycles_total - held.value().cycles_to_gather;
    timing.transfer_cycles = transfer_cycles_;
    return pause_status_;
}

void ModuleSwap::unload(ModuleRecord& record, const UmkaServiceRecord* const* retired,
                        size_t retired_count) {
    loader::ModuleSystem& system = loader::module_system();
    {
        RecursiveSpinLockGuard guard(loader::capability_writer_lock());
        for (size_t index = 0; index < retired_count; ++index)
            system.registry().retire(retired[index]);
    }
    // The manifest lives in the image: read the state count before the image goes.
    modules::free_binding(loader::kernel_loading(), record.binding,
                          record.image.manifest_view.state_count());
    modules::unload_image(loader::kernel_loading(), record.image);
    record.image_loaded = false;
}

bool ModuleSwap::try_unload(Parked& parked) {
    const modules::LoadedModule& image = parked.record->image;
    uintptr_t begin = reinterpret_cast<uintptr_t>(image.base);
    sched::CodeScan scan = sched::scan_for_code(begin, begin + image.size);
    last_scan_ = scan.use;
    last_scan_task_ = scan.task;
    if (scan.use != sched::CodeUse::Unused) return false;
    unload(*parked.record, parked.retired, parked.retired_count);
    parked = Parked{};
    return true;
}

OldImage ModuleSwap::resume() {
    for (size_t index = 0; index < hook_count_; ++index) hooks_[index]->finish();
    modules::Diagnostic ignored;
    // Its bindings to other services and its capabilities go now; its code, binding block
    // and state stay until nothing can run it.
    (void)modules::unbind_instance(loader::kernel_loading(), *old_->binding, name_of(*old_),
                                   ignored);
    format(old_->reason, sizeof old_->reason, "replaced by %s, image parked", new_->file);
    Parked candidate{old_, {}, retired_count_};
    for (size_t index = 0; index < retired_count_; ++index)
        candidate.retired[index] = retired_[index];
    if (try_unload(candidate)) return OldImage::Unloaded;
    for (Parked& slot : parked_) {
        if (slot.record == nullptr) {
            slot = candidate;
            break;
        }
    }
    return OldImage::Parked;
}

Status ModuleSwap::start_replacement(modules::Diagnostic& diagnostic) {
    if (new_ == nullptr || new_->binding == nullptr) {
        return modules::refuse(diagnostic, Errno::InvalidArgument, "no committed replacement");
    }
    Status started = modules::start_module(*new_->binding, name_of(*new_), diagnostic);
    if (started.is_error()) {
        new_->start_error = started.error();
        format(new_->reason, sizeof new_->reason, "%s", diagnostic.text());
    }
    return started;
}

void ModuleSwap::abandon() {
    for (size_t index = 0; index < hook_count_; ++index) hooks_[index]->abandon();
    hook_count_ = 0;
    if (new_ == nullptr) return;
    if (new_->binding != nullptr) {
        modules::Diagnostic ignored;
        (void)modules::unbind_instance(loader::kernel_loading(), *new_->binding, new_->file,
                                       ignored);
    }
    if (new_->image_loaded) unload(*new_, nullptr, 0);
    // Reusable by the next evolution.
    new_->state = ModuleState::Replaced;
    new_ = nullptr;
}

size_t ModuleSwap::collect_parked() {
    size_t left = 0;
    for (Parked& slot : parked_) {
        if (slot.record != nullptr && !try_unload(slot)) ++left;
    }
    return left;
}

}  // namespace umka::evolution
