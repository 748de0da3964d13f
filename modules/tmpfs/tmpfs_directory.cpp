// Directories (records, lookup, create, link, unlink, rmdir, rename, listing) and the
// consistency check.
#include "tmpfs_store.h"

namespace umka::tmpfs {

using layout::ArenaHeader;
using layout::DirectoryRecord;
using layout::InodeRecord;
using layout::kRecordSize;
using layout::kRecordsPerBlock;

namespace {

constexpr uint8_t kDirectoryKind = static_cast<uint8_t>(NodeKind::Directory);

uint64_t capacity(const InodeRecord& directory) {
    return directory.size / kBlockSize * kRecordsPerBlock;
}

bool same_name(const DirectoryRecord& record, const char* name, uint32_t length) {
    return record.name_length == length && __builtin_memcmp(record.name, name, length) == 0;
}

// Not __builtin_popcountll: without -mpopcnt it calls libgcc, which modules do not link.
uint64_t count_bits(uint64_t word) {
    uint64_t count = 0;
    for (; word != 0; word &= word - 1) ++count;
    return count;
}

// Steps of the walk that proves every directory hangs off the root.
enum class ReachState : uint32_t { Unknown = 0, OnPath = 1, Reaches = 2 };

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
    uint64_t slots = capacity(directory);
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
    uint64_t slots = capacity(directory);
    for (uint64_t index = 0; index < slots; ++index) {
        uint64_t offset = 0;
        uint64_t inode = 0;
        Status status = record_offset(directory, index, &offset);
        if (status.is_error()) return status;
        if (!load(offset, &inode)) return UMKA_KABI_EBADMSG;
        if (inode == 0) {
            *needed = 0;
            return Status::ok();
        }
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
    uint64_t slots = capacity(record);
    uint64_t offset = 0;
    bool found = false;
    for (uint64_t index = 0; index < slots && !found; ++index) {
        uint64_t inode = 0;
        if ((status = record_offset(record, index, &offset)).is_error()) return status;
        if (!load(offset, &inode)) return UMKA_KABI_EBADMSG;
        found = inode == 0;
    }
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

Status Store::directory_is_empty(const InodeRecord& directory, bool* empty) const {
    uint64_t slots = capacity(directory);
    for (uint64_t index = 0; index < slots; ++index) {
        uint64_t offset = 0;
        uint64_t inode = 0;
        Status status = record_offset(directory, index, &offset);
        if (status.is_error()) return status;
        if (!load(offset, &inode)) return UMKA_KABI_EBADMSG;
        if (inode != 0) {
            *empty = false;
            return Status::ok();
        }
    }
    *empty = true;
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
    if (detail::is_dot_or_dot_dot(name, length)) {
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
    Status status = load_directory(directory, &parent);
    if (status.is_error()) return status;
    if (parent.link_count == 0) return UMKA_KABI_ENOENT;
    if ((status = detail::validate_name(name, length)).is_error()) return status;
    uint64_t slot = 0;
    if (find_entry(parent, name, length, &slot, nullptr).is_ok()) return UMKA_KABI_EEXIST;
    bool directory_kind = kind == NodeKind::Directory;
    if (directory_kind && parent.link_count >= layout::kMaximumLinks) return UMKA_KABI_EMLINK;
    uint32_t needed = 0;
    if ((status = entry_blocks_needed(parent, &needed)).is_error()) return status;
    if (header().free_blocks < needed || header().free_inodes == 0) return UMKA_KABI_ENOSPC;

    uint64_t created = 0;
    if ((status = allocate_inode(&created)).is_error()) return status;
    InodeRecord record{};
    record.mode = detail::type_bits(kind) | (permissions & 07777);
    record.link_count = directory_kind ? 2 : 1;
    record.kind = static_cast<uint8_t>(kind);
    record.parent = directory_kind ? directory : 0;
    record.modified_ns = now_ns;
    record.changed_ns = now_ns;
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
    if ((status = load_directory(directory, &parent)).is_error()) return status;
    if (parent.link_count == 0) return UMKA_KABI_ENOENT;
    if ((status = detail::validate_name(name, length)).is_error()) return status;
    uint64_t slot = 0;
    if (find_entry(parent, name, length, &slot, nullptr).is_ok()) return UMKA_KABI_EEXIST;
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
    if (detail::is_dot_or_dot_dot(name, length)) return UMKA_KABI_EISDIR;
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
    if (detail::is_dot_or_dot_dot(name, length)) {
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
    if ((status = detail::validate_name(from_name, from_length)).is_error()) return status;
    if ((status = detail::validate_name(to_name, to_length)).is_error()) return status;
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
    uint64_t slots = capacity(record);
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

uint64_t Store::scratch_offset(uint64_t inode) const {
    return uint64_t{header().scratch_block} * kBlockSize +
           (inode - 1) * sizeof(layout::CheckScratch);
}

bool Store::mark_visited(uint32_t number) const {
    if (!block_is_used(number)) return false;
    ArenaHeader header = this->header();
    uint64_t counts = uint64_t{header.inode_count} * sizeof(layout::CheckScratch);
    uint64_t offset = uint64_t{header.scratch_block} * kBlockSize +
                      (counts + kBlockSize - 1) / kBlockSize * kBlockSize + (number - 1) / 8;
    uint8_t byte = 0;
    uint8_t bit = static_cast<uint8_t>(1u << ((number - 1) % 8));
    if (!load(offset, &byte) || (byte & bit) != 0) return false;
    return store(offset, static_cast<uint8_t>(byte | bit));
}

Status Store::check_inode_blocks(uint64_t inode, const InodeRecord& record) const {
    (void)inode;
    uint64_t data_blocks = 0;
    uint64_t all_blocks = 0;
    uint64_t end = (record.size + kBlockSize - 1) / kBlockSize;  // first logical past the data
    bool ok = true;
    auto visit_map = [&](uint32_t number) {
        ok = ok && mark_visited(number);
        all_blocks += 1;
    };
    auto visit_data = [&](uint32_t number, uint64_t logical) {
        visit_map(number);
        ok = ok && logical < end;
        data_blocks += 1;
    };
    auto visit_table = [&](uint32_t table_number, uint64_t base) {
        visit_map(table_number);
        uint64_t table = block_offset(table_number);
        for (uint64_t index = 0; ok && index < layout::kNumbersPerBlock; ++index) {
            uint32_t number = 0;
            ok = load(table + index * 4, &number);
            if (ok && number != 0) visit_data(number, base + index);
        }
    };
    for (uint32_t index = 0; ok && index < layout::kDirectBlocks; ++index) {
        if (record.direct[index] != 0) visit_data(record.direct[index], index);
    }
    if (ok && record.single_indirect != 0) {
        visit_table(record.single_indirect, layout::kDirectBlocks);
    }
    if (ok && record.double_indirect != 0) {
        visit_map(record.double_indirect);
        uint64_t outer = block_offset(record.double_indirect);
        for (uint64_t slot = 0; ok && slot < layout::kNumbersPerBlock; ++slot) {
            uint32_t inner = 0;
            ok = load(outer + slot * 4, &inner);
            uint64_t base =
                layout::kDirectBlocks + layout::kNumbersPerBlock + slot * layout::kNumbersPerBlock;
            if (ok && inner != 0) visit_table(inner, base);
        }
    }
    if (!ok || all_blocks != record.allocated_blocks) return UMKA_KABI_EBADMSG;
    // Directories and symlinks are never sparse: every block below the size is present.
    if (record.kind != static_cast<uint8_t>(NodeKind::Regular) && data_blocks != end) {
        return UMKA_KABI_EBADMSG;
    }
    if (record.kind == static_cast<uint8_t>(NodeKind::Symlink) && record.size == 0) {
        return UMKA_KABI_EBADMSG;
    }
    return Status::ok();
}

Status Store::check_directory(uint64_t inode, const InodeRecord& record) const {
    uint64_t slots = capacity(record);
    layout::CheckScratch own{};
    for (uint64_t index = 0; index < slots; ++index) {
        uint64_t offset = 0;
        DirectoryRecord entry;
        if (record_offset(record, index, &offset).is_error() || !load(offset, &entry)) {
            return UMKA_KABI_EBADMSG;
        }
        if (entry.inode == 0) continue;
        InodeRecord child{};
        if (detail::validate_name(entry.name, entry.name_length).is_error() ||
            entry.inode == kRootInode || entry.inode == inode ||
            load_inode(entry.inode, &child).is_error() || child.kind != entry.kind) {
            return UMKA_KABI_EBADMSG;
        }
        if (child.kind == kDirectoryKind) {
            if (child.parent != inode) return UMKA_KABI_EBADMSG;
            own.subdirectories += 1;
        }
        layout::CheckScratch counts{};
        if (!load(scratch_offset(entry.inode), &counts)) return UMKA_KABI_EBADMSG;
        counts.entries += 1;
        store(scratch_offset(entry.inode), counts);
    }
    layout::CheckScratch counts{};
    if (!load(scratch_offset(inode), &counts)) return UMKA_KABI_EBADMSG;
    counts.subdirectories = own.subdirectories;
    store(scratch_offset(inode), counts);
    return Status::ok();
}

Status Store::check_reachable(uint64_t inode) const {
    // Marks the path OnPath while climbing, so meeting a mark again is a ".." cycle; a walk
    // that reaches the root (or a directory already proven) marks its path Reaches, which
    // keeps the whole check linear.
    uint64_t limit = header().inode_count;
    for (int pass = 0; pass < 2; ++pass) {
        uint64_t current = inode;
        for (uint64_t steps = 0;; ++steps) {
            if (current == kRootInode || steps > limit) break;
            layout::CheckScratch counts{};
            InodeRecord record{};
            if (!load(scratch_offset(current), &counts) ||
                load_directory(current, &record).is_error()) {
                return UMKA_KABI_EBADMSG;
            }
            auto reach = static_cast<ReachState>(counts.reach);
            if (reach == ReachState::Reaches) break;
            if (pass == 0 && reach == ReachState::OnPath) return UMKA_KABI_EBADMSG;
            counts.reach =
                static_cast<uint32_t>(pass == 0 ? ReachState::OnPath : ReachState::Reaches);
            store(scratch_offset(current), counts);
            current = record.parent;
            if (steps == limit) return UMKA_KABI_EBADMSG;
        }
    }
    return Status::ok();
}

Status Store::check() const {
    ArenaHeader header = this->header();
    if (!detail::header_agrees(header, length_)) return UMKA_KABI_EBADMSG;
    uint8_t* scratch = span(uint64_t{header.scratch_block} * kBlockSize,
                            uint64_t{header.scratch_blocks} * kBlockSize);
    if (scratch == nullptr) return UMKA_KABI_EBADMSG;
    __builtin_memset(scratch, 0, uint64_t{header.scratch_blocks} * kBlockSize);

    InodeRecord root{};
    if (load_directory(kRootInode, &root).is_error() || root.parent != kRootInode) {
        return UMKA_KABI_EBADMSG;
    }
    uint64_t free_inodes = 0;
    for (uint64_t inode = 1; inode <= header.inode_count; ++inode) {
        InodeRecord record{};
        Status status = load_inode(inode, &record);
        if (status == UMKA_KABI_ENOENT) {
            free_inodes += 1;
            continue;
        }
        if (status.is_error() || check_inode_blocks(inode, record).is_error()) {
            return UMKA_KABI_EBADMSG;
        }
        if (record.kind == kDirectoryKind && check_directory(inode, record).is_error()) {
            return UMKA_KABI_EBADMSG;
        }
    }
    if (free_inodes != header.free_inodes) return UMKA_KABI_EBADMSG;

    // Every used bit must have been reached from some inode, and the counter must agree.
    uint64_t bitmap = uint64_t{header.bitmap_block} * kBlockSize;
    uint64_t visited =
        uint64_t{header.scratch_block} * kBlockSize +
        (uint64_t{header.inode_count} * sizeof(layout::CheckScratch) + kBlockSize - 1) /
            kBlockSize * kBlockSize;
    uint64_t used = 0;
    for (uint64_t word = 0; word < (uint64_t{header.data_block_count} + 63) / 64; ++word) {
        uint64_t marked = 0;
        uint64_t reached = 0;
        if (!load(bitmap + word * 8, &marked) || !load(visited + word * 8, &reached) ||
            marked != reached) {
            return UMKA_KABI_EBADMSG;
        }
        used += count_bits(marked);
    }
    if (used + header.free_blocks != header.data_block_count) return UMKA_KABI_EBADMSG;

    for (uint64_t inode = 1; inode <= header.inode_count; ++inode) {
        InodeRecord record{};
        if (load_inode(inode, &record).is_error()) continue;
        layout::CheckScratch counts{};
        if (!load(scratch_offset(inode), &counts)) return UMKA_KABI_EBADMSG;
        bool linked = true;
        if (record.kind != kDirectoryKind) {
            linked = record.link_count == counts.entries;
        } else if (inode == kRootInode) {
            linked = counts.entries == 0 && record.link_count == 2 + counts.subdirectories;
        } else if (counts.entries == 1) {
            linked =
                record.link_count == 2 + counts.subdirectories && check_reachable(inode).is_ok();
        } else {
            linked = counts.entries == 0 && record.link_count == 0 && record.size == 0;
        }
        // Only an open reference may keep an inode that no name reaches.
        if (!linked || (record.link_count == 0 && record.references == 0)) {
            return UMKA_KABI_EBADMSG;
        }
    }
    return Status::ok();
}

}  // namespace umka::tmpfs
