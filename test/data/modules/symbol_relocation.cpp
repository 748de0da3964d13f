// Takes the address of an exported (preemptible) object: the linker emits a relocation
// against the symbol (R_X86_64_64 or R_X86_64_GLOB_DAT), not R_X86_64_RELATIVE.
#include "test_manifest.h"

extern "C" [[gnu::visibility("default")]] const int exported_answer = 42;
extern "C" [[gnu::visibility("default")]] const int* const exported_answer_pointer =
    &exported_answer;

UMKA_TEST_MODULE_MANIFEST("modcheck_symbol_relocation");
