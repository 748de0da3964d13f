// The SchedulerGlobals state import (state_import.h). A file of its own so that the
// evolution refusal fixtures (test/module-fixtures/evolution) can build the real scheduler
// with another import function in its place.
#include "eevdf.h"
#include "policy_memory.h"
#include "schema_versions.h"
#include "state_import.h"

namespace umka::scheduler_module {

int32_t import_globals(const UmkaStateImport* import) {
    if (import == nullptr || import->state_index != kGlobals || import->old_base == nullptr ||
        import->new_base == nullptr || import->new_size < sizeof(SchedulerGlobals) ||
        import->old_size > UINT32_MAX ||
        (import->mode != UMKA_STATE_IMPORT_DRY_RUN && import->mode != UMKA_STATE_IMPORT_COMMIT)) {
        return UMKA_KABI_EINVAL;
    }
    SchedulerGlobals globals{};
    if (schema::import_scheduler_globals<kabi::NoMigrationHooks>(
            import->old_base, uint32_t(import->old_size), import->old_schema_version, &globals)
            .is_error()) {
        return UMKA_KABI_EINVAL;
    }
    bool attached = globals.run_queue_count != 0;
    if (attached != (globals.run_queues_address != 0) || attached != (globals.tasks_address != 0) ||
        attached != (globals.task_capacity != 0) || globals.run_queue_count >= eevdf::kNone ||
        globals.task_capacity > eevdf::kMaximumTaskCapacity ||
        globals.run_queues_address % alignof(RunQueueState) != 0 ||
        globals.tasks_address % alignof(TaskState) != 0) {
        return UMKA_KABI_EINVAL;
    }
    ArrayVersions old_versions = array_versions_of(globals, import->old_schema_version);
    ArrayVersions own = own_array_versions();
    if (!attached || old_versions.run_queue != own.run_queue || old_versions.task != own.task) {
        // Arrays in other layouts (or none): this module must not read them as its own.
        globals.run_queues_address = 0;
        globals.tasks_address = 0;
        globals.run_queue_count = 0;
        globals.task_capacity = 0;
        record_array_versions(globals, ArrayVersions{});
    } else {
        record_array_versions(globals, own);
    }
    __builtin_memcpy(import->new_base, &globals, sizeof(globals));
    return UMKA_KABI_OK;
}

}  // namespace umka::scheduler_module
