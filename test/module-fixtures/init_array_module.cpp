// Broken rule: a global with a dynamic initializer, which puts a constructor pointer in
// .init_array (code that would have to run before umka_module_entry, with nobody to run it).
#include "fixture_skeleton.h"

namespace {
uint64_t read_seed(const volatile uint64_t* source) {
    return *source;
}
const volatile uint64_t seed_source = 7;
// Not a constant expression, so the compiler emits a constructor for it.
const uint64_t seed = read_seed(&seed_source);
struct Hooks {
    static uint64_t extra(uint64_t total) { return total + seed; }
};
}  // namespace

UMKA_FIXTURE_SKELETON(Hooks)
