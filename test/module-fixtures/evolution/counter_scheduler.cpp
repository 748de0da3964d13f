// Refusal fixture (b): module `scheduler` providing module_fixture.Counter
// (test/module-fixtures/counter_scheduler.kabi), with the counter every broken fixture shares
// (fixture_skeleton.h), unbroken.
#include "fixture_skeleton.h"
#include "umka/kabi/counter_scheduler_manifest.hpp"
#include "umka/kabi/counter_scheduler_state.hpp"

static_assert(sizeof(umka::kabi::counter_scheduler::CounterState) ==
                  sizeof(umka::kabi::module_fixture::CounterState),
              "the skeleton's counter reads module_fixture's CounterState layout");

namespace {
struct Unchanged {
    static uint64_t extra(uint64_t total) { return total; }
};
constexpr skeleton::fixture::CounterVtable counter_vtable =
    skeleton::fixture::make_counter_vtable<skeleton::Counter<Unchanged>>();
}  // namespace

UMKA_KABI_DEFINE_MANIFEST_SCHEDULER();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 2, 1, 1)) return UMKA_KABI_EINVAL;
    if (umka::kabi::module_state<skeleton::fixture::CounterState>(binding) == nullptr) {
        return UMKA_KABI_EINVAL;
    }
    return umka_module_provide(binding, 0, &counter_vtable, binding);
}
