// What differs between the ConsoleState versions the console is built against.
//
// The same sources build console_service.umod (kabi-idl/modules/console_service.kabi,
// ConsoleState version 1) and console_service-v2.umod (kabi-idl/versions/console_service.kabi,
// version 2: lines_refused). Each build sees only its own generated
// console_service_state.hpp; the helpers below compile to version 1's behaviour where a
// field does not exist, so the version-1 build is exactly the released console.
#pragma once

#include <stdint.h>

#include "umka/kabi/console_service_state.hpp"
#include "umka/kabi/kabi_base.h"
#include "umka/module_entry.h"

namespace umka::console_service {

namespace schema = kabi::console_service;

// An over-long line was refused.
template <typename State>
void count_refused(State& state) {
    if constexpr (requires { state.lines_refused; }) {
        state.lines_refused += 1;
    } else {
        (void)state;
    }
}

// The bytes of a ConsoleState of version `old_version` (old_size bytes) into `out`, a
// zero-filled region of this build's ConsoleState. Written out rather than kabi-gen's
// import_console_state, which copies the old layout through the stack: 64 KiB here.
// An older layout is the newer one's prefix (version 2 appends lines_refused, 0 for a
// state from version 1, which did not count); a newer layout keeps the prefix it knows.
template <typename State>
kabi::Status import_prefix(const void* old_base, uint64_t old_size, uint32_t old_version,
                           State* out) {
    if (old_version == 0) return UMKA_KABI_EINVAL;
    uint64_t known = sizeof(State);
    if constexpr (requires { out->lines_refused; }) {
        static_assert(sizeof(schema::ConsoleStateV1) < sizeof(State), "version 2 appends");
        if (old_version == 1) known = sizeof(schema::ConsoleStateV1);
    }
    if (old_size < known) return UMKA_KABI_EINVAL;
    __builtin_memcpy(out, old_base, known);
    return kabi::Status::ok();
}

// The console's UmkaStateImportFunction: the predecessor's ConsoleState in this build's
// schema (a newer one by its known prefix). EINVAL for bytes that are no ConsoleState of
// the claimed version. The line editor repairs what it reads at run() (line_editor.h
// repair), so any bytes of the right size import. Pure: no log, no call.
int32_t import_console_state(const UmkaStateImport* import);

}  // namespace umka::console_service
