// Breaks the state-spill rule: an initialised writable global lands in .data.
#include "test_manifest.h"

int lookup_table[4] = {1, 2, 3, 4};

extern "C" [[gnu::visibility("default")]] int module_lookup(int index) {
    return lookup_table[index & 3]++;
}

UMKA_TEST_MODULE_MANIFEST("modcheck_data");
