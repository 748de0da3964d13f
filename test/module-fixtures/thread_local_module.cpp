// Broken rule: thread-local storage (PT_TLS), which needs a TLS block per thread that
// nobody sets up for a module.
#include "fixture_skeleton.h"

namespace {
[[gnu::tls_model("initial-exec")]] thread_local uint64_t per_thread_calls;
struct Hooks {
    static uint64_t extra(uint64_t total) { return total + ++per_thread_calls; }
};
}  // namespace

UMKA_FIXTURE_SKELETON(Hooks)
