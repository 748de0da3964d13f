// Broken rule: a .kabi_manifest whose counts disagree with its size (it claims three
// provides but carries one), as a hand-edited or corrupted manifest would.
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

struct BadManifest {
    umka_kabi_manifest_header header;
    umka_kabi_manifest_interface provides[1];
};
}  // namespace

extern "C"
    [[gnu::used, gnu::section(".kabi_manifest")]] const BadManifest umka_kabi_manifest_bad = {
        {UMKA_KABI_MANIFEST_MAGIC, UMKA_KABI_MANIFEST_FORMAT, sizeof(umka_kabi_manifest_header),
         "bad_manifest", 1u, 1, 0, 0, 0, 3, 0, 0, 0, sizeof(BadManifest), 0},
        {{"module_fixture", "Counter", 2u, 1, 0, 0, 0}},
};

UMKA_MODULE_ENTRY(binding) {
    return umka_module_provide(binding, 0, &counter_vtable, binding);
}
