// Broken rule: no exported umka_module_entry (the function exists but is hidden, as it
// would be when written without UMKA_MODULE_ENTRY under -fvisibility=hidden).
#include "umka/kabi/module_fixture.hpp"
#include "umka/kabi/module_fixture_manifest.hpp"
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

UMKA_KABI_DEFINE_MANIFEST_COUNTER_MODULE();

extern "C" [[gnu::used]] int32_t umka_module_entry(UmkaModuleBinding* binding) {
    return umka_module_provide(binding, 0, &counter_vtable, binding);
}
