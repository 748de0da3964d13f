// The indirect block map: twelve direct pointers, then single, double and triple indirect
// map blocks of block_size / 4 pointers. Holes are zero pointers at any level. i_blocks
// counts data and map blocks (and an extended-attribute block) in 512-byte units.
#include "ext2_block_cache.h"

namespace umka::ext2 {

using layout::kDirectBlocks;

Status Volume::map_path(uint64_t logical, Path* path) const {
    uint64_t per = header()->addresses_per_block;
    if (logical < kDirectBlocks) {
        *path = Path{static_cast<uint32_t>(logical), 0, {0, 0, 0}};
        return Status::ok();
    }
    logical -= kDirectBlocks;
    if (logical < per) {
        *path = Path{layout::kSingleIndirect, 1, {static_cast<uint32_t>(logical), 0, 0}};
        return Status::ok();
    }
    logical -= per;
    if (logical < per * per) {
        *path =
            Path{layout::kDoubleIndirect,
                 2,
                 {static_cast<uint32_t>(logical / per), static_cast<uint32_t>(logical % per), 0}};
        return Status::ok();
    }
    logical -= per * per;
    if (logical < per * per * per) {
        *path = Path{
            layout::kTripleIndirect,
            3,
            {static_cast<uint32_t>(logical / (per * per)),
             static_cast<uint32_t>(logical / per % per), static_cast<uint32_t>(logical % per)}};
        return Status::ok();
    }
    return UMKA_KABI_EFBIG;
}

Status Volume::map_block(const Inode& record, uint64_t logical, uint32_t* block) {
    *block = 0;
    Path path{};
    Status status = map_path(logical, &path);
    if (status.is_error()) return status;
    uint32_t current = record.block[path.root];
    for (uint32_t level = 0; level < path.depth && current != 0; ++level) {
        if (!valid_data_block(current)) return corrupt();
        Buffer buffer;
        if ((status = get_block(current, Fill::Read, &buffer)).is_error()) return status;
        if (!buffer.load(uint64_t{path.index[level]} * 4, &current)) return corrupt();
    }
    if (current != 0 && !valid_data_block(current)) return corrupt();
    *block = current;
    return Status::ok();
}

Status Volume::blocks_needed(const Inode& record, uint64_t logical, uint32_t* needed) {
    Path path{};
    Status status = map_path(logical, &path);
    if (status.is_error()) return status;
    uint32_t current = record.block[path.root];
    uint32_t level = 0;
    for (; level < path.depth && current != 0; ++level) {
        if (!valid_data_block(current)) return corrupt();
        Buffer buffer;
        if ((status = get_block(current, Fill::Read, &buffer)).is_error()) return status;
        if (!buffer.load(uint64_t{path.index[level]} * 4, &current)) return corrupt();
    }
    // The level that is missing and every level below it, the data block included.
    *needed = current != 0 ? 0 : path.depth - level + 1;
    return Status::ok();
}

void Volume::add_blocks(Inode* record, int64_t count) const {
    int64_t units = count * static_cast<int64_t>(block_size() / 512);
    int64_t result = static_cast<int64_t>(record->blocks) + units;
    record->blocks = result < 0 ? 0 : static_cast<uint32_t>(result);
}

Status Volume::map_block_for_write(uint64_t inode, Inode* record, uint64_t logical, bool* fresh,
                                   uint32_t* block) {
    *fresh = false;
    Status status = map_block(*record, logical, block);
    if (status.is_error() || *block != 0) return status;
    uint32_t needed = 0;
    if ((status = blocks_needed(*record, logical, &needed)).is_error()) return status;
    // Reserve everything up front so a full disk never leaves a half-built map behind.
    if (free_blocks() < needed) return UMKA_KABI_ENOSPC;

    // Place the block right after its predecessor, or at the start of the inode's group.
    uint32_t goal = 0;
    if (logical > 0 && map_block(*record, logical - 1, &goal).is_ok() && goal != 0) {
        goal += 1;
    } else {
        goal = group_first_block(static_cast<uint32_t>((inode - 1) / header()->inodes_per_group));
    }
    Path path{};
    if ((status = map_path(logical, &path)).is_error()) return status;
    auto allocate = [&](uint32_t* into, bool zero) -> Status {
        Status result = allocate_block(goal, into);
        if (result.is_error()) return result;
        goal = *into + 1;
        add_blocks(record, 1);
        if (!zero) return Status::ok();
        Buffer fill;
        return get_block(*into, Fill::Zero, &fill);
    };
    uint32_t* slot_in_inode = &record->block[path.root];
    if (*slot_in_inode == 0) {
        if ((status = allocate(slot_in_inode, path.depth > 0)).is_error()) return status;
        if (path.depth == 0) {
            *fresh = true;
            *block = *slot_in_inode;
            return Status::ok();
        }
    }
    uint32_t current = *slot_in_inode;
    for (uint32_t level = 0; level < path.depth; ++level) {
        if (!valid_data_block(current)) return corrupt();
        Buffer buffer;
        if ((status = get_block(current, Fill::Read, &buffer)).is_error()) return status;
        uint64_t offset = uint64_t{path.index[level]} * 4;
        uint32_t next = 0;
        if (!buffer.load(offset, &next)) return corrupt();
        if (next == 0) {
            bool data = level + 1 == path.depth;
            buffer.release();
            if ((status = allocate(&next, !data)).is_error()) return status;
            if ((status = get_block(current, Fill::Read, &buffer)).is_error()) return status;
            if (!buffer.store(offset, next)) return corrupt();
            if (data) *fresh = true;
        }
        current = next;
    }
    if (!valid_data_block(current)) return corrupt();
    *block = current;
    return Status::ok();
}

Status Volume::free_tree(uint32_t block, uint32_t level, uint64_t base, uint64_t first,
                         Inode* record) {
    if (!valid_data_block(block)) return corrupt();
    uint64_t per = header()->addresses_per_block;
    uint64_t span = 1;
    for (uint32_t step = 1; step < level; ++step) span *= per;
    Buffer buffer;
    Status status = get_block(block, Fill::Read, &buffer);
    if (status.is_error()) return status;
    for (uint64_t index = 0; index < per; ++index) {
        uint64_t child_base = base + index * span;
        if (child_base + span <= first) continue;
        uint32_t child = 0;
        if (!buffer.load(index * 4, &child)) return corrupt();
        if (child == 0) continue;
        if (level > 1) {
            // The child stays pinned in its own Buffer only during the recursion.
            if ((status = free_tree(child, level - 1, child_base, first, record)).is_error()) {
                return status;
            }
            if (child_base < first) continue;  // partly kept: the map block stays
        }
        if ((status = release_block(child)).is_error()) return status;
        add_blocks(record, -1);
        if (!buffer.store(index * 4, uint32_t{0})) return corrupt();
    }
    return Status::ok();
}

Status Volume::free_blocks_from(Inode* record, uint64_t first) {
    Status status = Status::ok();
    for (uint64_t index = first; index < kDirectBlocks; ++index) {
        if (record->block[index] == 0) continue;
        if ((status = release_block(record->block[index])).is_error()) return status;
        record->block[index] = 0;
        add_blocks(record, -1);
    }
    uint64_t per = header()->addresses_per_block;
    uint64_t base = kDirectBlocks;
    uint64_t span = per;
    for (uint32_t root = layout::kSingleIndirect; root <= layout::kTripleIndirect; ++root) {
        uint32_t level = root - layout::kSingleIndirect + 1;
        uint32_t table = record->block[root];
        if (table != 0 && base + span > first) {
            if ((status = free_tree(table, level, base, first, record)).is_error()) return status;
            if (base >= first) {
                if ((status = release_block(table)).is_error()) return status;
                record->block[root] = 0;
                add_blocks(record, -1);
            }
        }
        base += span;
        span *= per;
    }
    return Status::ok();
}

bool Volume::is_fast_symlink(const Inode& record) const {
    if ((record.mode & layout::kTypeMask) != layout::kTypeSymlink) return false;
    uint32_t attribute_units = record.file_acl != 0 ? block_size() / 512 : 0;
    return record.blocks <= attribute_units;
}

Status Volume::release_attribute_block(Inode* record) {
    uint32_t block = record->file_acl;
    if (block == 0) return Status::ok();
    record->file_acl = 0;
    add_blocks(record, -1);
    if (!valid_data_block(block)) return corrupt();
    Buffer buffer;
    Status status = get_block(block, Fill::Read, &buffer);
    if (status.is_error()) return status;
    uint32_t magic = 0;
    uint32_t references = 0;
    if (!buffer.load(0, &magic) || !buffer.load(4, &references) ||
        magic != layout::kAttributeBlockMagic || references == 0) {
        return corrupt();
    }
    // Shared attribute blocks are counted; only the last user frees one.
    if (references > 1) {
        buffer.store(4, references - 1);
        return Status::ok();
    }
    buffer.release();
    return release_block(block);
}

Status Volume::free_inode(uint64_t inode, Inode* record, uint64_t now_ns) {
    bool valid = false;
    NodeKind kind = detail::kind_of(record->mode, &valid);
    Status status = Status::ok();
    // Device, fifo and socket inodes and fast symlinks keep no block numbers in i_block.
    bool mapped = valid && (kind == NodeKind::Regular || kind == NodeKind::Directory ||
                            (kind == NodeKind::Symlink && !is_fast_symlink(*record)));
    if (mapped) status = free_blocks_from(record, 0);
    if (status.is_ok()) status = release_attribute_block(record);
    if (status.is_error()) {
        // Leave the inode in use: its map is corrupt, and freeing half of it is worse.
        (void)store_inode(inode, *record);
        return status;
    }
    record->links_count = 0;
    // 0 means "in use" to e2fsck, and a clock without a wall time starts at 0.
    uint32_t deleted_at = seconds(now_ns);
    record->delete_time = deleted_at == 0 ? 1 : deleted_at;
    record->size = 0;
    record->size_high = 0;
    record->blocks = 0;
    __builtin_memset(record->block, 0, sizeof(record->block));
    if ((status = store_inode(inode, *record)).is_error()) return status;
    return release_inode_number(inode, kind == NodeKind::Directory);
}

}  // namespace umka::ext2
