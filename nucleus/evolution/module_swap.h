// The nucleus's side of the evolution protocol (evolution_engine.h's Environment): the
// module system, the boot bundle, the stop-the-world rendezvous, the scheduler's policy
// hook and the code scan that decides when an old image may go.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/bundle/cpio_archive.h"
#include "nucleus/evolution/evolution_engine.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/sched/code_scan.h"
#include "nucleus/sched/policy_swap.h"

namespace umka::evolution {

inline constexpr size_t kMaximumParkedImages = 4;

class ModuleSwap final : public Environment {
public:
    constexpr ModuleSwap() = default;

    // Whether the scheduler hook compares every task's policy view before and after the
    // migration inside the pause (the console's single `evolve` does; `evolve cycle`, which
    // measures the pause, does not).
    void set_state_check(sched::StateCheck check) { state_check_ = check; }

    uint64_t read_cycles() override;
    uint64_t time_microseconds() override;
    Status prepare(const EvolveRequest& request, modules::Diagnostic& diagnostic) override;
    Status validate(modules::Diagnostic& diagnostic) override;
    Status swap(SwapTiming& timing, modules::Diagnostic& diagnostic) override;
    OldImage resume() override;
    Status start_replacement(modules::Diagnostic& diagnostic) override;
    void abandon() override;
    ModuleFacts facts() override { return facts_; }
    size_t collect_parked() override;

    // For the report: what the pause did.
    bool policy_swapped() const { return policy_hook_; }
    size_t regions_transferred() const { return regions_transferred_; }
    // Ring requests that were outstanding on bindings to the swapped provider during the
    // pause: served by the new module after it.
    uint64_t ring_requests_queued() const { return ring_requests_queued_; }
    sched::CodeUse last_scan() const { return last_scan_; }
    uint32_t last_scan_task() const { return last_scan_task_; }

    // Inside the pause (called by the rendezvous on the initiating CPU).
    void run_pause();

private:
    struct Parked {
        loader::ModuleRecord* record;
        const UmkaServiceRecord* retired[modules::kMaximumProvided];
        size_t retired_count;
    };

    Status load_replacement(const bundle::Entry& entry, modules::Diagnostic& diagnostic);
    Status bind_replacement(modules::Diagnostic& diagnostic);
    void unload(loader::ModuleRecord& record, const UmkaServiceRecord* const* retired,
                size_t retired_count);
    bool try_unload(Parked& parked);

    sched::StateCheck state_check_ = sched::StateCheck::Skip;
    loader::ModuleRecord* old_ = nullptr;
    loader::ModuleRecord* new_ = nullptr;
    bool policy_hook_ = false;
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
    modules::Diagnostic* pause_diagnostic_ = nullptr;
    uint64_t transfer_cycles_ = 0;
};

}  // namespace umka::evolution
