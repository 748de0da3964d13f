// A module that follows every rule of DESIGN.md §5: code, a vtable of function pointers
// (R_X86_64_RELATIVE relocations into .data.rel.ro), a manifest, an exported
// umka_module_entry (the nucleus loader refuses a module without one), and no writable data.
#include <stdint.h>

#include "test_manifest.h"
#include "umka/module_entry.h"

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

const Operations operations = {open_device, read_device};

}  // namespace

extern "C" [[gnu::visibility("default")]] const Operations* module_operations() {
    return &operations;
}

// Uses `operations` directly: calling the exported module_operations would go through the
// PLT (an R_X86_64_JUMP_SLOT relocation the loader refuses).
UMKA_MODULE_ENTRY(binding) {
    return umka_module_provide(binding, 0, &operations, binding);
}

UMKA_TEST_MODULE_MANIFEST("modcheck_clean");
