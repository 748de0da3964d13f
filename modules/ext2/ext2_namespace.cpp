// The name operations (lookup, create, symlink, link, unlink, rmdir, rename, listing) and the
// link counts they keep, with tmpfs::Store's contracts (Linux rename(2) rules included).
#include "ext2_block_cache.h"

namespace umka::ext2 {

using layout::EntryHeader;
using layout::kEntryHeaderSize;
using layout::kMaximumLinks;

namespace {

bool is_directory(const layout::Inode& record) {
    return (record.mode & layout::kTypeMask) == layout::kTypeDirectory;
}

NodeKind kind_from_file_type(uint8_t type, bool* known) {
    *known = true;
    switch (static_cast<layout::FileType>(type)) {
    case layout::FileType::Regular:
        return NodeKind::Regular;
    case layout::FileType::Directory:
        return NodeKind::Directory;
    case layout::FileType::CharDevice:
        return NodeKind::CharDevice;
    case layout::FileType::BlockDevice:
        return NodeKind::BlockDevice;
    case layout::FileType::Fifo:
        return NodeKind::Fifo;
    case layout::FileType::Socket:
        return NodeKind::Socket;
    case layout::FileType::Symlink:
        return NodeKind::Symlink;
    default:
        *known = false;
        return NodeKind::Regular;
    }
}

}  // namespace

void Volume::touch(uint64_t inode, uint64_t now_ns) {
    Inode record{};
    if (load_inode(inode, &record).is_error()) return;
    record.modify_time = seconds(now_ns);
    record.change_time = record.modify_time;
    (void)store_inode(inode, record);
}

Status Volume::adjust_links(uint64_t inode, int32_t delta, uint64_t now_ns) {
    Inode record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    int32_t links = static_cast<int32_t>(record.links_count) + delta;
    if (links < 0 || links > static_cast<int32_t>(kMaximumLinks) + 2) return corrupt();
    record.links_count = static_cast<uint16_t>(links);
    record.change_time = seconds(now_ns);
    return store_inode(inode, record);
}

Status Volume::drop_link(uint64_t inode, uint64_t now_ns) {
    Inode record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    if (is_directory(record)) {
        // A removed directory is empty: "." and its entry in the parent go together.
        record.links_count = 0;
        if (referenced(inode)) {
            // Kept for its open references: no entries any more, blocks given back now.
            status = free_blocks_from(&record, 0);
            record.size = 0;
        }
    } else if (record.links_count > 0) {
        record.links_count -= 1;
    }
    record.change_time = seconds(now_ns);
    if (record.links_count == 0 && !referenced(inode)) {
        Status freed = free_inode(inode, &record, now_ns);
        return status.is_error() ? status : freed;
    }
    Status stored = store_inode(inode, record);
    return status.is_error() ? status : stored;
}

Status Volume::prepare_entry(uint64_t directory, const char* name, uint32_t length, Inode* parent) {
    Status status = load_directory(directory, parent);
    if (status.is_error()) return status;
    if (parent->links_count == 0) return UMKA_KABI_ENOENT;
    if ((status = file_names::validate(name, length)).is_error()) return status;
    Place place{};
    status = find_entry(*parent, name, length, &place);
    if (status.is_ok()) return UMKA_KABI_EEXIST;
    return status == UMKA_KABI_ENOENT ? Status::ok() : status;
}

Status Volume::lookup(uint64_t directory, const char* name, uint32_t length, uint64_t* inode) {
    if (inode == nullptr) return UMKA_KABI_EINVAL;
    Inode record{};
    Status status = load_directory(directory, &record);
    if (status.is_error()) return status;
    if (name == nullptr || length == 0) return UMKA_KABI_ENOENT;
    if (length > kMaximumNameLength) return UMKA_KABI_ENAMETOOLONG;
    if (file_names::is_dot_or_dot_dot(name, length)) {
        if (length == 1 || record.links_count == 0) {
            *inode = directory;
            return Status::ok();
        }
        return parent_of(record, inode);
    }
    Place place{};
    if ((status = find_entry(record, name, length, &place)).is_error()) return status;
    *inode = place.header.inode;
    return Status::ok();
}

Status Volume::create(uint64_t directory, const char* name, uint32_t length, NodeKind kind,
                      uint32_t permissions, uint64_t now_ns, uint64_t* inode) {
    if (inode == nullptr) return UMKA_KABI_EINVAL;
    Status status = writable();
    if (status.is_error()) return status;
    if (kind != NodeKind::Regular && kind != NodeKind::Directory) return UMKA_KABI_EINVAL;
    Inode parent{};
    if ((status = prepare_entry(directory, name, length, &parent)).is_error()) return status;
    bool making_directory = kind == NodeKind::Directory;
    if (making_directory && parent.links_count >= kMaximumLinks) return UMKA_KABI_EMLINK;
    uint32_t needed = 0;
    if ((status = entry_space(parent, length, &needed)).is_error()) return status;
    if (making_directory) needed += 1;
    if (free_blocks() < needed || header()->superblock.free_inodes_count == 0) {
        return UMKA_KABI_ENOSPC;
    }

    uint64_t created = 0;
    if ((status = allocate_inode(directory, making_directory, &created)).is_error()) {
        return status;
    }
    Inode record{};
    uint32_t now = seconds(now_ns);
    record.mode = static_cast<uint16_t>(detail::type_bits(kind) | (permissions & 07777));
    record.links_count = making_directory ? 2 : 1;
    record.access_time = record.change_time = record.modify_time = now;
    if (making_directory) status = write_new_directory(created, &record, directory);
    if (status.is_ok()) status = store_inode(created, record);
    if (status.is_ok()) status = add_entry(directory, &parent, name, length, created, kind);
    if (status.is_error()) {
        (void)free_inode(created, &record, now_ns);
        return status;
    }
    if (making_directory) parent.links_count += 1;
    parent.modify_time = parent.change_time = now;
    if ((status = store_inode(directory, parent)).is_error()) return status;
    *inode = created;
    return Status::ok();
}

Status Volume::symlink(uint64_t directory, const char* name, uint32_t length, const char* target,
                       uint32_t target_length, uint64_t now_ns, uint64_t* inode) {
    if (inode == nullptr || target == nullptr || target_length == 0) return UMKA_KABI_EINVAL;
    Status status = writable();
    if (status.is_error()) return status;
    if (target_length >= block_size()) return UMKA_KABI_ENAMETOOLONG;
    Inode parent{};
    if ((status = prepare_entry(directory, name, length, &parent)).is_error()) return status;
    bool fast = target_length <= layout::kFastSymlinkMaximum;
    uint32_t needed = 0;
    if ((status = entry_space(parent, length, &needed)).is_error()) return status;
    if (!fast) needed += 1;
    if (free_blocks() < needed || header()->superblock.free_inodes_count == 0) {
        return UMKA_KABI_ENOSPC;
    }

    uint64_t created = 0;
    if ((status = allocate_inode(directory, false, &created)).is_error()) return status;
    Inode record{};
    uint32_t now = seconds(now_ns);
    record.mode = layout::kTypeSymlink | 0777;
    record.links_count = 1;
    record.access_time = record.change_time = record.modify_time = now;
    record.size = target_length;
    if (fast) {
        __builtin_memcpy(record.block, target, target_length);
    } else {
        bool fresh = false;
        uint32_t block = 0;
        status = map_block_for_write(created, &record, 0, &fresh, &block);
        Buffer buffer;
        if (status.is_ok()) status = get_block(block, Fill::Zero, &buffer);
        if (status.is_ok()) __builtin_memcpy(buffer.data(), target, target_length);
    }
    if (status.is_ok()) status = store_inode(created, record);
    if (status.is_ok()) {
        status = add_entry(directory, &parent, name, length, created, NodeKind::Symlink);
    }
    if (status.is_error()) {
        (void)free_inode(created, &record, now_ns);
        return status;
    }
    parent.modify_time = parent.change_time = now;
    if ((status = store_inode(directory, parent)).is_error()) return status;
    *inode = created;
    return Status::ok();
}

Status Volume::link(uint64_t directory, const char* name, uint32_t length, uint64_t inode,
                    uint64_t now_ns) {
    Status status = writable();
    if (status.is_error()) return status;
    Inode target{};
    if ((status = load_inode(inode, &target)).is_error()) return status;
    // Linux's order: the new name's problems (ENOTDIR, EEXIST) before the inode's.
    Inode parent{};
    if ((status = prepare_entry(directory, name, length, &parent)).is_error()) return status;
    if (is_directory(target)) return UMKA_KABI_EPERM;
    if (target.links_count == 0) return UMKA_KABI_ENOENT;
    if (target.links_count >= kMaximumLinks) return UMKA_KABI_EMLINK;
    bool valid = false;
    NodeKind kind = detail::kind_of(target.mode, &valid);
    if ((status = add_entry(directory, &parent, name, length, inode, kind)).is_error()) {
        return status;
    }
    if ((status = adjust_links(inode, 1, now_ns)).is_error()) return status;
    touch(directory, now_ns);
    return Status::ok();
}

Status Volume::unlink(uint64_t directory, const char* name, uint32_t length, uint64_t now_ns) {
    Status status = writable();
    if (status.is_error()) return status;
    Inode parent{};
    if ((status = load_directory(directory, &parent)).is_error()) return status;
    if (name == nullptr || length == 0) return UMKA_KABI_ENOENT;
    if (length > kMaximumNameLength) return UMKA_KABI_ENAMETOOLONG;
    if (file_names::is_dot_or_dot_dot(name, length)) return UMKA_KABI_EISDIR;
    Place place{};
    if ((status = find_entry(parent, name, length, &place)).is_error()) return status;
    Inode child{};
    status = load_inode(place.header.inode, &child);
    if (status == UMKA_KABI_EIO) return status;
    if (status.is_error()) return corrupt();
    if (is_directory(child)) return UMKA_KABI_EISDIR;
    if ((status = remove_entry(directory, &parent, place)).is_error()) return status;
    touch(directory, now_ns);
    return drop_link(place.header.inode, now_ns);
}

Status Volume::remove_directory(uint64_t directory, const char* name, uint32_t length,
                                uint64_t now_ns) {
    Status status = writable();
    if (status.is_error()) return status;
    Inode parent{};
    if ((status = load_directory(directory, &parent)).is_error()) return status;
    if (name == nullptr || length == 0) return UMKA_KABI_ENOENT;
    if (length > kMaximumNameLength) return UMKA_KABI_ENAMETOOLONG;
    if (length == 1 && name[0] == '.') return UMKA_KABI_EINVAL;
    if (file_names::is_dot_or_dot_dot(name, length)) {
        return directory == kRootInode ? UMKA_KABI_EBUSY : UMKA_KABI_ENOTEMPTY;
    }
    Place place{};
    if ((status = find_entry(parent, name, length, &place)).is_error()) return status;
    uint64_t victim = place.header.inode;
    if (victim == kRootInode) return UMKA_KABI_EBUSY;
    Inode child{};
    status = load_inode(victim, &child);
    if (status == UMKA_KABI_EIO) return status;
    if (status.is_error()) return corrupt();
    if (!is_directory(child)) return UMKA_KABI_ENOTDIR;
    bool empty = false;
    if ((status = directory_is_empty(child, &empty)).is_error()) return status;
    if (!empty) return UMKA_KABI_ENOTEMPTY;
    if ((status = remove_entry(directory, &parent, place)).is_error()) return status;
    if ((status = adjust_links(directory, -1, now_ns)).is_error()) return status;
    touch(directory, now_ns);
    return drop_link(victim, now_ns);
}

Status Volume::rename(uint64_t from_directory, const char* from_name, uint32_t from_length,
                      uint64_t to_directory, const char* to_name, uint32_t to_length,
                      uint64_t now_ns) {
    Status status = writable();
    if (status.is_error()) return status;
    Inode from{};
    Inode to{};
    if ((status = load_directory(from_directory, &from)).is_error()) return status;
    if ((status = load_directory(to_directory, &to)).is_error()) return status;
    if ((status = file_names::validate(from_name, from_length)).is_error()) return status;
    if ((status = file_names::validate(to_name, to_length)).is_error()) return status;
    Place source{};
    if ((status = find_entry(from, from_name, from_length, &source)).is_error()) return status;
    uint64_t moved_inode = source.header.inode;
    Inode moved{};
    status = load_inode(moved_inode, &moved);
    if (status == UMKA_KABI_EIO) return status;
    if (status.is_error()) return corrupt();
    Place target{};
    status = find_entry(to, to_name, to_length, &target);
    if (status.is_error() && status != UMKA_KABI_ENOENT) return status;
    bool replacing = status.is_ok();
    if (replacing && target.header.inode == moved_inode) return Status::ok();

    bool moving_directory = is_directory(moved);
    if (moving_directory) {
        bool inside = false;
        if ((status = is_ancestor(moved_inode, to_directory, &inside)).is_error()) return status;
        if (inside) return UMKA_KABI_EINVAL;
    }
    bool valid = false;
    NodeKind moved_kind = detail::kind_of(moved.mode, &valid);
    bool replacing_directory = false;
    uint64_t replaced_inode = replacing ? target.header.inode : 0;
    if (replacing) {
        Inode replaced{};
        status = load_inode(replaced_inode, &replaced);
        if (status == UMKA_KABI_EIO) return status;
        if (status.is_error()) return corrupt();
        replacing_directory = is_directory(replaced);
        if (replacing_directory) {
            // Replacing an ancestor of the source: Linux says ENOTEMPTY before any type check.
            bool above = false;
            if ((status = is_ancestor(replaced_inode, from_directory, &above)).is_error()) {
                return status;
            }
            if (above) return UMKA_KABI_ENOTEMPTY;
        }
        if (moving_directory && !replacing_directory) return UMKA_KABI_ENOTDIR;
        if (!moving_directory && replacing_directory) return UMKA_KABI_EISDIR;
        if (replacing_directory) {
            bool empty = false;
            if ((status = directory_is_empty(replaced, &empty)).is_error()) return status;
            if (!empty) return UMKA_KABI_ENOTEMPTY;
        }
        // Re-pointing the existing entry needs no block, so a replacing rename cannot fail
        // for space once it starts changing the disk.
        status = set_entry_inode(to_directory, &to, target, moved_inode, moved_kind);
        if (status.is_error()) return status;
    } else {
        if (to.links_count == 0) return UMKA_KABI_ENOENT;
        if (moving_directory && from_directory != to_directory && to.links_count >= kMaximumLinks) {
            return UMKA_KABI_EMLINK;
        }
        // The only step that can fail for space comes first, before anything else changes.
        status = add_entry(to_directory, &to, to_name, to_length, moved_inode, moved_kind);
        if (status.is_error()) return status;
    }
    // Adding may have split the source's entry or rewritten its directory: look again.
    if ((status = load_directory(from_directory, &from)).is_error()) return status;
    if ((status = find_entry(from, from_name, from_length, &source)).is_error()) return status;
    if ((status = remove_entry(from_directory, &from, source)).is_error()) return status;

    if ((status = load_inode(moved_inode, &moved)).is_error()) return status;
    moved.change_time = seconds(now_ns);
    if ((status = store_inode(moved_inode, moved)).is_error()) return status;
    if (moving_directory && from_directory != to_directory) {
        if ((status = set_parent(moved_inode, &moved, to_directory)).is_error()) return status;
        if ((status = adjust_links(from_directory, -1, now_ns)).is_error()) return status;
        if ((status = adjust_links(to_directory, 1, now_ns)).is_error()) return status;
    }
    if (replacing) {
        if (replacing_directory && (status = adjust_links(to_directory, -1, now_ns)).is_error()) {
            return status;
        }
        if ((status = drop_link(replaced_inode, now_ns)).is_error()) return status;
    }
    touch(from_directory, now_ns);
    touch(to_directory, now_ns);
    return Status::ok();
}

Status Volume::read_directory(uint64_t directory, uint64_t cookie, Entry* entry,
                              uint64_t* next_cookie) {
    if (entry == nullptr || next_cookie == nullptr) return UMKA_KABI_EINVAL;
    Inode record{};
    Status status = load_directory(directory, &record);
    if (status.is_error()) return status;
    uint32_t size = block_size();
    uint64_t blocks = record.size / size;
    for (uint64_t logical = cookie / size; logical < blocks; ++logical) {
        Buffer buffer;
        if ((status = directory_block(record, logical, Fill::Read, &buffer)).is_error()) {
            return status;
        }
        // A cookie may fall inside an entry that a removal merged away: resume at the first
        // entry boundary at or after it, as Linux does.
        uint32_t resume = logical == cookie / size ? static_cast<uint32_t>(cookie % size) : 0;
        for (uint32_t offset = 0; offset < size;) {
            EntryHeader found{};
            buffer.load(offset, &found);
            uint32_t next = offset + found.record_length;
            if (offset < resume || found.inode == 0) {
                offset = next;
                continue;
            }
            bool known = false;
            NodeKind kind = kind_from_file_type(found.file_type, &known);
            if (header()->has_filetype == 0 || !known) {
                Inode child{};
                if (read_inode(found.inode, &child).is_ok()) {
                    kind = detail::kind_of(child.mode, &known);
                }
            }
            entry->inode = found.inode;
            entry->kind = kind;
            entry->name_length = found.name_length;
            __builtin_memcpy(entry->name, buffer.data() + offset + kEntryHeaderSize,
                             found.name_length);
            entry->name[found.name_length] = '\0';
            *next_cookie = logical * size + next;
            return Status::ok();
        }
    }
    return UMKA_KABI_ENOENT;
}

}  // namespace umka::ext2
