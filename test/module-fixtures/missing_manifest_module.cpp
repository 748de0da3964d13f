// Broken rule: no .kabi_manifest section (UMKA_KABI_DEFINE_MANIFEST_* never expanded).
#include "umka/kabi/module_fixture.hpp"
#include "umka/kabi/module_fixture_state.hpp"
#include "umka/module_entry.h"

namespace fixture = umka::kabi::module_fixture;

namespace {
struct Counter {
    static uint64_t add(void*, uint64_t amount) { return amount; }
    static uint64_t total(void*) { return 0; }
    static umka::kabi::Status announce(void*) { return umka::kabi::Status::ok(); }
};
constexpr fixture::CounterVtable counter_vtable = fixture::make_counter_vtable<Counter>();
}  // namespace

UMKA_MODULE_ENTRY(binding) {
    return umka_module_provide(binding, 0, &counter_vtable, binding);
}
