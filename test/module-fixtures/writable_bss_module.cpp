// Broken rule: a writable global in .bss (`static int counter`, the classic state spill).
// The loader must refuse it naming `counter`.
#include "fixture_skeleton.h"

static int counter;  // zero-initialised: .bss

namespace {
struct Hooks {
    static uint64_t extra(uint64_t total) { return total + uint64_t(++counter); }
};
}  // namespace

UMKA_FIXTURE_SKELETON(Hooks)
