// The second well-formed fixture: provides module_fixture.Probe and requires
// module_fixture.Counter >= 2, which it reaches through its service slot on every call
// (one acquire load), so a live swap of the Counter provider is seen on the next call.
#include "umka/kabi/module_fixture.hpp"
#include "umka/kabi/module_fixture_manifest.hpp"
#include "umka/kabi/module_fixture_state.hpp"
#include "umka/module_entry.h"

namespace fixture = umka::kabi::module_fixture;

namespace {

constexpr uint32_t kCounter = 0;

fixture::ProbeState& state_of(void* context) {
    return *umka::kabi::module_state<fixture::ProbeState>(umka::kabi::binding_of(context));
}

struct Probe {
    static uint64_t add_through_counter(void* context, uint64_t amount) {
        fixture::CounterRef counter;
        if (umka::kabi::bind_required(umka::kabi::binding_of(context), kCounter, &counter)
                .is_error()) {
            return 0;
        }
        state_of(context).last_version = counter.provider_version();
        return counter.add(amount);
    }
    static uint32_t last_provider_version(void* context) { return state_of(context).last_version; }
};
static_assert(__is_empty(Probe));

constexpr fixture::ProbeVtable probe_vtable = fixture::make_probe_vtable<Probe>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_PROBE_MODULE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 1, 1, 1)) return UMKA_KABI_EINVAL;
    if (umka::kabi::module_state<fixture::ProbeState>(binding) == nullptr) return UMKA_KABI_EINVAL;
    return umka_module_provide(binding, 0, &probe_vtable, binding);
}
