// Refusal fixture (e), "has a writable global": the real scheduler whose SchedulerGlobals
// import counts its calls in a global variable, the state-spill mistake the module
// contract forbids (state belongs in nucleus memory, where a swap can carry it). Built
// without the build-time ELF check and then signed, so only the nucleus loader's own rule
// check stands between it and a live swap; it must name `imports_seen` (.bss).
#include "policy_memory.h"
#include "state_import.h"

namespace umka::scheduler_module {

namespace {
uint64_t imports_seen;  // writable: .bss
}  // namespace

int32_t import_globals(const UmkaStateImport* import) {
    imports_seen += 1;
    if (import == nullptr || import->new_base == nullptr ||
        import->new_size < sizeof(SchedulerGlobals)) {
        return UMKA_KABI_EINVAL;
    }
    // Starts unattached whatever the predecessor had (the nucleus attaches fresh arrays).
    SchedulerGlobals globals{};
    globals.attach_count = imports_seen;
    __builtin_memcpy(import->new_base, &globals, sizeof(globals));
    return UMKA_KABI_OK;
}

}  // namespace umka::scheduler_module
