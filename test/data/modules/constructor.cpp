// A global constructor: an .init_array entry the nucleus would have to run.
#include "test_manifest.h"

// The empty asm keeps GCC from discarding a constructor that does nothing.
[[gnu::constructor]] static void module_constructor() {
    asm volatile("" ::: "memory");
}

UMKA_TEST_MODULE_MANIFEST("modcheck_constructor");
