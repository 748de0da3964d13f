// Linear ext2 directories: blocks of variable-length entries (inode, rec_len, name_len,
// file_type, name) that tile each block exactly. Every block is checked whole when it is
// read, so no entry can point outside it. Entries are split on insert and merged into their
// predecessor on removal, as Linux ext2 does; a directory grows by whole blocks and never
// shrinks. Any change clears EXT2_INDEX_FL, since the htree is not maintained.
#include "ext2_block_cache.h"

namespace umka::ext2 {

using layout::entry_size;
using layout::EntryHeader;
using layout::kEntryHeaderSize;

namespace {

bool same_name(const uint8_t* data, uint32_t offset, const EntryHeader& entry, const char* name,
               uint32_t length) {
    return entry.name_length == length &&
           __builtin_memcmp(data + offset + kEntryHeaderSize, name, length) == 0;
}

}  // namespace

uint8_t Volume::file_type(NodeKind kind) const {
    if (header()->has_filetype == 0) return 0;
    switch (kind) {
    case NodeKind::Regular:
        return static_cast<uint8_t>(layout::FileType::Regular);
    case NodeKind::Directory:
        return static_cast<uint8_t>(layout::FileType::Directory);
    case NodeKind::Symlink:
        return static_cast<uint8_t>(layout::FileType::Symlink);
    case NodeKind::CharDevice:
        return static_cast<uint8_t>(layout::FileType::CharDevice);
    case NodeKind::BlockDevice:
        return static_cast<uint8_t>(layout::FileType::BlockDevice);
    case NodeKind::Fifo:
        return static_cast<uint8_t>(layout::FileType::Fifo);
    case NodeKind::Socket:
        return static_cast<uint8_t>(layout::FileType::Socket);
    }
    return 0;
}

bool Volume::directory_block_valid(const uint8_t* data) const {
    uint32_t size = block_size();
    for (uint32_t offset = 0; offset < size;) {
        EntryHeader entry{};
        __builtin_memcpy(&entry, data + offset, sizeof entry);
        if (entry.record_length < entry_size(1) || entry.record_length % 4 != 0 ||
            entry.record_length > size - offset) {
            return false;
        }
        uint32_t name_length = entry.name_length;
        if (header()->has_filetype == 0) name_length |= uint32_t{entry.file_type} << 8;
        if (name_length > kMaximumNameLength || entry_size(name_length) > entry.record_length) {
            return false;
        }
        if (entry.inode > header()->inodes_count) return false;
        if (entry.inode != 0 && name_length == 0) return false;
        offset += entry.record_length;
    }
    return true;
}

Status Volume::directory_block(const Inode& directory, uint64_t logical, Fill fill,
                               Buffer* buffer) {
    uint32_t block = 0;
    Status status = map_block(directory, logical, &block);
    if (status.is_error()) return status;
    if (block == 0) return corrupt();  // directories have no holes
    if ((status = get_block(block, fill, buffer)).is_error()) return status;
    if (fill != Fill::Read) return Status::ok();
    if (!directory_block_valid(buffer->data())) return corrupt();
    return Status::ok();
}

Status Volume::find_entry(const Inode& directory, const char* name, uint32_t length, Place* place) {
    uint64_t blocks = directory.size / block_size();
    for (uint64_t logical = 0; logical < blocks; ++logical) {
        Buffer buffer;
        Status status = directory_block(directory, logical, Fill::Read, &buffer);
        if (status.is_error()) return status;
        uint32_t previous = kNoPrevious;
        for (uint32_t offset = 0; offset < buffer.size();) {
            EntryHeader entry{};
            buffer.load(offset, &entry);
            if (entry.inode != 0 && same_name(buffer.data(), offset, entry, name, length)) {
                *place = Place{logical, offset, previous, entry};
                return Status::ok();
            }
            previous = offset;
            offset += entry.record_length;
        }
    }
    return UMKA_KABI_ENOENT;
}

Status Volume::entry_space(const Inode& directory, uint32_t length, uint32_t* needed_blocks) {
    uint32_t needed = entry_size(length);
    uint64_t blocks = directory.size / block_size();
    for (uint64_t logical = 0; logical < blocks; ++logical) {
        Buffer buffer;
        Status status = directory_block(directory, logical, Fill::Read, &buffer);
        if (status.is_error()) return status;
        for (uint32_t offset = 0; offset < buffer.size();) {
            EntryHeader entry{};
            buffer.load(offset, &entry);
            uint32_t used = entry.inode == 0 ? 0 : entry_size(entry.name_length);
            if (entry.record_length - used >= needed) {
                *needed_blocks = 0;
                return Status::ok();
            }
            offset += entry.record_length;
        }
    }
    if (directory.size + block_size() > 0x7FFFFFFFull) return UMKA_KABI_ENOSPC;
    return blocks_needed(directory, blocks, needed_blocks);
}

Status Volume::add_entry(uint64_t directory, Inode* record, const char* name, uint32_t length,
                         uint64_t child, NodeKind kind) {
    uint32_t needed = entry_size(length);
    uint64_t blocks = record->size / block_size();
    Buffer buffer;
    uint32_t at = 0;
    uint32_t room = 0;
    Status status = Status::ok();
    for (uint64_t logical = 0; logical < blocks && room == 0; ++logical) {
        if ((status = directory_block(*record, logical, Fill::Read, &buffer)).is_error()) {
            return status;
        }
        for (uint32_t offset = 0; offset < buffer.size();) {
            EntryHeader entry{};
            buffer.load(offset, &entry);
            uint32_t used = entry.inode == 0 ? 0 : entry_size(entry.name_length);
            if (entry.record_length - used >= needed) {
                at = offset + used;
                room = entry.record_length - used;
                if (used != 0) {
                    // Split: the live entry keeps what it needs, the rest becomes ours.
                    entry.record_length = static_cast<uint16_t>(used);
                    buffer.store(offset, entry);
                }
                break;
            }
            offset += entry.record_length;
        }
    }
    if (room == 0) {
        if (record->size + block_size() > 0x7FFFFFFFull) return UMKA_KABI_ENOSPC;
        bool fresh = false;
        uint32_t block = 0;
        status = map_block_for_write(directory, record, blocks, &fresh, &block);
        if (status.is_error()) {
            (void)store_inode(directory, *record);  // keeps map blocks a corrupt walk added
            return status == UMKA_KABI_EFBIG ? Status(UMKA_KABI_ENOSPC) : status;
        }
        if ((status = get_block(block, Fill::Zero, &buffer)).is_error()) return status;
        record->size += block_size();
        at = 0;
        room = block_size();
    }
    EntryHeader entry{static_cast<uint32_t>(child), static_cast<uint16_t>(room),
                      static_cast<uint8_t>(length), file_type(kind)};
    if (!buffer.store(at, entry) || at + kEntryHeaderSize + length > buffer.size()) {
        return corrupt();
    }
    __builtin_memcpy(buffer.data() + at + kEntryHeaderSize, name, length);
    buffer.release();
    record->flags &= ~layout::kIndexFlag;
    return store_inode(directory, *record);
}

Status Volume::remove_entry(uint64_t directory, Inode* record, const Place& place) {
    Buffer buffer;
    Status status = directory_block(*record, place.logical, Fill::Read, &buffer);
    if (status.is_error()) return status;
    EntryHeader entry{};
    if (!buffer.load(place.offset, &entry)) return corrupt();
    if (place.previous != kNoPrevious) {
        EntryHeader previous{};
        if (!buffer.load(place.previous, &previous) ||
            place.previous + previous.record_length != place.offset) {
            return corrupt();
        }
        previous.record_length =
            static_cast<uint16_t>(previous.record_length + entry.record_length);
        buffer.store(place.previous, previous);
    } else {
        entry.inode = 0;
        buffer.store(place.offset, entry);
    }
    buffer.release();
    record->flags &= ~layout::kIndexFlag;
    return store_inode(directory, *record);
}

Status Volume::set_entry_inode(uint64_t directory, Inode* record, const Place& place,
                               uint64_t child, NodeKind kind) {
    Buffer buffer;
    Status status = directory_block(*record, place.logical, Fill::Read, &buffer);
    if (status.is_error()) return status;
    EntryHeader entry{};
    if (!buffer.load(place.offset, &entry)) return corrupt();
    entry.inode = static_cast<uint32_t>(child);
    if (header()->has_filetype != 0) entry.file_type = file_type(kind);
    buffer.store(place.offset, entry);
    buffer.release();
    record->flags &= ~layout::kIndexFlag;
    return store_inode(directory, *record);
}

Status Volume::directory_is_empty(const Inode& directory, bool* empty) {
    uint64_t blocks = directory.size / block_size();
    for (uint64_t logical = 0; logical < blocks; ++logical) {
        Buffer buffer;
        Status status = directory_block(directory, logical, Fill::Read, &buffer);
        if (status.is_error()) return status;
        for (uint32_t offset = 0; offset < buffer.size();) {
            EntryHeader entry{};
            buffer.load(offset, &entry);
            const char* name =
                reinterpret_cast<const char*>(buffer.data() + offset + kEntryHeaderSize);
            if (entry.inode != 0 && !file_names::is_dot_or_dot_dot(name, entry.name_length)) {
                *empty = false;
                return Status::ok();
            }
            offset += entry.record_length;
        }
    }
    *empty = true;
    return Status::ok();
}

namespace {

// Block 0 of a directory starts with "." and then "..", as mke2fs and Linux lay it out.
bool dot_entries(const Buffer& buffer, EntryHeader* dot, EntryHeader* dot_dot) {
    if (!buffer.load(0, dot) || dot->name_length != 1 || buffer.data()[kEntryHeaderSize] != '.') {
        return false;
    }
    uint32_t second = dot->record_length;
    if (!buffer.load(second, dot_dot) || dot_dot->name_length != 2 ||
        second + kEntryHeaderSize + 2 > buffer.size()) {
        return false;
    }
    const uint8_t* name = buffer.data() + second + kEntryHeaderSize;
    return name[0] == '.' && name[1] == '.';
}

}  // namespace

Status Volume::parent_of(const Inode& record, uint64_t* parent) {
    if (record.size < block_size()) return corrupt();
    Buffer buffer;
    Status status = directory_block(record, 0, Fill::Read, &buffer);
    if (status.is_error()) return status;
    EntryHeader dot{};
    EntryHeader dot_dot{};
    if (!dot_entries(buffer, &dot, &dot_dot) || dot_dot.inode == 0) return corrupt();
    *parent = dot_dot.inode;
    return Status::ok();
}

Status Volume::set_parent(uint64_t directory, Inode* record, uint64_t parent) {
    Buffer buffer;
    Status status = directory_block(*record, 0, Fill::Read, &buffer);
    if (status.is_error()) return status;
    EntryHeader dot{};
    EntryHeader dot_dot{};
    if (!dot_entries(buffer, &dot, &dot_dot)) return corrupt();
    dot_dot.inode = static_cast<uint32_t>(parent);
    buffer.store(dot.record_length, dot_dot);
    buffer.release();
    record->flags &= ~layout::kIndexFlag;
    return store_inode(directory, *record);
}

Status Volume::is_ancestor(uint64_t ancestor, uint64_t directory, bool* result) {
    uint64_t current = directory;
    // A real chain of ".." is no longer than there are directories; a longer walk is a loop.
    uint64_t limit = uint64_t{header()->directory_count} + 2;
    for (uint64_t steps = 0; steps <= limit; ++steps) {
        if (current == ancestor) {
            *result = true;
            return Status::ok();
        }
        if (current == kRootInode) {
            *result = false;
            return Status::ok();
        }
        Inode record{};
        Status status = load_directory(current, &record);
        if (status == UMKA_KABI_EIO) return status;
        if (status.is_error()) return corrupt();
        uint64_t parent = 0;
        if ((status = parent_of(record, &parent)).is_error()) return status;
        if (parent == current) return corrupt();
        current = parent;
    }
    return corrupt();
}

Status Volume::write_new_directory(uint64_t directory, Inode* record, uint64_t parent) {
    bool fresh = false;
    uint32_t block = 0;
    Status status = map_block_for_write(directory, record, 0, &fresh, &block);
    if (status.is_error()) return status;
    Buffer buffer;
    if ((status = get_block(block, Fill::Zero, &buffer)).is_error()) return status;
    uint8_t type = file_type(NodeKind::Directory);
    EntryHeader dot{static_cast<uint32_t>(directory), static_cast<uint16_t>(entry_size(1)), 1,
                    type};
    EntryHeader dot_dot{static_cast<uint32_t>(parent),
                        static_cast<uint16_t>(block_size() - entry_size(1)), 2, type};
    buffer.store(0, dot);
    buffer.data()[kEntryHeaderSize] = '.';
    buffer.store(entry_size(1), dot_dot);
    buffer.data()[entry_size(1) + kEntryHeaderSize] = '.';
    buffer.data()[entry_size(1) + kEntryHeaderSize + 1] = '.';
    record->size = block_size();
    return Status::ok();
}

}  // namespace umka::ext2
