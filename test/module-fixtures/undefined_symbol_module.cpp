// Broken rule: an undefined symbol (a call to a function nobody in the module defines;
// linked without --no-undefined, as a careless build would). Refused naming it.
#include "fixture_skeleton.h"

extern "C" uint64_t external_helper(uint64_t value);

namespace {
struct Hooks {
    static uint64_t extra(uint64_t total) { return external_helper(total); }
};
}  // namespace

UMKA_FIXTURE_SKELETON(Hooks)
