// The body every broken fixture shares: a complete counter_module (manifest, Counter
// vtable, entry point), so that each fixture breaks exactly the one rule it is named for.
#pragma once

#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/module_fixture.hpp"
#include "umka/kabi/module_fixture_manifest.hpp"
#include "umka/kabi/module_fixture_state.hpp"
#include "umka/module_entry.h"

namespace skeleton {

namespace fixture = umka::kabi::module_fixture;

inline fixture::CounterState& state_of(void* context) {
    return *umka::kabi::module_state<fixture::CounterState>(umka::kabi::binding_of(context));
}

// Hooks is a type with static uint64_t extra(uint64_t total): where a fixture's flaw runs.
template <typename Hooks>
struct Counter {
    static uint64_t add(void* context, uint64_t amount) {
        state_of(context).total += amount;
        return Hooks::extra(state_of(context).total);
    }
    static uint64_t total(void* context) { return state_of(context).total; }
    static umka::kabi::Status announce(void*) { return umka::kabi::Status::ok(); }
};

}  // namespace skeleton

// Expands to the manifest, the vtable and umka_module_entry of a counter_module whose
// Counter.add passes its result through Hooks::extra.
#define UMKA_FIXTURE_SKELETON(Hooks)                                                 \
    UMKA_KABI_DEFINE_MANIFEST_COUNTER_MODULE();                                      \
    namespace {                                                                      \
    constexpr skeleton::fixture::CounterVtable skeleton_vtable =                     \
        skeleton::fixture::make_counter_vtable<skeleton::Counter<Hooks>>();          \
    }                                                                                \
    UMKA_MODULE_ENTRY(binding) {                                                     \
        if (!umka_module_binding_matches(binding, 2, 1, 1)) return UMKA_KABI_EINVAL; \
        return umka_module_provide(binding, 0, &skeleton_vtable, binding);           \
    }
