// The nucleus's side of the evolution protocol (evolution_engine.h's Environment): the
// module system, the boot bundle, the one load-and-bind sequence (module_loading.h), the
// stop-the-world rendezvous, the pause hooks services registered (pause_hooks.h) and the
// code scan that decides when an old image may go.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/bundle/cpio_archive.h"
#include "nucleus/evolution/evolution_engine.h"
#include "nucleus/evolution/pause_hooks.h"
#include "nucleus/evolution/state_snapshot.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/code_scan.h"

namespace umka::evolution {

inline constexpr size_t kMaximumParkedImages = 4;

class ModuleSwap final : public Environment {
public:
    constexpr ModuleSwap() = default;

    // Whether pause hooks compare every item they migrate before and after the commit
    // (the console's single `evolve` does; `evolve cycle`, which measures the pause, not).
    void set_state_check(StateCheck check) { state_check_ = check; }

    uint64_t read_cycles() override;
    uint64_t time_microseconds() override;
    Status prepare(const EvolveRequest& request, modules::Diagnostic& diagnostic) override;
    Status validate(modules::Diagnostic& diagnostic) override;
    Status swap(SwapTiming& timing, modules::Diagnostic& diagnostic) override;
    OldImage resume() override;
    Status start_replacement(modules::Diagnostic& diagnostic, uint64_t& crash_sequence) override;
    void abandon() override;
    ModuleFacts facts() override { return facts_; }
    size_t collect_parked() override;

    // For the report: what the pause did.
    // Whether a service's pause hook (pause_hooks.h) took part, e.g. the scheduler's
    // run queues; `policy_swapped` is the older name the console commands use.
    bool hooks_ran() const { return hook_count_ > 0; }
    // The first hook's facts (one service per interface keeps a hook; a module that
    // provides two such interfaces reports the first).
    PauseHookFacts hook_facts() const {
        return hook_count_ > 0 && hooks_[0]->facts != nullptr ? hooks_[0]->facts()
                                                              : PauseHookFacts{};
    }
    size_t regions_transferred() const { return regions_transferred_; }
    // Whether the pause only committed the state built in Validate or had to rebuild some.
    PauseWork pause_work() const { return pause_work_; }
    // Ring requests that were outstanding on bindings to the swapped provider during the
    // pause: served by the new module after it.
    uint64_t ring_requests_queued() const { return ring_requests_queued_; }
    sched::CodeUse last_scan() const { return last_scan_; }
    uint32_t last_scan_task() const { return last_scan_task_; }

    // Inside the pause (called by the rendezvous on the initiating CPU).
    void run_pause();
    // One gathering of the CPUs and one pause; swap() repeats it while a caller is inside
    // the old image (caller_inside_).
    Status pause_once(SwapTiming& timing, modules::Diagnostic& diagnostic);

private:
    struct Parked {
        loader::ModuleRecord* record;
        const UmkaServiceRecord* retired[modules::kMaximumProvided];
        size_t retired_count;
    };

    void unload(loader::ModuleRecord& record, const UmkaServiceRecord* const* retired,
                size_t retired_count);
    bool try_unload(Parked& parked);
    void free_snapshots();
    Status allocate_prescan(modules::Diagnostic& diagnostic);
    void start_fresh(const modules::Diagnostic& refusal);
    // The replacement refused the old state and starts with zero-filled regions
    // (SwapCause::CrashRestart): nothing is compared or imported before or in the pause.
    bool starts_fresh() const { return facts_.state_start == StateStart::Fresh; }
    Status refresh_prebuilt(modules::Diagnostic& diagnostic);

    StateCheck state_check_ = StateCheck::Skip;
    SwapCause cause_ = SwapCause::Evolve;
    loader::ModuleRecord* old_ = nullptr;
    loader::ModuleRecord* new_ = nullptr;
    const PauseHook* hooks_[kMaximumPauseHooks] = {};
    size_t hook_count_ = 0;
    UmkaStateImportFunction import_function_ = nullptr;
    uint8_t old_hash_[kHashSize] = {};
    uint8_t new_hash_[kHashSize] = {};
    ModuleFacts facts_{};
    const UmkaServiceRecord* retired_[modules::kMaximumProvided] = {};
    size_t retired_count_ = 0;
    size_t regions_transferred_ = 0;
    uint64_t ring_requests_queued_ = 0;
    sched::CodeUse last_scan_ = sched::CodeUse::Unused;
    uint32_t last_scan_task_ = 0;
    Parked parked_[kMaximumParkedImages] = {};
    // The pause's result and timing, written on the initiating CPU inside the rendezvous.
    Status pause_status_ = Status::ok();
    bool caller_inside_ = false;
    uint32_t caller_task_ = 0;
    // A pause that finds a caller inside the old image is tried again after kPauseRetryNs,
    // at most kPauseAttempts times in all (up to half a minute under TCG, gathering included).
    static constexpr uint32_t kPauseAttempts = 5000;
    static constexpr uint64_t kPauseRetryNs = 2'000'000;
    modules::Diagnostic* pause_diagnostic_ = nullptr;
    uint64_t transfer_cycles_ = 0;
    // The code scan of the saved stacks right before the pause (sched::prescan_saved), so
    // that the pause walks only the running contexts and what ran since.
    sched::PrescanMarks prescan_{nullptr, 0};
    SinceRefresh since_refresh_ = SinceRefresh::MayHaveChanged;
    PauseWork pause_work_ = PauseWork::CommitOnly;
    // Validate's copies of the old state regions, from which the new ones were built.
    void* snapshots_[modules::kMaximumBoundStates] = {};
    StateSource snapshot_sources_[modules::kMaximumBoundStates] = {};
    size_t snapshot_count_ = 0;
    // The service slot stores, checked and their records taken in Validate.
    modules::ProvidedSwap provided_swap_{};
};

}  // namespace umka::evolution
