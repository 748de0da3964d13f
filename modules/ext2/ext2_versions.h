// What differs between the Ext2State versions the module is built against: ext2.umod
// (kabi-idl/modules/ext2.kabi, version 1) and ext2-v2.umod (kabi-idl/versions/ext2.kabi,
// version 2: requests_completed). Each build sees only its own generated ext2_state.hpp; the
// helpers compile to version 1's behaviour where a field does not exist.
#pragma once

#include <stdint.h>

#include "umka/kabi/ext2_state.hpp"
#include "umka/module_entry.h"

namespace umka::ext2 {

// A disk request completed to this module.
template <typename State>
void count_completed(State& state) {
    if constexpr (requires { state.requests_completed; }) {
        __atomic_add_fetch(&state.requests_completed, 1u, __ATOMIC_RELAXED);
    } else {
        (void)state;
    }
}

// The module's UmkaStateImportFunction: the predecessor's Ext2State in this build's schema
// (an older one extended, a newer one by its known prefix), its call lock free. EINVAL for
// bytes that are no Ext2State of the claimed version. Pure.
int32_t import_ext2_state(const UmkaStateImport* import);

}  // namespace umka::ext2
