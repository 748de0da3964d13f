// Broken rule: a writable, initialised global in .data. Refused naming `boot_count`.
#include "fixture_skeleton.h"

namespace {
int boot_count = 5;  // initialised: .data
struct Hooks {
    static uint64_t extra(uint64_t total) { return total + uint64_t(boot_count++); }
};
}  // namespace

UMKA_FIXTURE_SKELETON(Hooks)
