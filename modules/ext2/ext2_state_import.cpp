// The ext2 module's state import (ext2_versions.h). The volumes themselves are ModuleMemory
// regions, which move to the successor with the swap; the state only records where they are.
#include "ext2_versions.h"

namespace umka::ext2 {

namespace {
// Version 2 appends a counter that starts at 0: no migration step to hook.
struct NoMigration {};
}  // namespace

int32_t import_ext2_state(const UmkaStateImport* import) {
    namespace schema = kabi::ext2;
    if (import == nullptr || import->state_index != 0 || import->old_base == nullptr ||
        import->new_base == nullptr || import->new_size < sizeof(schema::Ext2State) ||
        import->old_size > UINT32_MAX ||
        (import->mode != UMKA_STATE_IMPORT_DRY_RUN && import->mode != UMKA_STATE_IMPORT_COMMIT)) {
        return UMKA_KABI_EINVAL;
    }
    schema::Ext2State state{};
    if (schema::import_ext2_state<NoMigration>(import->old_base, uint32_t(import->old_size),
                                               import->old_schema_version, &state)
            .is_error()) {
        return UMKA_KABI_EINVAL;
    }
    // The snapshot built before the pause may catch a call holding the lock; the nucleus
    // commits only when no caller is inside the old code (sched::scan_paused), so nobody
    // holds it then, and the successor starts with it free.
    state.lock = 0;
    __builtin_memcpy(import->new_base, &state, sizeof(state));
    return UMKA_KABI_OK;
}

}  // namespace umka::ext2
