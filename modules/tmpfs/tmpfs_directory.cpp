// Directories (records, lookup, create, symlink, link, unlink, rmdir, rename, listing) and
// the link counts they keep. The consistency check is in tmpfs_store_check.cpp.
#include "tmpfs_store.h"

namespace umka::tmpfs {

using layout::DirectoryRecord;
using layout::InodeRecord;
using layout::kRecordSize;
using layout::kRecordsPerBlock;

namespace {

constexpr uint8_t kDirectoryKind = static_cast<uint8_t>(NodeKind::Directory);

bool same_name(const DirectoryRecord& record, const char* name, uint32_t length) {
    return record.name_length == length && __builtin_memcmp(record.name, name, length) == 0;
}

}  // namespace

Status Store::record_offset(const InodeRecord& directory, uint64_t slot, uint64_t* offset) const {
    uint64_t logical = slot / kRecordsPerBlock;
    if (logical >= directory.size / kBlockSize) return UMKA_KABI_ENOENT;
    uint32_t number = 0;
    Status status = map_block(directory, logical, &number);
    if (status.is_error()) return status;
    if (number == 0) return UMKA_KABI_EBADMSG;  // directories never have holes
    *offset = block_offset(number) + (slot % kRecordsPerBlock) * kRecordSize;
    return Status::ok();
}

Status Store::find_entry(const InodeRecord& directory, const char* name, uint32_t length,
                         uint64_t* slot, DirectoryRecord* found) const {
    uint64_t slots = detail::record_slots(directory);
    for (uint64_t index = 0; index < slots; ++index) {
        uint64_t offset = 0;
        Status status = record_offset(directory, index, &offset);
        if (status.is_error()) return status;
        DirectoryRecord record;
        if (!load(offset, &record)) return UMKA_KABI_EBADMSG;
        if (record.inode == 0 || !same_name(record, name, length)) continue;
        *slot = index;
        if (found != nullptr) *found = record;
        return Status::ok();
    }
    return UMKA_KABI_ENOENT;
}

Status Store::entry_blocks_needed(const InodeRecord& directory, uint32_t* needed) const {
    uint64_t offset = 0;
    bool found = false;
    Status status = find_record(directory, false, &offset, &found);
    if (status.is_error()) return status;
    if (found) {
        *needed = 0;
        return Status::ok();
    }
    uint64_t logical = directory.size / kBlockSize;
    if (logical >= layout::kMaximumFileBlocks) return UMKA_KABI_ENOSPC;
    *needed = blocks_needed(directory, logical);
    return Status::ok();
}

Status Store::add_entry(uint64_t directory, const char* name, uint32_t length, uint64_t child,
                        NodeKind kind) const {
    InodeRecord record{};
    Status status = load_directory(directory, &record);
    if (status.is_error()) return status;
    uint64_t offset = 0;
    bool found = false;
    if ((status = find_record(record, false, &offset, &found)).is_error()) return status;
    if (!found) {
        uint64_t logical = record.size / kBlockSize;
        uint32_t number = 0;
        status = map_block_for_write(&record, logical, &number);
        if (status.is_error()) {
            store_inode(directory, record);  // keeps any map block the attempt allocated
            return status == UMKA_KABI_EFBIG ? Status(UMKA_KABI_ENOSPC) : status;
        }
        record.size += kBlockSize;
        offset = block_offset(number);
    }
    DirectoryRecord entry{};
    entry.inode = child;
    entry.kind = static_cast<uint8_t>(kind);
    entry.name_length = static_cast<uint8_t>(length);
    __builtin_memcpy(entry.name, name, length);
    if (!store(offset, entry)) return UMKA_KABI_EBADMSG;
    store_inode(directory, record);
    return Status::ok();
}

Status Store::remove_entry(uint64_t directory, uint64_t slot) const {
    InodeRecord record{};
    Status status = load_directory(directory, &record);
    if (status.is_error()) return status;
    uint64_t offset = 0;
    if ((status = record_offset(record, slot, &offset)).is_error()) return status;
    store(offset, DirectoryRecord{});
    // Give back trailing blocks that hold no entry; cookies past them simply end the listing.
    while (record.size > 0) {
        uint64_t last = record.size / kBlockSize - 1;
        bool empty = true;
        for (uint64_t index = 0; index < kRecordsPerBlock && empty; ++index) {
            uint64_t inode = 0;
            if (record_offset(record, last * kRecordsPerBlock + index, &offset).is_error() ||
                !load(offset, &inode)) {
                empty = false;
            }
            empty = empty && inode == 0;
        }
        if (!empty) break;
        (void)free_blocks_from(&record, last);
        record.size -= kBlockSize;
    }
    store_inode(directory, record);
    return Status::ok();
}

Status Store::find_record(const InodeRecord& directory, bool in_use, uint64_t* offset,
                          bool* found) const {
    uint64_t slots = detail::record_slots(directory);
    for (uint64_t index = 0; index < slots; ++index) {
        uint64_t inode = 0;
        Status status = record_offset(directory, index, offset);
        if (status.is_error()) return status;
        if (!load(*offset, &inode)) return UMKA_KABI_EBADMSG;
        if ((inode != 0) == in_use) {
            *found = true;
            return Status::ok();
        }
    }
    *found = false;
    return Status::ok();
}

Status Store::directory_is_empty(const InodeRecord& directory, bool* empty) const {
    uint64_t offset = 0;
    bool found = false;
    Status status = find_record(directory, true, &offset, &found);
    if (status.is_ok()) *empty = !found;
    return status;
}

Status Store::prepare_entry(uint64_t directory, const char* name, uint32_t length,
                            InodeRecord* parent) const {
    Status status = load_directory(directory, parent);
    if (status.is_error()) return status;
    if (parent->link_count == 0) return UMKA_KABI_ENOENT;
    if ((status = file_names::validate(name, length)).is_error()) return status;
    uint64_t slot = 0;
    if (find_entry(*parent, name, length, &slot, nullptr).is_ok()) return UMKA_KABI_EEXIST;
    return Status::ok();
}

Status Store::is_ancestor(uint64_t ancestor, uint64_t directory, bool* result) const {
    uint64_t current = directory;
    // A tree cannot be deeper than it has inodes; a longer walk means a corrupt ".." cycle.
    for (uint64_t steps = 0; steps <= header().inode_count; ++steps) {
        if (current == ancestor) {
            *result = true;
            return Status::ok();
        }
        if (current == kRootInode) {
            *result = false;
            return Status::ok();
        }
        InodeRecord record{};
        if (load_directory(current, &record).is_error()) return UMKA_KABI_EBADMSG;
        current = record.parent;
    }
    return UMKA_KABI_EBADMSG;
}

Status Store::lookup(uint64_t directory, const char* name, uint32_t length, uint64_t* inode) const {
    if (inode == nullptr) return UMKA_KABI_EINVAL;
    InodeRecord record{};
    Status status = load_directory(directory, &record);
    if (status.is_error()) return status;
    if (name == nullptr || length == 0) return UMKA_KABI_ENOENT;
    if (length > kMaximumNameLength) return UMKA_KABI_ENAMETOOLONG;
    if (length == 1 && name[0] == '.') {
        *inode = directory;
        return Status::ok();
    }
    if (file_names::is_dot_or_dot_dot(name, length)) {
        *inode = record.link_count == 0 ? directory : record.parent;
        return Status::ok();
    }
    uint64_t slot = 0;
    DirectoryRecord found;
    if ((status = find_entry(record, name, length, &slot, &found)).is_error()) return status;
    *inode = found.inode;
    return Status::ok();
}

Status Store::create(uint64_t directory, const char* name, uint32_t length, NodeKind kind,
                     uint32_t permissions, uint64_t now_ns, uint64_t* inode) {
    if (inode == nullptr) return UMKA_KABI_EINVAL;
    if (kind != NodeKind::Regular && kind != NodeKind::Directory) return UMKA_KABI_EINVAL;
    InodeRecord parent{};
    Status status = prepare_entry(directory, name, length, &parent);
    if (status.is_error()) return status;
    bool directory_kind = kind == NodeKind::Directory;
    if (directory_kind && parent.link_count >= layout::kMaximumLinks) return UMKA_KABI_EMLINK;
    uint32_t needed = 0;
    if ((status = entry_blocks_needed(parent, &needed)).is_error()) return status;
    if (header().free_blocks < needed || header().free_inodes == 0) return UMKA_KABI_ENOSPC;

    uint64_t created = 0;
    if ((status = allocate_inode(&created)).is_error()) return status;
    InodeRecord record =
        detail::fresh_inode(kind, permissions, directory_kind ? directory : 0, now_ns);
    store_inode(created, record);
    if ((status = add_entry(directory, name, length, created, kind)).is_error()) {
        free_inode(created);
        return status;
    }
    if (directory_kind) (void)adjust_links(directory, 1, now_ns);
    touch(directory, now_ns);
    *inode = created;
    return Status::ok();
}

Status Store::link(uint64_t directory, const char* name, uint32_t length, uint64_t inode,
                   uint64_t now_ns) {
    InodeRecord target{};
    Status status = load_inode(inode, &target);
    if (status.is_error()) return status;
    if (target.kind == kDirectoryKind) return UMKA_KABI_EPERM;
    if (target.link_count == 0) return UMKA_KABI_ENOENT;
    if (target.link_count >= layout::kMaximumLinks) return UMKA_KABI_EMLINK;
    InodeRecord parent{};
    if ((status = prepare_entry(directory, name, length, &parent)).is_error()) return status;
    status = add_entry(directory, name, length, inode, static_cast<NodeKind>(target.kind));
    if (status.is_error()) return status;
    (void)adjust_links(inode, 1, now_ns);
    touch(directory, now_ns);
    return Status::ok();
}

Status Store::unlink(uint64_t directory, const char* name, uint32_t length, uint64_t now_ns) {
    InodeRecord parent{};
    Status status = load_directory(directory, &parent);
    if (status.is_error()) return status;
    if (name == nullptr || length == 0) return UMKA_KABI_ENOENT;
    if (length > kMaximumNameLength) return UMKA_KABI_ENAMETOOLONG;
    if (file_names::is_dot_or_dot_dot(name, length)) return UMKA_KABI_EISDIR;
    uint64_t slot = 0;
    DirectoryRecord found;
    if ((status = find_entry(parent, name, length, &slot, &found)).is_error()) return status;
    InodeRecord child{};
    if (load_inode(found.inode, &child).is_error()) return UMKA_KABI_EBADMSG;
    if (child.kind == kDirectoryKind) return UMKA_KABI_EISDIR;
    if ((status = remove_entry(directory, slot)).is_error()) return status;
    touch(directory, now_ns);
    drop_link(found.inode, now_ns);
    return Status::ok();
}

Status Store::remove_directory(uint64_t directory, const char* name, uint32_t length,
                               uint64_t now_ns) {
    InodeRecord parent{};
    Status status = load_directory(directory, &parent);
    if (status.is_error()) return status;
    if (name == nullptr || length == 0) return UMKA_KABI_ENOENT;
    if (length > kMaximumNameLength) return UMKA_KABI_ENAMETOOLONG;
    if (length == 1 && name[0] == '.') return UMKA_KABI_EINVAL;
    if (file_names::is_dot_or_dot_dot(name, length)) {
        return directory == kRootInode ? UMKA_KABI_EBUSY : UMKA_KABI_ENOTEMPTY;
    }
    uint64_t slot = 0;
    DirectoryRecord found;
    if ((status = find_entry(parent, name, length, &slot, &found)).is_error()) return status;
    if (found.inode == kRootInode) return UMKA_KABI_EBUSY;
    InodeRecord child{};
    status = load_inode(found.inode, &child);
    if (status.is_error()) return UMKA_KABI_EBADMSG;
    if (child.kind != kDirectoryKind) return UMKA_KABI_ENOTDIR;
    bool empty = false;
    if ((status = directory_is_empty(child, &empty)).is_error()) return status;
    if (!empty) return UMKA_KABI_ENOTEMPTY;
    if ((status = remove_entry(directory, slot)).is_error()) return status;
    (void)adjust_links(directory, -1, now_ns);
    touch(directory, now_ns);
    drop_link(found.inode, now_ns);
    return Status::ok();
}

Status Store::rename(uint64_t from_directory, const char* from_name, uint32_t from_length,
                     uint64_t to_directory, const char* to_name, uint32_t to_length,
                     uint64_t now_ns) {
    InodeRecord from{};
    InodeRecord to{};
    Status status = load_directory(from_directory, &from);
    if (status.is_error()) return status;
    if ((status = load_directory(to_directory, &to)).is_error()) return status;
    if ((status = file_names::validate(from_name, from_length)).is_error()) return status;
    if ((status = file_names::validate(to_name, to_length)).is_error()) return status;
    uint64_t source_slot = 0;
    DirectoryRecord source;
    status = find_entry(from, from_name, from_length, &source_slot, &source);
    if (status.is_error()) return status;
    InodeRecord moved{};
    if (load_inode(source.inode, &moved).is_error()) return UMKA_KABI_EBADMSG;
    uint64_t target_slot = 0;
    DirectoryRecord target;
    status = find_entry(to, to_name, to_length, &target_slot, &target);
    if (status.is_error() && status != UMKA_KABI_ENOENT) return status;
    bool replacing = status.is_ok();
    if (replacing && target.inode == source.inode) return Status::ok();

    bool moving_directory = moved.kind == kDirectoryKind;
    if (moving_directory) {
        bool inside = false;
        if ((status = is_ancestor(source.inode, to_directory, &inside)).is_error()) return status;
        if (inside) return UMKA_KABI_EINVAL;
    }
    bool replacing_directory = false;
    if (replacing) {
        InodeRecord replaced{};
        if (load_inode(target.inode, &replaced).is_error()) return UMKA_KABI_EBADMSG;
        replacing_directory = replaced.kind == kDirectoryKind;
        if (moving_directory && !replacing_directory) return UMKA_KABI_ENOTDIR;
        if (!moving_directory && replacing_directory) return UMKA_KABI_EISDIR;
        if (replacing_directory) {
            bool empty = false;
            if ((status = directory_is_empty(replaced, &empty)).is_error()) return status;
            if (!empty) return UMKA_KABI_ENOTEMPTY;
        }
        // Pointing the existing record at the moved inode needs no block, so a replacing
        // rename cannot fail for space once it starts changing the arena.
        uint64_t offset = 0;
        if ((status = record_offset(to, target_slot, &offset)).is_error()) return status;
        target.kind = source.kind;
        uint64_t replaced_inode = target.inode;
        target.inode = source.inode;
        if (!store(offset, target)) return UMKA_KABI_EBADMSG;
        target.inode = replaced_inode;
    } else {
        if (to.link_count == 0) return UMKA_KABI_ENOENT;
        if (moving_directory && from_directory != to_directory &&
            to.link_count >= layout::kMaximumLinks) {
            return UMKA_KABI_EMLINK;
        }
        // The only step that can fail for space comes first, before anything else changes.
        status = add_entry(to_directory, to_name, to_length, source.inode,
                           static_cast<NodeKind>(source.kind));
        if (status.is_error()) return status;
    }
    (void)remove_entry(from_directory, source_slot);

    if (load_inode(source.inode, &moved).is_ok()) {
        if (moving_directory) moved.parent = to_directory;
        moved.changed_ns = now_ns;
        store_inode(source.inode, moved);
    }
    if (moving_directory && from_directory != to_directory) {
        (void)adjust_links(from_directory, -1, now_ns);
        (void)adjust_links(to_directory, 1, now_ns);
    }
    if (replacing) {
        if (replacing_directory) (void)adjust_links(to_directory, -1, now_ns);
        drop_link(target.inode, now_ns);
    }
    touch(from_directory, now_ns);
    touch(to_directory, now_ns);
    return Status::ok();
}

Status Store::read_directory(uint64_t directory, uint64_t cookie, Entry* entry,
                             uint64_t* next_cookie) const {
    if (entry == nullptr || next_cookie == nullptr) return UMKA_KABI_EINVAL;
    InodeRecord record{};
    Status status = load_directory(directory, &record);
    if (status.is_error()) return status;
    // Cookies 0 and 1 are "." and ".."; cookie n >= 2 resumes at record slot n - 2.
    if (cookie < 2) {
        entry->inode = cookie == 0 || record.link_count == 0 ? directory : record.parent;
        entry->kind = NodeKind::Directory;
        entry->name_length = static_cast<uint32_t>(cookie + 1);
        __builtin_memset(entry->name, 0, sizeof(entry->name));
        __builtin_memset(entry->name, '.', cookie + 1);
        *next_cookie = cookie + 1;
        return Status::ok();
    }
    uint64_t slots = detail::record_slots(record);
    for (uint64_t index = cookie - 2; index < slots; ++index) {
        uint64_t offset = 0;
        if ((status = record_offset(record, index, &offset)).is_error()) return status;
        DirectoryRecord found;
        if (!load(offset, &found)) return UMKA_KABI_EBADMSG;
        if (found.inode == 0) continue;
        if (found.name_length == 0 || found.kind > static_cast<uint8_t>(NodeKind::Symlink)) {
            return UMKA_KABI_EBADMSG;
        }
        entry->inode = found.inode;
        entry->kind = static_cast<NodeKind>(found.kind);
        entry->name_length = found.name_length;
        __builtin_memcpy(entry->name, found.name, found.name_length);
        entry->name[found.name_length] = '\0';
        *next_cookie = index + 3;
        return Status::ok();
    }
    return UMKA_KABI_ENOENT;
}

Status Store::symlink(uint64_t directory, const char* name, uint32_t length, const char* target,
                      uint32_t target_length, uint64_t now_ns, uint64_t* inode) {
    if (inode == nullptr || target == nullptr || target_length == 0) return UMKA_KABI_EINVAL;
    if (target_length > kMaximumLinkTarget) return UMKA_KABI_ENAMETOOLONG;
    InodeRecord parent{};
    Status status = prepare_entry(directory, name, length, &parent);
    if (status.is_error()) return status;
    uint32_t needed = 0;
    if ((status = entry_blocks_needed(parent, &needed)).is_error()) return status;
    if (header().free_blocks < needed + 1) return UMKA_KABI_ENOSPC;
    if (header().free_inodes == 0) return UMKA_KABI_ENOSPC;

    uint64_t created = 0;
    if ((status = allocate_inode(&created)).is_error()) return status;
    InodeRecord record = detail::fresh_inode(NodeKind::Symlink, 0777, 0, now_ns);
    uint64_t written = 0;
    if ((status = write_into(&record, 0, target, target_length, &written)).is_ok()) {
        record.size = target_length;
        store_inode(created, record);
        status = add_entry(directory, name, length, created, NodeKind::Symlink);
    }
    if (status.is_error()) {
        store_inode(created, record);
        free_inode(created);
        return status;
    }
    touch(directory, now_ns);
    *inode = created;
    return Status::ok();
}

void Store::touch(uint64_t inode, uint64_t now_ns) const {
    InodeRecord record{};
    if (load_inode(inode, &record).is_error()) return;
    record.modified_ns = now_ns;
    record.changed_ns = now_ns;
    store_inode(inode, record);
}

Status Store::adjust_links(uint64_t inode, int32_t delta, uint64_t now_ns) const {
    InodeRecord record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    if (delta < 0 && record.link_count < static_cast<uint32_t>(-delta)) return UMKA_KABI_EBADMSG;
    record.link_count = static_cast<uint32_t>(static_cast<int64_t>(record.link_count) + delta);
    record.changed_ns = now_ns;
    store_inode(inode, record);
    return Status::ok();
}

void Store::drop_link(uint64_t inode, uint64_t now_ns) const {
    InodeRecord record{};
    if (load_inode(inode, &record).is_error()) return;
    if (record.kind == static_cast<uint8_t>(NodeKind::Directory)) {
        // A removed directory is empty; "." and its entry go together.
        (void)free_blocks_from(&record, 0);
        record.size = 0;
        record.link_count = 0;
    } else if (record.link_count > 0) {
        record.link_count -= 1;
    }
    record.changed_ns = now_ns;
    store_inode(inode, record);
    if (record.link_count == 0 && record.references == 0) free_inode(inode);
}

}  // namespace umka::tmpfs
