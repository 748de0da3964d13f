// A well-formed module whose entry point refuses the binding (EINVAL): the binder must undo
// everything and report the module's status.
#include "fixture_skeleton.h"

UMKA_KABI_DEFINE_MANIFEST_COUNTER_MODULE();

UMKA_MODULE_ENTRY(binding) {
    (void)binding;
    return UMKA_KABI_EINVAL;
}
