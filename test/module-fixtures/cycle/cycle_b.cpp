// cycle_b: provides cycle.B, requires cycle.A (cycle.kabi). With cycle_a it forms a
// dependency cycle the resolver refuses before loading either; the module itself is
// complete, so a host test can load it against a host-provided A and call it.
#include "umka/kabi/cycle.hpp"
#include "umka/kabi/cycle_manifest.hpp"
#include "umka/kabi/cycle_state.hpp"
#include "umka/module_entry.h"

namespace cycle = umka::kabi::cycle;

namespace {

enum Required : uint32_t { kA = 0 };

struct ProvidedB {
    // Counts in the nucleus-owned state region: the module keeps nothing itself.
    static uint64_t count(void* context) {
        auto* state = umka::kabi::module_state<cycle::CycleBState>(umka::kabi::binding_of(context));
        return ++state->calls;
    }
};
static_assert(__is_empty(ProvidedB), "module code keeps no state of its own");

constexpr cycle::BVtable b_vtable = cycle::make_b_vtable<ProvidedB>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_CYCLE_B();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 1, 1, 1)) return UMKA_KABI_EINVAL;
    if (umka::kabi::module_state<cycle::CycleBState>(binding) == nullptr) return UMKA_KABI_EINVAL;
    return umka_module_provide(binding, 0, &b_vtable, binding);
}
