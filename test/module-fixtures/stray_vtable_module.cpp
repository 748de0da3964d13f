// A well-formed module that hands back, as its Counter vtable, a pointer into nucleus
// memory (its state region) instead of its own read-only image: the binder must refuse it.
#include "fixture_skeleton.h"

UMKA_KABI_DEFINE_MANIFEST_COUNTER_MODULE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 2, 1, 1)) return UMKA_KABI_EINVAL;
    return umka_module_provide(binding, 0, binding->states[0].base, binding);
}
