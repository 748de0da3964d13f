// Broken rule: a call through the PLT. helper is defined here but exported (default
// visibility), so under -fPIC the call may be interposed and goes through a
// R_X86_64_JUMP_SLOT relocation, which only a dynamic linker could fill.
#include "fixture_skeleton.h"

extern "C" [[gnu::visibility("default"), gnu::noinline]] uint64_t plt_helper(uint64_t value) {
    return value * 3;
}

namespace {
struct Hooks {
    static uint64_t extra(uint64_t total) { return plt_helper(total); }
};
}  // namespace

UMKA_FIXTURE_SKELETON(Hooks)
