// What differs between the VfsState versions the VFS is built against: vfs_service.umod
// (kabi-idl/modules/vfs_service.kabi, VfsState version 2) and vfs_service-v2.umod
// (kabi-idl/versions/vfs_service.kabi, version 3: calls_served). Each build sees only its own
// generated vfs_service_state.hpp; the helpers compile to the current version's behaviour
// where a field does not exist.
#pragma once

#include <stdint.h>

#include "umka/kabi/vfs_service_state.hpp"
#include "umka/module_entry.h"

namespace umka::vfs {

// A vfs.Vfs call was served.
template <typename State>
void count_call(State& state) {
    if constexpr (requires { state.calls_served; }) {
        __atomic_add_fetch(&state.calls_served, 1u, __ATOMIC_RELAXED);
    } else {
        (void)state;
    }
}

// The module's UmkaStateImportFunction: the predecessor's VfsState in this build's schema
// (an older one extended, a newer one by its known prefix), its call lock free. EINVAL for
// bytes that are no VfsState of the claimed version. Pure.
int32_t import_vfs_state(const UmkaStateImport* import);

}  // namespace umka::vfs
