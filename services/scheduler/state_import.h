// How a scheduler module takes over from its predecessor in a live swap (README.md,
// "Versions"): the SchedulerGlobals state region through the module's state import
// function, the per-CPU and per-task arrays through SchedulerPolicy.import_states.
#pragma once

#include <stdint.h>

#include "umka/kabi/kabi_base.h"
#include "umka/module_entry.h"

namespace umka::scheduler_module {

// SchedulerPolicy.import_states: every element of the predecessor's arrays, saved in the
// versions named, imported into the freshly attached ones. Versions 1 up to this module's
// are migrated by kabi-gen's importers (and MigrationHooks); a newer version keeps the
// prefix this module knows, its element size taken from the array (it must have as many
// slots as the attached one). The result must pass check_consistency.
kabi::Status import_states(void* context, const void* old_run_queues,
                           uint64_t old_run_queues_length, uint32_t old_run_queue_version,
                           const void* old_tasks, uint64_t old_tasks_length,
                           uint32_t old_task_version);

// The module's UmkaStateImportFunction (registered in umka_module_entry). Imports the
// predecessor's SchedulerGlobals; the attachment is kept only when the predecessor's
// arrays have this module's schema versions (then they are used as they are), otherwise
// it is dropped and the nucleus attaches fresh arrays and calls import_states. Pure: no
// log, no service call. EINVAL for bytes that are no SchedulerGlobals of the claimed
// version, or an attachment that cannot be real.
int32_t import_globals(const UmkaStateImport* import);

}  // namespace umka::scheduler_module
