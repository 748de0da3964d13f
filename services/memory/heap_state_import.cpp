// The kernel heap's state import (heap_versions.h).
#include "heap.h"
#include "heap_versions.h"
#include "size_classes.h"

namespace umka::heap {

int32_t import_heap_state(const UmkaStateImport* import) {
    if (import == nullptr || import->state_index != 0 || import->old_base == nullptr ||
        import->new_base == nullptr || import->new_size < sizeof(HeapState) ||
        import->old_size > UINT32_MAX ||
        (import->mode != UMKA_STATE_IMPORT_DRY_RUN && import->mode != UMKA_STATE_IMPORT_COMMIT)) {
        return UMKA_KABI_EINVAL;
    }
    // HeapState is over 3 KiB: the result goes straight into the new region (zero-filled,
    // this module's own) rather than through one more copy on the stack.
    auto* state = static_cast<HeapState*>(import->new_base);
    if (layout::import_heap_state<HeapMigrationHooks>(import->old_base, uint32_t(import->old_size),
                                                      import->old_schema_version, state)
            .is_error()) {
        return UMKA_KABI_EINVAL;
    }
    uint32_t mismatch = 0;
    if (state->layout_version != kLayoutVersion || !classes_match(*state, &mismatch)) {
        __builtin_memset(state, 0, sizeof(HeapState));
        return UMKA_KABI_EINVAL;
    }
    return UMKA_KABI_OK;
}

}  // namespace umka::heap
