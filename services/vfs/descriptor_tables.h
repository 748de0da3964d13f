// Owners' descriptor tables (VfsDescriptorTable): descriptor numbers per owner over the
// open file descriptions every owner shares, and each owner's working directory.
//
// A description counts the descriptors that refer to it (`in_use`), across tables: dup(2)
// and a table copied for fork(2) share one offset, as on Linux. The last reference releases
// the node (release_node) and the mount's open count. A working directory other than the
// root holds its node and mount the same way, so it cannot be unmounted from under its
// owner and its inode is never reused while the owner sits in it. Once removed (rmdir while
// an owner sits in it) the file system answers ENOENT for every name in it and for its
// "..", so relative paths and getcwd fail as on Linux (vfs_module_test, on ext2 and tmpfs).
#pragma once

#include "vfs_service.h"

namespace umka::vfs {

// Table 0, the console's, exists from the first call on.
void ensure_console_table(State& state);

// Whether `names`'s table has a free descriptor (EMFILE) and a description is free (ENFILE).
Status check_descriptor_room(MountedNamespace& names);
// A new description of `node` (which the caller already holds with retain_node) at the
// lowest free descriptor. Fails only where check_descriptor_room would have.
Status install_descriptor(MountedNamespace& names, NodeId node, uint32_t flags, uint32_t* number);
Status close_descriptor(MountedNamespace& names, uint32_t number);
Status duplicate_descriptor(MountedNamespace& names, uint32_t number, uint32_t* copy);

Status create_table(const UmkaModuleBinding* binding, api::DescriptorTable* handle);
Status copy_table(MountedNamespace& names, api::DescriptorTable* copy);
// Closes every descriptor and lets the working directory go. EBUSY for the console's table.
Status destroy_table(MountedNamespace& names);

Status change_directory(MountedNamespace& names, const char* path, uint64_t length);
// getcwd(2) into `buffer`, NUL-terminated; `length` counts the NUL.
Status working_directory(MountedNamespace& names, char* buffer, uint64_t capacity,
                         uint64_t* length);

}  // namespace umka::vfs
