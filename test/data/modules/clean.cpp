// A module that follows every rule of DESIGN.md §5: code, a vtable of function pointers
// (R_X86_64_RELATIVE relocations into .data.rel.ro), a manifest, and no writable data.
#include <stdint.h>

#include "test_manifest.h"

namespace {

struct Operations {
    int32_t (*open)(void* context);
    int32_t (*read)(void* context, uint8_t* buffer, uint64_t length);
};

int32_t open_device(void*) {
    return 0;
}

int32_t read_device(void* context, uint8_t* buffer, uint64_t length) {
    for (uint64_t index = 0; index < length; ++index) buffer[index] = uint8_t(index);
    return context == nullptr ? -22 : 0;
}

}  // namespace

extern "C" [[gnu::visibility("default")]] const Operations* module_operations() {
    static const Operations operations = {open_device, read_device};
    return &operations;
}

UMKA_TEST_MODULE_MANIFEST("modcheck_clean");
