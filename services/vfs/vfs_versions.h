// What differs between the VfsState versions the VFS is built against: vfs_service.umod
// (kabi-idl/modules/vfs_service.kabi, VfsState version 4) and vfs_service-v2.umod
// (kabi-idl/versions/vfs_service.kabi, version 5: files_opened). Each build sees only its own
// generated vfs_service_state.hpp; the helpers compile to the current version's behaviour
// where a field does not exist.
#pragma once

#include <stdint.h>

#include "umka/kabi/vfs_service_state.hpp"
#include "umka/module_entry.h"

namespace umka::vfs {

// An open_file call succeeded.
template <typename State>
void count_open(State& state) {
    if constexpr (requires { state.files_opened; }) {
        ++state.files_opened;
    } else {
        (void)state;
    }
}

// The module's UmkaStateImportFunction: the predecessor's VfsState in this build's schema
// (an older one extended, a newer one by its known prefix), its call lock free. A state
// from before version 4 had one descriptor table: it becomes the console's table 0, each
// descriptor keeping its number. EINVAL for bytes that are no VfsState of the claimed
// version. Pure.
int32_t import_vfs_state(const UmkaStateImport* import);

}  // namespace umka::vfs
