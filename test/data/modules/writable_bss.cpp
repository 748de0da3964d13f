// Breaks the state-spill rule: a zero-initialised writable global lands in .bss.
#include "test_manifest.h"

static int counter;

extern "C" [[gnu::visibility("default")]] int module_count() {
    return ++counter;
}

UMKA_TEST_MODULE_MANIFEST("modcheck_bss");
