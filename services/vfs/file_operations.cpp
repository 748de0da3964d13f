// The Vfs calls: each resolves its paths (path_walk.h, across mounts), checks what Linux
// checks for that system call, in Linux's order where the errno depends on it, and asks
// the mount's file system for the one node operation it is.
#include "file_operations.h"

#include "descriptor_tables.h"
#include "vfs_versions.h"

namespace umka::vfs {
namespace {

bool writes(uint32_t flags) {
    return (flags & kAccessMask) != kReadOnly;
}

uint32_t flag(api::OpenFlags value) {
    return uint32_t(value);
}

// The node's file system and volume; false when its mount went away.
struct Place {
    api::FileSystemRef file_system;
    uint32_t volume;
};

bool place_of(MountedNamespace& names, uint32_t mount, Place* place) {
    if (!names.file_system(mount, &place->file_system)) return false;
    place->volume = names.state().mounts[mount].volume;
    return true;
}

// The last component of an operation that names it (mkdir, rmdir, unlink, rename, link,
// symlink) is looked up without following it even when the path ends in '/' (Linux:
// filename_parentat, then the name itself): the slashes are taken off before the walk and
// reported in `trailing_slash`, for each operation's own rule.
Status resolve_named(MountedNamespace& names, const char* path, uint64_t length,
                     Resolved* resolved) {
    uint64_t trimmed = length;
    while (trimmed > 1 && path[trimmed - 1] == '/') --trimmed;
    if (Status found = resolve_path(names, path, trimmed, FinalLink::NoFollow, resolved);
        found.is_error()) {
        return found;
    }
    resolved->trailing_slash = trimmed != length;
    return Status::ok();
}

// resolve_named, with "." and ".." refused with `dot_error`, and the root too.
Status resolve_last(MountedNamespace& names, const char* path, uint64_t length, Resolved* resolved,
                    int32_t dot_error) {
    if (Status found = resolve_named(names, path, length, resolved); found.is_error()) {
        return found;
    }
    if (resolved->last_is_dot || resolved->last_length == 0) return dot_error;
    return Status::ok();
}

// Whether `ancestor` is `node` or a directory above it (through "..", across mounts). A
// walk longer than any path could be means a broken tree: no.
bool is_ancestor(MountedNamespace& names, NodeId ancestor, NodeId node) {
    for (uint32_t step = 0; step < kPathMaximum / 2; ++step) {
        if (node == ancestor) return true;
        NodeId parent{};
        if (names.parent(node, &parent).is_error() || parent == node) return false;
        node = parent;
    }
    return false;
}

Status node_attributes(MountedNamespace& names, NodeId node, api::NodeAttributes* attributes) {
    Place place;
    if (!place_of(names, node.mount, &place)) return UMKA_KABI_EIO;
    return place.file_system.node_attributes(place.volume, node.inode, attributes);
}

}  // namespace

Status open_file(MountedNamespace& names, const char* path, uint64_t length, uint32_t flags,
                 uint32_t mode, uint32_t* descriptor_out) {
    bool create = (flags & flag(api::OpenFlags::Create)) != 0;
    bool exclusive = create && (flags & flag(api::OpenFlags::Exclusive)) != 0;
    // O_CREAT|O_EXCL never follows a final symlink (Linux: it fails with EEXIST instead).
    FinalLink final_link = exclusive || (flags & flag(api::OpenFlags::NoFollow)) != 0
                               ? FinalLink::NoFollow
                               : FinalLink::Follow;
    Resolved resolved{};
    if (create) {
        // O_CREAT walks to the parent first and refuses "name/" before it looks the name
        // up (Linux's open_last_lookups): whatever the name is, that is EISDIR.
        if (Status found = resolve_named(names, path, length, &resolved); found.is_error()) {
            return found;
        }
        if (resolved.trailing_slash) return UMKA_KABI_EISDIR;
    }
    if (Status found = resolve_path(names, path, length, final_link, &resolved); found.is_error()) {
        return found;
    }
    if (Status room = check_descriptor_room(names); room.is_error()) return room;
    // Then O_EXCL, then a directory, which O_CREAT never opens.
    if (create && resolved.presence == Presence::Exists) {
        if (exclusive) return UMKA_KABI_EEXIST;
        if (resolved.kind == NodeKind::Directory) return UMKA_KABI_EISDIR;
    }
    NodeId node = resolved.node;
    Place place;
    if (resolved.presence == Presence::Missing) {
        if (!create) return UMKA_KABI_ENOENT;
        if (!place_of(names, resolved.parent.mount, &place)) return UMKA_KABI_EIO;
        uint64_t inode = 0;
        Status made = place.file_system.create_node(place.volume, resolved.parent.inode,
                                                    resolved.last, resolved.last_length,
                                                    api::NodeKind::Regular, mode & 07777, &inode);
        if (made.is_error()) return made;
        names.remember_name(resolved.parent, resolved.last, resolved.last_length, inode);
        node = NodeId{resolved.parent.mount, inode};
    } else {
        if (resolved.kind == NodeKind::Symlink) return UMKA_KABI_ELOOP;  // O_NOFOLLOW
        bool directory = resolved.kind == NodeKind::Directory;
        if ((flags & flag(api::OpenFlags::Directory)) != 0 && !directory) {
            return UMKA_KABI_ENOTDIR;
        }
        if (directory && (writes(flags) || (flags & flag(api::OpenFlags::Truncate)) != 0)) {
            return UMKA_KABI_EISDIR;
        }
        if (!place_of(names, node.mount, &place)) return UMKA_KABI_EIO;
        if ((flags & flag(api::OpenFlags::Truncate)) != 0 && writes(flags)) {
            if (Status cut = place.file_system.truncate_node(place.volume, node.inode, 0);
                cut.is_error()) {
                return cut;
            }
        }
    }
    if (Status held = place.file_system.retain_node(place.volume, node.inode); held.is_error()) {
        return held;
    }
    // Room was checked above, and the call lock keeps it.
    if (Status installed = install_descriptor(names, node, flags, descriptor_out);
        installed.is_error()) {
        (void)place.file_system.release_node(place.volume, node.inode);
        return installed;
    }
    count_open(names.state());
    return Status::ok();
}

Status close_file(MountedNamespace& names, uint32_t number) {
    return close_descriptor(names, number);
}

Status transfer(MountedNamespace& names, uint32_t number, Direction direction, Position position,
                uint64_t offset, void* buffer, uint64_t length, uint64_t* transferred) {
    *transferred = 0;
    Descriptor* descriptor = descriptor_of(names, number);
    if (descriptor == nullptr) return UMKA_KABI_EBADF;
    bool writing = direction == Direction::Write;
    uint32_t access = descriptor->flags & kAccessMask;
    if (writing ? access == kReadOnly : access == 1 /* O_WRONLY */) return UMKA_KABI_EBADF;
    Place place;
    if (!place_of(names, descriptor->mount, &place)) return UMKA_KABI_EIO;
    uint64_t at = position == Position::Explicit ? offset : descriptor->offset;
    // O_APPEND writes at the end even through pwrite (Linux's documented behaviour).
    if (writing && (descriptor->flags & flag(api::OpenFlags::Append)) != 0) {
        api::NodeAttributes attributes{};
        if (Status got =
                place.file_system.node_attributes(place.volume, descriptor->inode, &attributes);
            got.is_error()) {
            return got;
        }
        at = attributes.size;
    }
    Status moved = writing ? place.file_system.write_node(place.volume, descriptor->inode, at,
                                                          buffer, length, transferred)
                           : place.file_system.read_node(place.volume, descriptor->inode, at,
                                                         buffer, length, transferred);
    if (moved.is_error()) return moved;
    if (position == Position::Description) descriptor->offset = at + *transferred;
    return Status::ok();
}

Status seek_file(MountedNamespace& names, uint32_t number, int64_t offset, uint8_t whence,
                 uint64_t* position) {
    Descriptor* descriptor = descriptor_of(names, number);
    if (descriptor == nullptr) return UMKA_KABI_EBADF;
    int64_t base = 0;
    if (whence == 1) {
        base = int64_t(descriptor->offset);
    } else if (whence == 2) {
        api::NodeAttributes attributes{};
        if (Status got =
                node_attributes(names, NodeId{descriptor->mount, descriptor->inode}, &attributes);
            got.is_error()) {
            return got;
        }
        base = int64_t(attributes.size);
    } else if (whence != 0) {
        return UMKA_KABI_EINVAL;
    }
    int64_t target = 0;
    if (__builtin_add_overflow(base, offset, &target) || target < 0) return UMKA_KABI_EINVAL;
    descriptor->offset = uint64_t(target);
    *position = uint64_t(target);
    return Status::ok();
}

Status stat_path(MountedNamespace& names, const char* path, uint64_t length, bool follow,
                 api::NodeAttributes* attributes) {
    Resolved resolved{};
    if (Status found = resolve_existing(
            names, path, length, follow ? FinalLink::Follow : FinalLink::NoFollow, &resolved);
        found.is_error()) {
        return found;
    }
    return node_attributes(names, resolved.node, attributes);
}

Status stat_file(MountedNamespace& names, uint32_t number, api::NodeAttributes* attributes) {
    Descriptor* descriptor = descriptor_of(names, number);
    if (descriptor == nullptr) return UMKA_KABI_EBADF;
    return node_attributes(names, NodeId{descriptor->mount, descriptor->inode}, attributes);
}

Status read_directory_entry(MountedNamespace& names, uint32_t number,
                            api::DirectoryRecord* record) {
    Descriptor* descriptor = descriptor_of(names, number);
    if (descriptor == nullptr) return UMKA_KABI_EBADF;
    Place place;
    if (!place_of(names, descriptor->mount, &place)) return UMKA_KABI_EIO;
    uint64_t next = 0;
    Status read = place.file_system.read_directory_record(
        place.volume, descriptor->inode, descriptor->offset, record, sizeof *record, &next);
    if (read.is_error()) return read;
    descriptor->offset = next;
    return Status::ok();
}

Status make_node(MountedNamespace& names, const char* path, uint64_t length, NodeKind kind,
                 uint32_t mode, const char* target, uint64_t target_length) {
    Resolved resolved{};
    if (Status found = resolve_last(names, path, length, &resolved, UMKA_KABI_EEXIST);
        found.is_error()) {
        return found;
    }
    if (resolved.presence == Presence::Exists) return UMKA_KABI_EEXIST;
    // "a/" names a directory: only mkdir may create it.
    if (resolved.trailing_slash && kind != NodeKind::Directory) return UMKA_KABI_ENOENT;
    Place place;
    if (!place_of(names, resolved.parent.mount, &place)) return UMKA_KABI_EIO;
    uint64_t inode = 0;
    Status made =
        kind == NodeKind::Symlink
            ? place.file_system.create_symlink(place.volume, resolved.parent.inode, resolved.last,
                                               resolved.last_length, target, target_length, &inode)
            : place.file_system.create_node(place.volume, resolved.parent.inode, resolved.last,
                                            resolved.last_length, api::NodeKind(kind), mode & 07777,
                                            &inode);
    if (made.is_ok())
        names.remember_name(resolved.parent, resolved.last, resolved.last_length, inode);
    return made;
}

Status remove_node(MountedNamespace& names, const char* path, uint64_t length, NodeKind kind) {
    bool directory = kind == NodeKind::Directory;
    Resolved resolved{};
    // rmdir(".") is EINVAL, rmdir("..") ENOTEMPTY, unlink of either EISDIR.
    if (Status found = resolve_named(names, path, length, &resolved); found.is_error()) {
        return found;
    }
    if (resolved.last_length == 0) return directory ? UMKA_KABI_EBUSY : UMKA_KABI_EISDIR;
    if (resolved.last_is_dot) {
        if (!directory) return UMKA_KABI_EISDIR;
        return resolved.last_length == 1 ? UMKA_KABI_EINVAL : UMKA_KABI_ENOTEMPTY;
    }
    if (resolved.presence == Presence::Missing) return UMKA_KABI_ENOENT;
    if (!directory && resolved.trailing_slash) {
        return resolved.kind == NodeKind::Directory ? UMKA_KABI_EISDIR : UMKA_KABI_ENOTDIR;
    }
    // A mounted root is busy: it belongs to its mount, not to the directory above.
    if (resolved.node.mount != resolved.parent.mount) return UMKA_KABI_EBUSY;
    Place place;
    if (!place_of(names, resolved.parent.mount, &place)) return UMKA_KABI_EIO;
    Status removed =
        directory ? place.file_system.remove_directory_name(place.volume, resolved.parent.inode,
                                                            resolved.last, resolved.last_length)
                  : place.file_system.unlink_name(place.volume, resolved.parent.inode,
                                                  resolved.last, resolved.last_length);
    if (removed.is_ok()) names.forget_name(resolved.parent, resolved.last, resolved.last_length);
    return removed;
}

Status rename_path(MountedNamespace& names, const char* from, uint64_t from_length, const char* to,
                   uint64_t to_length) {
    // Linux's order (do_renameat2): both parents, the mount, "." / "..", the source, then
    // the ancestor traps, then what the file system checks (kinds, emptiness).
    Resolved source{};
    Resolved target{};
    if (Status found = resolve_named(names, from, from_length, &source); found.is_error()) {
        return found;
    }
    if (Status found = resolve_named(names, to, to_length, &target); found.is_error()) {
        return found;
    }
    if (source.parent.mount != target.parent.mount) return UMKA_KABI_EXDEV;
    if (source.last_is_dot || source.last_length == 0 || target.last_is_dot ||
        target.last_length == 0) {
        return UMKA_KABI_EBUSY;
    }
    if (source.presence == Presence::Missing) return UMKA_KABI_ENOENT;
    if (source.kind != NodeKind::Directory && (source.trailing_slash || target.trailing_slash)) {
        return UMKA_KABI_ENOTDIR;
    }
    // A mounted root belongs to its mount, not to the directory it sits in.
    if (source.node.mount != source.parent.mount ||
        (target.presence == Presence::Exists && target.node.mount != target.parent.mount)) {
        return UMKA_KABI_EBUSY;
    }
    if (source.node != target.node) {
        if (source.kind == NodeKind::Directory && is_ancestor(names, source.node, target.parent)) {
            return UMKA_KABI_EINVAL;  // into its own subtree
        }
        if (target.presence == Presence::Exists && target.kind == NodeKind::Directory &&
            is_ancestor(names, target.node, source.parent)) {
            return UMKA_KABI_ENOTEMPTY;  // over a directory that holds the source
        }
    }
    Place place;
    if (!place_of(names, source.parent.mount, &place)) return UMKA_KABI_EIO;
    Status renamed = place.file_system.rename_name(place.volume, source.parent.inode, source.last,
                                                   source.last_length, target.parent.inode,
                                                   target.last, target.last_length);
    if (renamed.is_ok()) {
        names.forget_name(source.parent, source.last, source.last_length);
        names.forget_name(target.parent, target.last, target.last_length);
    }
    return renamed;
}

Status link_path(MountedNamespace& names, const char* existing, uint64_t existing_length,
                 const char* path, uint64_t length) {
    Resolved source{};
    Resolved target{};
    if (Status found =
            resolve_existing(names, existing, existing_length, FinalLink::NoFollow, &source);
        found.is_error()) {
        return found;
    }
    // Linux's order (do_linkat): the new name's lookup, then the mount, then the kind.
    if (Status found = resolve_last(names, path, length, &target, UMKA_KABI_EEXIST);
        found.is_error()) {
        return found;
    }
    if (target.presence == Presence::Exists) return UMKA_KABI_EEXIST;
    if (target.trailing_slash) return UMKA_KABI_ENOENT;  // a new name "x/" is a directory's
    if (source.node.mount != target.parent.mount) return UMKA_KABI_EXDEV;
    if (source.kind == NodeKind::Directory) return UMKA_KABI_EPERM;
    Place place;
    if (!place_of(names, target.parent.mount, &place)) return UMKA_KABI_EIO;
    Status linked = place.file_system.link_node(place.volume, target.parent.inode, target.last,
                                                target.last_length, source.node.inode);
    if (linked.is_ok()) {
        names.remember_name(target.parent, target.last, target.last_length, source.node.inode);
    }
    return linked;
}

Status read_link_path(MountedNamespace& names, const char* path, uint64_t length, void* buffer,
                      uint64_t capacity, uint64_t* link_length) {
    Resolved resolved{};
    if (Status found = resolve_existing(names, path, length, FinalLink::NoFollow, &resolved);
        found.is_error()) {
        return found;
    }
    if (resolved.kind != NodeKind::Symlink) return UMKA_KABI_EINVAL;
    Place place;
    if (!place_of(names, resolved.node.mount, &place)) return UMKA_KABI_EIO;
    Status read = place.file_system.read_symlink(place.volume, resolved.node.inode, buffer,
                                                 capacity, link_length);
    // readlink(2) answers the bytes it placed, never more than the buffer holds.
    if (read.is_ok() && *link_length > capacity) *link_length = capacity;
    return read;
}

Status truncate_path(MountedNamespace& names, const char* path, uint64_t length, uint64_t size) {
    Resolved resolved{};
    if (Status found = resolve_existing(names, path, length, FinalLink::Follow, &resolved);
        found.is_error()) {
        return found;
    }
    if (resolved.kind == NodeKind::Directory) return UMKA_KABI_EISDIR;
    Place place;
    if (!place_of(names, resolved.node.mount, &place)) return UMKA_KABI_EIO;
    return place.file_system.truncate_node(place.volume, resolved.node.inode, size);
}

Status sync_file(MountedNamespace& names, uint32_t number) {
    Descriptor* descriptor = descriptor_of(names, number);
    if (descriptor == nullptr) return UMKA_KABI_EBADF;
    Place place;
    if (!place_of(names, descriptor->mount, &place)) return UMKA_KABI_EIO;
    return place.file_system.sync_volume(place.volume);
}

Status sync_all(MountedNamespace& names) {
    Status first = Status::ok();
    for (uint32_t mount = 0; mount < kMaximumMounts; ++mount) {
        Place place;
        if (!place_of(names, mount, &place)) continue;
        Status synced = place.file_system.sync_volume(place.volume);
        if (synced.is_error() && first.is_ok()) first = synced;
    }
    return first;
}

Status usage_of(MountedNamespace& names, const char* path, uint64_t length,
                api::FileSystemUsage* usage) {
    Resolved resolved{};
    if (Status found = resolve_existing(names, path, length, FinalLink::Follow, &resolved);
        found.is_error()) {
        return found;
    }
    Place place;
    if (!place_of(names, resolved.node.mount, &place)) return UMKA_KABI_EIO;
    return place.file_system.volume_usage(place.volume, usage);
}

}  // namespace umka::vfs
