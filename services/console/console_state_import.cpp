// The console's state import (console_versions.h).
#include "console_versions.h"

namespace umka::console_service {

int32_t import_console_state(const UmkaStateImport* import) {
    if (import == nullptr || import->state_index != 0 || import->old_base == nullptr ||
        import->new_base == nullptr || import->new_size < sizeof(schema::ConsoleState) ||
        (import->mode != UMKA_STATE_IMPORT_DRY_RUN && import->mode != UMKA_STATE_IMPORT_COMMIT)) {
        return UMKA_KABI_EINVAL;
    }
    auto* state = static_cast<schema::ConsoleState*>(import->new_base);
    return import_prefix(import->old_base, import->old_size, import->old_schema_version, state)
                   .is_error()
               ? UMKA_KABI_EINVAL
               : UMKA_KABI_OK;
}

}  // namespace umka::console_service
