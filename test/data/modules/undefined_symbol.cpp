// Calls a function nobody defines: an undefined symbol, reached through a PLT slot.
#include "test_manifest.h"

extern "C" void nucleus_private_function(int value);

extern "C" [[gnu::visibility("default")]] void module_call(int value) {
    nucleus_private_function(value);
}

UMKA_TEST_MODULE_MANIFEST("modcheck_undefined");
