// Refusal fixture (a), "fails validation": the real scheduler whose SchedulerGlobals import
// refuses every predecessor, as a module does when it finds state it cannot take over.
// It is signed, passes every ELF rule and provides SchedulerPolicy version 2 like the
// running scheduler, so a swap to it gets as far as the validate phase (the dry-run
// import) and must stop there with the old scheduler untouched.
#include "state_import.h"

namespace umka::scheduler_module {

int32_t import_globals(const UmkaStateImport* import) {
    (void)import;
    return UMKA_KABI_EPROTO;  // "protocol error": the state is not one this module accepts
}

}  // namespace umka::scheduler_module
