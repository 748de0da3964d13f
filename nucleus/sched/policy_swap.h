// Replacing the scheduler policy module live (services/scheduler/README.md §3, "new
// layout"): the scheduler's pause hook (evolution/pause_hooks.h) for
// scheduler_policy.SchedulerPolicy, registered by sched::initialize.
//
//   prepare  — bind a Ref to the withheld replacement, read its layout, allocate its arrays
//              (and the snapshot copies): all allocation happens here
//   dry_run  — validate: snapshot the live arrays under every run-queue lock, attach the
//              replacement's arrays and import the snapshot into them (the policy's
//              consistency check runs here): the module may refuse
//   refresh  — right before the pause, interrupts off on the initiating CPU: if the live
//              arrays changed since the snapshot (or the replacement's state regions were
//              imported again, undoing the attach), snapshot and import again, so the
//              pause is likely to find them current
//   commit   — inside the stop-the-world pause: if the live arrays still equal the
//              snapshot, the pre-built arrays stand and nothing is imported; otherwise
//              attach again and import the live arrays. Optionally compare every task's and
//              queue's view old against new
//   switch   — still inside the pause, after the service slot was swapped: the nucleus's
//              policy Ref now leads to the replacement (cannot fail)
//   finish   — after the pause: free the old arrays (no policy call can still use them:
//              every policy call runs with interrupts off, so none spans the pause)
//   abandon  — a refused swap: free what prepare allocated; the old policy never changed
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/evolution/pause_hooks.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "umka/module_entry.h"

namespace umka::sched {

using StateCheck = evolution::StateCheck;
using PauseWork = evolution::PauseWork;
using SinceRefresh = evolution::SinceRefresh;

struct PolicySwapFacts {
    uint32_t tasks_compared;  // tasks whose policy view matched before and after
    uint32_t queues_compared;
    uint32_t old_task_version;
    uint32_t new_task_version;
    uint64_t check_cycles;
    PauseWork work;  // whether the pause had to import the live arrays again
};

Status policy_swap_prepare(const UmkaProvidedInterface& replacement,
                           modules::Diagnostic& diagnostic);
Status policy_swap_dry_run(modules::Diagnostic& diagnostic);
// Every other CPU stopped, interrupts off. On an error the old policy still decides.
// `regions`: whether the replacement's own state regions were imported again since the
// last attach (Rebuilt: attach again).
Status policy_swap_refresh(PauseWork regions, modules::Diagnostic& diagnostic);
Status policy_swap_commit(StateCheck check, PauseWork regions, SinceRefresh since,
                          modules::Diagnostic& diagnostic);
void policy_swap_switch();
void policy_swap_finish();
void policy_swap_abandon();
PolicySwapFacts policy_swap_facts();

// Registers the functions above as the pause hook of scheduler_policy.SchedulerPolicy.
Status register_policy_swap_hook();

}  // namespace umka::sched
