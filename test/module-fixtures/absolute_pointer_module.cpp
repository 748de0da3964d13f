// Broken rule: an absolute 64-bit pointer to an exported (interposable) symbol, which the
// linker leaves as R_X86_64_64 against that symbol instead of a RELATIVE relocation.
#include "fixture_skeleton.h"

extern "C" [[gnu::visibility("default"), gnu::noinline]] uint64_t exported_scale(uint64_t value) {
    return value * 2;
}

namespace {
using Scale = uint64_t (*)(uint64_t);
// Read-only after relocation, but the relocation itself is the problem.
const Scale scale_table[] = {&exported_scale};
struct Hooks {
    static uint64_t extra(uint64_t total) {
        return (*static_cast<Scale const volatile*>(&scale_table[0]))(total);
    }
};
}  // namespace

UMKA_FIXTURE_SKELETON(Hooks)
