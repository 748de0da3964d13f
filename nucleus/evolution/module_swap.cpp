#include "nucleus/evolution/module_swap.h"

#include <arch/cpu.h>

#include "nucleus/boot/timeline.h"
#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/crypto/module_signature.h"
#include "nucleus/evolution/replacement_check.h"
#include "nucleus/evolution/state_transfer.h"
#include "nucleus/lib/format.h"
#include "nucleus/loader/nucleus_services.h"
#include "nucleus/loader/ring_bindings.h"
#include "nucleus/smp/rendezvous.h"
#include "nucleus/time/clock.h"
#include "umka/module_signing_key.h"

namespace umka::evolution {
namespace {

using loader::ModuleRecord;
using loader::ModuleState;

constexpr char kPolicyPackage[] = "scheduler_policy";
constexpr char kPolicyInterface[] = "SchedulerPolicy";

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

bool hash_bundle_file(const char* file, uint8_t (&hash)[kHashSize], bundle::Entry& entry) {
    loader::ModuleSystem& system = loader::module_system();
    if (!bundle::find_entry(system.bundle(), system.bundle_size(), file, entry)) return false;
    crypto::Sha256::hash(entry.data, entry.size, hash);
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

void free_states(const UmkaStateRegion* states, size_t count) {
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

Status ModuleSwap::load_replacement(const bundle::Entry& entry, modules::Diagnostic& diagnostic) {
    crypto::SignedModuleView signed_module{};
    const char* reason = nullptr;
    Status status = crypto::split_signed_module(entry.data, entry.size, signed_module, &reason);
    if (status.is_ok()) {
        status = crypto::verify_module_signature(signed_module, crypto::kModuleSigningPublicKey,
                                                 &reason);
    }
    if (status.is_error()) {
        return modules::refuse(diagnostic, status.error(), "signature check of '%s' failed: %s",
                               new_->file, reason != nullptr ? reason : errno_name(status.error()));
    }
    new_->signature = loader::SignatureState::Verified;
    Result<modules::LoadedModule> image = modules::load_module(
        signed_module.image, signed_module.image_size, loader::kernel_module_memory(), diagnostic);
    if (image.is_error()) {
        diagnostic.prefix("'%s'", new_->file);
        return image.error();
    }
    new_->image = image.value();
    new_->image_loaded = true;
    return Status::ok();
}

Status ModuleSwap::bind_replacement(modules::Diagnostic& diagnostic) {
    const modules::ManifestView& manifest = new_->image.manifest_view;
    const modules::ManifestView& running = old_->image.manifest_view;
    UmkaStateRegion states[modules::kMaximumBoundStates] = {};
    size_t state_count = manifest.state_count();
    if (state_count > modules::kMaximumBoundStates) {
        return modules::refuse(diagnostic, Errno::NoSpace,
                               "'%s' has %zu state regions (at most %zu)", new_->file, state_count,
                               modules::kMaximumBoundStates);
    }
    for (size_t index = 0; index < state_count; ++index) {
        modules::StateEntry state = manifest.state(index);
        bool carried = false;
        for (size_t old_index = 0; old_index < running.state_count(); ++old_index) {
            carried = carried || __builtin_strcmp(running.state(old_index).name, state.name) == 0;
        }
        Result<void*> base = loader::allocate_zeroed(state.size);
        if (base.is_error()) {
            free_states(states, index);
            return modules::refuse(diagnostic, Errno::OutOfMemory,
                                   "no memory for state '%s' of '%s'", state.name, new_->file);
        }
        // Carried regions get their content at the commit; the entry point sees them
        // zero-filled and marked carried, so it knows not to set up a fresh state.
        states[index] =
            UmkaStateRegion{base.value(), state.size, state.version,
                            carried ? UMKA_STATE_ORIGIN_CARRIED : UMKA_STATE_ORIGIN_FRESH};
    }
    Result<void*> block = loader::allocate_zeroed(sizeof(modules::ModuleBindingBlock));
    if (block.is_error()) {
        free_states(states, state_count);
        return modules::refuse(diagnostic, Errno::OutOfMemory, "no memory for the binding of '%s'",
                               new_->file);
    }
    new_->binding = static_cast<modules::ModuleBindingBlock*>(block.value());
    modules::BindRequest request{&new_->image, nullptr,     states,
                                 state_count,  new_->owner, modules::Publication::Withhold};
    loader::ModuleSystem& system = loader::module_system();
    Status bound = Status::ok();
    {
        RecursiveSpinLockGuard guard(loader::capability_writer_lock());
        bound = modules::bind_module(request, *new_->binding, system.registry(),
                                     system.capabilities(), diagnostic);
    }
    if (bound.is_error()) {
        free_states(states, state_count);
        loader::free_zeroed(new_->binding);
        new_->binding = nullptr;
        return bound;
    }
    import_function_ = new_->binding->binding.import_state;
    return Status::ok();
}

Status ModuleSwap::prepare(const EvolveRequest& request, modules::Diagnostic& diagnostic) {
    old_ = new_ = nullptr;
    policy_hook_ = false;
    import_function_ = nullptr;
    retired_count_ = 0;
    regions_transferred_ = 0;
    ring_requests_queued_ = 0;
    facts_ = ModuleFacts{};
    loader::ModuleSystem& system = loader::module_system();
    if (!system.initialized() || system.bundle() == nullptr) {
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
    bundle::Entry old_entry{};
    if (hash_bundle_file(old_->file, old_hash_, old_entry)) facts_.old_image_hash = old_hash_;
    bundle::Entry entry{};
    if (!hash_bundle_file(request.file, new_hash_, entry)) {
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
    format(new_->file, sizeof new_->file, "%s", request.file);
    new_->tier = old_->tier;
    new_->transport = old_->transport;
    new_->criticality = old_->criticality;
    new_->port_base = old_->port_base;
    new_->port_count = old_->port_count;
    new_->file_size = entry.size;
    new_->state = ModuleState::Requested;
    uint64_t start = arch::read_cycle_counter();
    TRY(load_replacement(entry, diagnostic));
    new_->verify_cycles = arch::read_cycle_counter() - start;
    const modules::ManifestView& manifest = new_->image.manifest_view;
    facts_.new_version = manifest.module_version();
    TRY(check_replacement(old_->image.manifest_view, manifest, old_->binding->published,
                          system.registry(), diagnostic));
    TRY(bind_replacement(diagnostic));
    new_->load_cycles = arch::read_cycle_counter() - start;
    size_t policy_index = manifest.find_provided(kPolicyPackage, kPolicyInterface);
    if (policy_index != modules::ManifestView::kNotFound) {
        policy_hook_ = true;
        TRY(sched::policy_swap_prepare(new_->binding->provided[policy_index], diagnostic));
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
    free_states(scratch, count);
    TRY(status);
    if (policy_hook_) TRY(sched::policy_swap_dry_run(diagnostic));
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
    if (pause_status_.is_ok() && policy_hook_)
        pause_status_ = sched::policy_swap_commit(state_check_, diagnostic);
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
    if (policy_hook_) sched::policy_swap_switch();
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
    if (record.binding != nullptr) {
        free_states(record.binding->states, record.image.manifest_view.state_count());
        loader::free_zeroed(record.binding);
        record.binding = nullptr;
    }
    modules::unload_module(record.image, loader::kernel_module_memory());
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
    if (policy_hook_) sched::policy_swap_finish();
    loader::ModuleSystem& system = loader::module_system();
    modules::Diagnostic ignored;
    // Its bindings to other services and its capabilities go now; its code, binding block
    // and state stay until nothing can run it.
    {
        RecursiveSpinLockGuard guard(loader::capability_writer_lock());
        (void)modules::unbind_module(*old_->binding, name_of(*old_), system.registry(),
                                     system.capabilities(), ignored);
    }
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
    if (policy_hook_) sched::policy_swap_abandon();
    policy_hook_ = false;
    if (new_ == nullptr) return;
    loader::ModuleSystem& system = loader::module_system();
    if (new_->binding != nullptr) {
        modules::Diagnostic ignored;
        RecursiveSpinLockGuard guard(loader::capability_writer_lock());
        (void)modules::unbind_module(*new_->binding, new_->file, system.registry(),
                                     system.capabilities(), ignored);
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
