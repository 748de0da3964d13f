#include "nucleus/evolution/module_swap.h"

#include <arch/cpu.h>

#include "nucleus/boot/timeline.h"
#include "nucleus/bundle/bundle_inventory.h"
#include "nucleus/containment/containment.h"
#include "nucleus/crypto/module_signature.h"
#include "nucleus/evolution/replacement_check.h"
#include "nucleus/evolution/state_transfer.h"
#include "nucleus/interrupts/device_interrupts.h"
#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/published/owned_frames.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/smp/cpu_table.h"
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

// The new instance's state regions (bound in Prepare, withheld until the pause).
size_t targets_of(const ModuleRecord& record, StateTarget* targets) {
    const modules::ManifestView& manifest = record.image.manifest_view;
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        const UmkaStateRegion& region = record.binding->states[index];
        targets[index] = StateTarget{manifest.state(index).name, region.schema_version, region.base,
                                     region.size};
    }
    return manifest.state_count();
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
    cause_ = request.cause;
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
    new_->configuration_space = old_->configuration_space;
    // Its grants: the replacement takes over the same line, and the devices bound to its
    // predecessor (transfer_device_bindings); its own manifest's matches bind devices
    // published from then on.
    new_->legacy_irq = old_->legacy_irq;
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

// The new state regions are built here, outside the pause, from a copy of the old ones
// (state_snapshot.h); the pause compares the old regions with the copy and imports again
// only what changed. The module's import (and any refusal) runs here, on the real regions
// the new module will use: they are withheld until the pause stores the service slots.
Status ModuleSwap::validate(modules::Diagnostic& diagnostic) {
    const modules::ManifestView& manifest = new_->image.manifest_view;
    StateSource sources[modules::kMaximumBoundStates];
    size_t source_count = sources_of(*old_, sources);
    free_snapshots();
    for (size_t index = 0; index < source_count; ++index) {
        Result<void*> copy = loader::allocate_zeroed(sources[index].size);
        if (copy.is_error()) {
            return modules::refuse(diagnostic, Errno::OutOfMemory,
                                   "no memory for a copy of state '%s'", sources[index].name);
        }
        snapshots_[snapshot_count_++] = copy.value();
    }
    take_snapshots(sources, source_count, snapshots_, snapshot_sources_);
    TRY(allocate_prescan(diagnostic));
    StateTarget targets[modules::kMaximumBoundStates];
    size_t count = targets_of(*new_, targets);
    Result<size_t> carried =
        transfer_states(snapshot_sources_, source_count, targets, count, import_function_,
                        TransferMode::Prebuild, cause_, manifest.name(), diagnostic);
    if (carried.is_error() && cause_ == SwapCause::CrashRestart && hook_count_ == 0) {
        start_fresh(diagnostic);
        diagnostic.clear();
    } else {
        TRY(carried.status());
        facts_.states_carried = carried.value();
    }
    for (size_t index = 0; index < hook_count_; ++index) TRY(hooks_[index]->dry_run(diagnostic));
    RecursiveSpinLockGuard guard(loader::capability_writer_lock());
    return modules::plan_swap_provided(*old_->binding, *new_->binding, old_->image.manifest_view,
                                       manifest, loader::module_system().registry(), provided_swap_,
                                       diagnostic);
}

void ModuleSwap::run_pause() {
    modules::Diagnostic& diagnostic = *pause_diagnostic_;
    uint64_t start = arch::read_cycle_counter();
    // A caller half way through a call into the old image would finish it on the old state
    // after the new instance took a copy: its update would be lost (or a lock it holds
    // copied as held). Such a pause stores nothing; swap() tries again.
    const modules::LoadedModule& image = old_->image;
    uintptr_t begin = reinterpret_cast<uintptr_t>(image.base);
    sched::CodeScan callers = sched::scan_paused(begin, begin + image.size, old_->owner, &prescan_);
    if (callers.use != sched::CodeUse::Unused) {
        caller_inside_ = true;
        caller_task_ = callers.task;
        pause_status_ = Errno::Busy;
        transfer_cycles_ = arch::read_cycle_counter() - start;
        return;
    }
    const modules::ManifestView& manifest = new_->image.manifest_view;
    StateSource sources[modules::kMaximumBoundStates];
    size_t source_count = sources_of(*old_, sources);
    pause_work_ = PauseWork::CommitOnly;
    pause_status_ = Status::ok();
    if (!starts_fresh() && since_refresh_ == SinceRefresh::MayHaveChanged &&
        !snapshots_current(sources, snapshot_sources_, source_count)) {
        // Some old region changed after Validate copied it: import the final bytes.
        pause_work_ = PauseWork::Rebuilt;
        StateTarget targets[modules::kMaximumBoundStates];
        size_t count = targets_of(*new_, targets);
        pause_status_ = transfer_states(sources, source_count, targets, count, import_function_,
                                        TransferMode::Commit, cause_, manifest.name(), diagnostic)
                            .status();
    }
    PauseWork regions = pause_work_;
    for (size_t index = 0; index < hook_count_ && pause_status_.is_ok(); ++index) {
        pause_status_ = hooks_[index]->commit(state_check_, regions, since_refresh_, diagnostic);
        if (hooks_[index]->facts != nullptr && hooks_[index]->facts().work == PauseWork::Rebuilt)
            pause_work_ = PauseWork::Rebuilt;
    }
    transfer_cycles_ = arch::read_cycle_counter() - start;
    if (pause_status_.is_error()) return;  // nothing stored: the old module serves on
    // Checked and its records taken in Validate (plan_swap_provided): only the stores here.
    pause_status_ = modules::apply_swap_provided(*old_->binding, *new_->binding,
                                                 loader::module_system().registry(), provided_swap_,
                                                 retired_, &retired_count_, diagnostic);
    if (pause_status_.is_error()) return;  // refused before its first store
    for (size_t index = 0; index < hook_count_; ++index) hooks_[index]->switch_over();
    // The old instance's memory regions become the new one's at once through this store;
    // resume() moves them in the capability table, outside the pause.
    __atomic_store_n(&new_->inherited_owner, old_->owner, __ATOMIC_RELEASE);
    old_->state = ModuleState::Replaced;
    new_->state = ModuleState::Loaded;
}

// Right before the pause, with interrupts off on this CPU until the rendezvous holds every
// CPU: state that changed since Validate is snapshotted and built again here, outside the
// pause. With one CPU nothing can change it after this; with more, the other CPUs may
// still change it until they stop, and the pause compares once more.
Status ModuleSwap::refresh_prebuilt(modules::Diagnostic& diagnostic) {
    StateSource sources[modules::kMaximumBoundStates];
    size_t source_count = sources_of(*old_, sources);
    PauseWork regions = PauseWork::CommitOnly;
    if (!starts_fresh() && !snapshots_current(sources, snapshot_sources_, source_count)) {
        regions = PauseWork::Rebuilt;
        take_snapshots(sources, source_count, snapshots_, snapshot_sources_);
        StateTarget targets[modules::kMaximumBoundStates];
        size_t count = targets_of(*new_, targets);
        TRY(transfer_states(snapshot_sources_, source_count, targets, count, import_function_,
                            TransferMode::Prebuild, cause_, new_->image.manifest_view.name(),
                            diagnostic)
                .status());
    }
    for (size_t index = 0; index < hook_count_; ++index)
        TRY(hooks_[index]->refresh(regions, diagnostic));
    return Status::ok();
}

Status ModuleSwap::swap(SwapTiming& timing, modules::Diagnostic& diagnostic) {
    for (uint32_t attempt = 1;; ++attempt) {
        Status paused = pause_once(timing, diagnostic);
        if (!caller_inside_) {
            if (attempt > 1) {
                log("evolve: %u pause(s) found a call in flight inside '%s' (last: task %u); "
                    "pause %u found none\n",
                    attempt - 1, name_of(*old_), caller_task_, attempt);
            }
            return paused;
        }
        if (attempt == kPauseAttempts) {
            return modules::refuse(diagnostic, Errno::Busy,
                                   "a call into '%s' was in flight at each of %u pauses (task %u "
                                   "inside its code); nothing changed",
                                   name_of(*old_), attempt, caller_task_);
        }
        sched::sleep_ns(kPauseRetryNs);  // let the call return
    }
}

Status ModuleSwap::pause_once(SwapTiming& timing, modules::Diagnostic& diagnostic) {
    pause_status_ = Status::ok();
    caller_inside_ = false;
    pause_diagnostic_ = &diagnostic;
    arch::InterruptState interrupts = arch::save_and_disable_interrupts();
    if (Status refreshed = refresh_prebuilt(diagnostic); refreshed.is_error()) {
        arch::restore_interrupts(interrupts);
        return refreshed;
    }
    // Outside the pause, like the refresh: walk the saved stacks now; the pause walks only
    // the held CPUs' contexts and the tasks that ran in between.
    const modules::LoadedModule& image = old_->image;
    uintptr_t begin = reinterpret_cast<uintptr_t>(image.base);
    (void)sched::prescan_saved(begin, begin + image.size, old_->owner, prescan_);
    // With one CPU online and this one's interrupts off since the refresh, nothing can
    // write the old state before the pause: the refresh's comparison is the pause's.
    since_refresh_ =
        cpu_table().online_count() == 1 ? SinceRefresh::Unchanged : SinceRefresh::MayHaveChanged;
    Result<smp::RendezvousResult> held =
        smp::rendezvous(smp::RendezvousMode::HoldUntilReleased, pause_entry, this);
    arch::restore_interrupts(interrupts);
    if (held.is_error()) {
        return modules::refuse(diagnostic, held.error(),
                               "the CPUs did not gather for the pause (%s)",
                               errno_name(held.error()));
    }
    if (pause_status_.is_ok()) {
        // Requests outstanding as the CPUs resume: every one is served by the new module
        // (a provider thread loads the slot per request). Counted here, not in the pause.
        const UmkaServiceSlot* slots[modules::kMaximumProvided];
        size_t slot_count = 0;
        for (UmkaServiceSlot* slot : new_->binding->published) {
            if (slot != nullptr) slots[slot_count++] = slot;
        }
        ring_requests_queued_ = loader::ring_requests_outstanding(slots, slot_count);
    }
    timing.gather_cycles = held.value().cycles_to_gather;
    timing.pause_cycles = held.value().cycles_total - held.value().cycles_to_gather;
    timing.transfer_cycles = transfer_cycles_;
    timing.work = pause_work_;
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
    free_snapshots();
    {
        RecursiveSpinLockGuard guard(loader::capability_writer_lock());
        regions_transferred_ = loader::transfer_module_regions(old_->owner, new_->owner);
        (void)loader::transfer_device_bindings(old_->owner, new_->owner);
        (void)interrupts::transfer(old_->owner, new_->owner);
    }
    // Outside the capability lock (the queue table has its own). Handles keep their slots, so
    // a thread already waiting stays queued; only who may use the queue from now on changes.
    (void)loader::transfer_wait_queues(old_->owner, new_->owner);
    // Its threads go on running whatever code they are in; joining them is the new one's.
    (void)sched::transfer_threads(old_->owner, new_->owner);
    __atomic_store_n(&new_->inherited_owner, 0u, __ATOMIC_RELEASE);
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

Status ModuleSwap::start_replacement(modules::Diagnostic& diagnostic, uint64_t& crash_sequence) {
    if (new_ == nullptr || new_->binding == nullptr) {
        return modules::refuse(diagnostic, Errno::InvalidArgument, "no committed replacement");
    }
    // Committed: from the next guarded call on, the new manifest's watchdog limit applies.
    containment::set_watchdog_limit(name_of(*new_), new_->image.manifest_view.watchdog_ms());
    Status started = containment::guarded_start(*new_, diagnostic, crash_sequence);
    if (started.is_error()) {
        new_->start_error = started.error();
        format(new_->reason, sizeof new_->reason, "%s", diagnostic.text());
    }
    return started;
}

void ModuleSwap::free_snapshots() {
    for (size_t index = 0; index < snapshot_count_; ++index) {
        loader::free_zeroed(snapshots_[index]);
        snapshots_[index] = nullptr;
    }
    snapshot_count_ = 0;
    if (prescan_.runs != nullptr) loader::free_zeroed(prescan_.runs);
    prescan_ = sched::PrescanMarks{nullptr, 0};
}

// The replacement's regions as at a first load (zero-filled, origin FRESH, the manifest's
// schema versions): its start sees no predecessor. The old state stays with the old image
// until it is unloaded, unread.
void ModuleSwap::start_fresh(const modules::Diagnostic& refusal) {
    const modules::ManifestView& manifest = new_->image.manifest_view;
    for (size_t index = 0; index < manifest.state_count(); ++index) {
        UmkaStateRegion& region = new_->binding->states[index];
        __builtin_memset(region.base, 0, region.size);
        region.schema_version = manifest.state(index).version;
        region.origin = UMKA_STATE_ORIGIN_FRESH;
    }
    facts_.states_carried = 0;
    facts_.state_start = StateStart::Fresh;
    log("evolve: '%s' refused the state it was to carry over (%s); it starts with fresh state\n",
        manifest.name(), refusal.text());
}

Status ModuleSwap::allocate_prescan(modules::Diagnostic& diagnostic) {
    // Slots added after this are walked in the pause (not marked).
    uint32_t capacity = sched::task_slot_capacity();
    Result<void*> runs = loader::allocate_zeroed(uint64_t(capacity) * sizeof(uint64_t));
    if (runs.is_error()) {
        return modules::refuse(diagnostic, Errno::OutOfMemory,
                               "no memory for the code scan's marks (%u task slots)", capacity);
    }
    prescan_ = sched::PrescanMarks{static_cast<uint64_t*>(runs.value()), capacity};
    return Status::ok();
}

void ModuleSwap::abandon() {
    free_snapshots();
    if (provided_swap_.count > 0) {
        RecursiveSpinLockGuard guard(loader::capability_writer_lock());
        modules::cancel_swap_provided(loader::module_system().registry(), provided_swap_);
    }
    for (size_t index = 0; index < hook_count_; ++index) hooks_[index]->abandon();
    hook_count_ = 0;
    if (new_ == nullptr) return;
    if (new_->binding != nullptr) {
        // What the abandoned instance allocated while it was prepared goes with it.
        (void)loader::release_module_regions(new_->owner);
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
