// The VFS's state import (vfs_versions.h). Descriptions, offsets, tables and mounts are
// VfsState and are carried as they are; the name cache is a ModuleMemory region that moves
// with the swap.
#include "vfs_versions.h"

namespace umka::vfs {
namespace {

namespace schema = kabi::vfs_service;

struct Migration {
    // Version 3 had one descriptor table, its descriptor n being description n: that table
    // becomes the console's (table 0), every number kept, its working directory the root.
    static int32_t migrate_vfs_state_from_v3(const schema::VfsStateV3& old_state,
                                             schema::VfsStateV4& new_state) {
        __builtin_memcpy(&new_state, &old_state, sizeof old_state);
        auto& console = new_state.tables[0];
        console.in_use = 1;
        static_assert(sizeof old_state.descriptors / sizeof old_state.descriptors[0] <=
                      sizeof console.descriptions);
        for (uint32_t number = 0;
             number < sizeof old_state.descriptors / sizeof old_state.descriptors[0]; ++number) {
            if (old_state.descriptors[number].in_use == 0) continue;
            new_state.descriptors[number].in_use = 1;
            console.descriptions[number] = uint8_t(number + 1);
        }
        return UMKA_KABI_OK;
    }
};

}  // namespace

int32_t import_vfs_state(const UmkaStateImport* import) {
    if (import == nullptr || import->state_index != 0 || import->old_base == nullptr ||
        import->new_base == nullptr || import->new_size < sizeof(schema::VfsState) ||
        import->old_size > UINT32_MAX ||
        (import->mode != UMKA_STATE_IMPORT_DRY_RUN && import->mode != UMKA_STATE_IMPORT_COMMIT)) {
        return UMKA_KABI_EINVAL;
    }
    // VfsState is large (descriptors and mounts): built in place, not on the stack.
    auto* state = static_cast<schema::VfsState*>(import->new_base);
    if (schema::import_vfs_state<Migration>(import->old_base, uint32_t(import->old_size),
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
