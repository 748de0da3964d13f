// A well-formed module that registers, as its state import function, an address outside
// its own image (its state region): the binder must refuse it, since the nucleus calls that
// function during a live swap.
#include "fixture_skeleton.h"

UMKA_KABI_DEFINE_MANIFEST_COUNTER_MODULE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 2, 1, 1)) return UMKA_KABI_EINVAL;
    int32_t status = umka_module_set_state_import(
        binding, reinterpret_cast<UmkaStateImportFunction>(binding->states[0].base));
    if (status != UMKA_KABI_OK) return status;
    return umka_module_provide(binding, 0, binding->states[0].base, binding);
}
