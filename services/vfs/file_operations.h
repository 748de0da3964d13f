// The Vfs calls over the mounted namespace (file_operations.cpp); vfs_service.cpp is the
// vtable that takes the call lock and forwards here.
#pragma once

#include "vfs_service.h"

namespace umka::vfs {

enum class Direction : uint8_t { Read, Write };
// At the description's offset (read/write, which move it) or at an explicit one
// (pread/pwrite, which do not).
enum class Position : uint8_t { Description, Explicit };

Status open_file(MountedNamespace& names, const char* path, uint64_t length, uint32_t flags,
                 uint32_t mode, uint32_t* descriptor);
Status close_file(MountedNamespace& names, uint32_t descriptor);
Status transfer(MountedNamespace& names, uint32_t descriptor, Direction direction,
                Position position, uint64_t offset, void* buffer, uint64_t length,
                uint64_t* transferred);
Status seek_file(MountedNamespace& names, uint32_t descriptor, int64_t offset, uint8_t whence,
                 uint64_t* position);
Status stat_path(MountedNamespace& names, const char* path, uint64_t length, bool follow,
                 api::NodeAttributes* attributes);
Status stat_file(MountedNamespace& names, uint32_t descriptor, api::NodeAttributes* attributes);
Status read_directory_entry(MountedNamespace& names, uint32_t descriptor,
                            api::DirectoryRecord* record);
// mkdir (kind Directory), creat-like nodes, and symlink (kind Symlink, with its target).
Status make_node(MountedNamespace& names, const char* path, uint64_t length, NodeKind kind,
                 uint32_t mode, const char* target, uint64_t target_length);
// rmdir (kind Directory) and unlink (any other kind).
Status remove_node(MountedNamespace& names, const char* path, uint64_t length, NodeKind kind);
Status rename_path(MountedNamespace& names, const char* from, uint64_t from_length, const char* to,
                   uint64_t to_length);
Status link_path(MountedNamespace& names, const char* existing, uint64_t existing_length,
                 const char* path, uint64_t length);
Status read_link_path(MountedNamespace& names, const char* path, uint64_t length, void* buffer,
                      uint64_t capacity, uint64_t* link_length);
Status truncate_path(MountedNamespace& names, const char* path, uint64_t length, uint64_t size);
Status sync_file(MountedNamespace& names, uint32_t descriptor);
Status sync_all(MountedNamespace& names);
Status usage_of(MountedNamespace& names, const char* path, uint64_t length,
                api::FileSystemUsage* usage);

}  // namespace umka::vfs
