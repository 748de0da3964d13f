/* A provider written in C against the generated C header; generated_code_test.cpp binds
   a C++ consumer to it, proving the C and C++ vtable layouts interoperate. */
#include <string.h>

#include "umka/kabi/sample_device.h"

static int32_t c_configure(void* context, const umka_sample_device_config* config,
                           umka_sample_device_config* previous) {
    umka_sample_device_config* stored = (umka_sample_device_config*)context;
    if (config->mode != UMKA_SAMPLE_DEVICE_MODE_IDLE && config->mode != UMKA_SAMPLE_DEVICE_MODE_ACTIVE) {
        return UMKA_KABI_EINVAL;
    }
    *previous = *stored;
    *stored = *config;
    return UMKA_KABI_OK;
}

static int32_t c_fill(void* context, uint8_t pattern, void* buffer_data, uint64_t buffer_length,
                      uint64_t* written) {
    (void)context;
    memset(buffer_data, pattern, (size_t)buffer_length);
    *written = buffer_length;
    return UMKA_KABI_OK;
}

/* A version-1 provider: its vtable_size stops after the tombstone slot (@2). */
const umka_sample_device_device_vtable* c_version1_provider(void) {
    static const umka_sample_device_device_vtable vtable = {
        UMKA_SAMPLE_DEVICE_DEVICE_REMOVED_RESET_SLOT_END, 1, c_configure, c_fill,
        umka_kabi_tombstone, 0, 0, 0, 0};
    return &vtable;
}
