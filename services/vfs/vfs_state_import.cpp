// The VFS's state import (vfs_versions.h). Descriptors, offsets and mounts are VfsState and
// are carried as they are; the name cache is a ModuleMemory region that moves with the swap.
#include "vfs_versions.h"

namespace umka::vfs {
namespace {
// The versions only append counters that start at 0: no migration step to hook.
struct NoMigration {};
}  // namespace

int32_t import_vfs_state(const UmkaStateImport* import) {
    namespace schema = kabi::vfs_service;
    if (import == nullptr || import->state_index != 0 || import->old_base == nullptr ||
        import->new_base == nullptr || import->new_size < sizeof(schema::VfsState) ||
        import->old_size > UINT32_MAX ||
        (import->mode != UMKA_STATE_IMPORT_DRY_RUN && import->mode != UMKA_STATE_IMPORT_COMMIT)) {
        return UMKA_KABI_EINVAL;
    }
    // VfsState is large (descriptors and mounts): built in place, not on the stack.
    auto* state = static_cast<schema::VfsState*>(import->new_base);
    if (schema::import_vfs_state<NoMigration>(import->old_base, uint32_t(import->old_size),
                                              import->old_schema_version, state)
            .is_error()) {
        return UMKA_KABI_EINVAL;
    }
    // The snapshot built before the pause may catch a call holding the lock; the nucleus
    // commits only when no caller is inside the old code (sched::scan_paused).
    state->lock = 0;
    return UMKA_KABI_OK;
}

}  // namespace umka::vfs
