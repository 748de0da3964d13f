// The serial driver's state import (serial_versions.h).
#include "serial_versions.h"

namespace umka::serial_driver {

int32_t import_serial_state(const UmkaStateImport* import) {
    if (import == nullptr || import->state_index != 0 || import->old_base == nullptr ||
        import->new_base == nullptr || import->new_size < sizeof(schema::SerialState) ||
        import->old_size > UINT32_MAX ||
        (import->mode != UMKA_STATE_IMPORT_DRY_RUN && import->mode != UMKA_STATE_IMPORT_COMMIT)) {
        return UMKA_KABI_EINVAL;
    }
    schema::SerialState state{};
    if (schema::import_serial_state<MigrationHooks>(import->old_base, uint32_t(import->old_size),
                                                    import->old_schema_version, &state)
            .is_error()) {
        return UMKA_KABI_EINVAL;
    }
    // The ring's counters run freely; more than the buffer holds is no ring at all. A mode
    // the driver never writes is no state of it either (a crash may have scribbled it).
    if (state.receive_tail - state.receive_head > sizeof(state.receive_buffer) ||
        state.configured > kLastConfigured || state.opened > kLastOpenState) {
        return UMKA_KABI_EINVAL;
    }
    __builtin_memcpy(import->new_base, &state, sizeof(state));
    return UMKA_KABI_OK;
}

}  // namespace umka::serial_driver
