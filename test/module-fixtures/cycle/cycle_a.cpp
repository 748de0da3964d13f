// cycle_a: provides cycle.A, requires cycle.B (cycle.kabi). With cycle_b it forms a
// dependency cycle the resolver refuses before loading either; the module itself is
// complete, so a host test can load it against a host-provided B and call it.
#include "umka/kabi/cycle.hpp"
#include "umka/kabi/cycle_manifest.hpp"
#include "umka/kabi/cycle_state.hpp"
#include "umka/module_entry.h"

namespace cycle = umka::kabi::cycle;

namespace {

enum Required : uint32_t { kB = 0 };

struct ProvidedA {
    // Counts in the nucleus-owned state region: the module keeps nothing itself.
    static uint64_t count(void* context) {
        auto* state = umka::kabi::module_state<cycle::CycleAState>(umka::kabi::binding_of(context));
        return ++state->calls;
    }
};
static_assert(__is_empty(ProvidedA), "module code keeps no state of its own");

constexpr cycle::AVtable a_vtable = cycle::make_a_vtable<ProvidedA>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_CYCLE_A();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 1, 1, 1)) return UMKA_KABI_EINVAL;
    if (umka::kabi::module_state<cycle::CycleAState>(binding) == nullptr) return UMKA_KABI_EINVAL;
    return umka_module_provide(binding, 0, &a_vtable, binding);
}
