// Inode records and the two allocators: inode and block bitmaps, with the group descriptor
// and superblock free counts kept in step. Reserved inodes (below s_first_ino, root aside)
// are never handed out, loaded for an operation or written.
#include "ext2_block_cache.h"

namespace umka::ext2 {

using layout::GroupDescriptor;

namespace detail {

uint64_t inode_size(const layout::Inode& record) {
    if ((record.mode & layout::kTypeMask) == layout::kTypeRegular) {
        return uint64_t{record.size} | uint64_t{record.size_high} << 32;
    }
    return record.size;
}

NodeKind kind_of(uint16_t mode, bool* valid) {
    *valid = true;
    switch (mode & layout::kTypeMask) {
    case layout::kTypeRegular:
        return NodeKind::Regular;
    case layout::kTypeDirectory:
        return NodeKind::Directory;
    case layout::kTypeSymlink:
        return NodeKind::Symlink;
    case layout::kTypeCharDevice:
        return NodeKind::CharDevice;
    case layout::kTypeBlockDevice:
        return NodeKind::BlockDevice;
    case layout::kTypeFifo:
        return NodeKind::Fifo;
    case layout::kTypeSocket:
        return NodeKind::Socket;
    default:
        *valid = false;
        return NodeKind::Regular;
    }
}

uint16_t type_bits(NodeKind kind) {
    switch (kind) {
    case NodeKind::Regular:
        return layout::kTypeRegular;
    case NodeKind::Directory:
        return layout::kTypeDirectory;
    case NodeKind::Symlink:
        return layout::kTypeSymlink;
    case NodeKind::CharDevice:
        return layout::kTypeCharDevice;
    case NodeKind::BlockDevice:
        return layout::kTypeBlockDevice;
    case NodeKind::Fifo:
        return layout::kTypeFifo;
    case NodeKind::Socket:
        return layout::kTypeSocket;
    }
    return 0;
}

uint32_t seconds(uint64_t now_ns) {
    return static_cast<uint32_t>(now_ns / 1000000000ull);
}

}  // namespace detail

bool Volume::valid_inode_number(uint64_t inode) const {
    const RegionHeader* state = header();
    if (inode == 0 || inode > state->inodes_count) return false;
    return inode == kRootInode || inode >= state->first_inode;
}

bool Volume::valid_data_block(uint32_t block) const {
    return block > header()->first_data_block && block < header()->blocks_count;
}

uint32_t Volume::group_first_block(uint32_t group) const {
    return header()->first_data_block + group * header()->blocks_per_group;
}

namespace {

bool has_superblock_backup(uint32_t group, bool sparse) {
    if (group <= 1 || !sparse) return true;
    constexpr uint32_t kBases[] = {3, 5, 7};
    for (uint32_t base : kBases) {
        uint64_t power = base;
        while (power < group) power *= base;
        if (power == group) return true;
    }
    return false;
}

}  // namespace

bool Volume::is_metadata_block(uint32_t block) {
    const RegionHeader* state = header();
    if (!valid_data_block(block)) return true;
    uint32_t group = (block - state->first_data_block) / state->blocks_per_group;
    GroupDescriptor descriptor{};
    if (load_descriptor(group, &descriptor).is_error()) return true;
    if (block == descriptor.block_bitmap || block == descriptor.inode_bitmap) return true;
    if (block >= descriptor.inode_table &&
        block - descriptor.inode_table < state->inode_table_blocks) {
        return true;
    }
    bool sparse = state->superblock.revision == layout::kDynamicRevision &&
                  (state->superblock.feature_ro_compat & layout::kRoCompatSparseSuper) != 0;
    if (!has_superblock_backup(group, sparse)) return false;
    uint32_t first = group_first_block(group);
    uint64_t reserved = uint64_t{1} + state->descriptor_blocks +
                        (state->superblock.revision == layout::kDynamicRevision
                             ? state->superblock.reserved_gdt_blocks
                             : 0);
    return block - first < reserved;
}

Status Volume::inode_location(uint64_t inode, uint32_t* block, uint32_t* offset) {
    const RegionHeader* state = header();
    if (inode == 0 || inode > state->inodes_count) return UMKA_KABI_ENOENT;
    uint32_t group = static_cast<uint32_t>((inode - 1) / state->inodes_per_group);
    uint64_t byte = (inode - 1) % state->inodes_per_group * state->inode_size;
    GroupDescriptor descriptor{};
    Status status = load_descriptor(group, &descriptor);
    if (status.is_error()) return status;
    uint64_t number = uint64_t{descriptor.inode_table} + byte / state->block_size;
    if (!valid_data_block(descriptor.inode_table) || number >= state->blocks_count) {
        return corrupt();
    }
    *block = static_cast<uint32_t>(number);
    *offset = static_cast<uint32_t>(byte % state->block_size);
    return Status::ok();
}

Status Volume::read_inode(uint64_t inode, Inode* record) {
    uint32_t block = 0;
    uint32_t offset = 0;
    Status status = inode_location(inode, &block, &offset);
    if (status.is_error()) return status;
    Buffer buffer;
    if ((status = get_block(block, Fill::Read, &buffer)).is_error()) return status;
    if (!buffer.load(offset, record)) return corrupt();
    return Status::ok();
}

Status Volume::load_inode(uint64_t inode, Inode* record) {
    if (!valid_inode_number(inode)) return UMKA_KABI_ENOENT;
    Status status = read_inode(inode, record);
    if (status.is_error()) return status;
    if (record->links_count == 0 && !referenced(inode)) return UMKA_KABI_ENOENT;
    bool valid = false;
    NodeKind kind = detail::kind_of(record->mode, &valid);
    if (!valid || (record->flags & layout::kExtentsFlag) != 0) return corrupt();
    if (kind == NodeKind::Directory) {
        // Directories have no holes: every block of i_size is allocated, counted in i_blocks
        // and on the device. This also bounds every directory walk by the device size.
        uint64_t blocks = record->size / block_size();
        if (record->size % block_size() != 0 || blocks > header()->blocks_count ||
            blocks > record->blocks / (block_size() / 512)) {
            return corrupt();
        }
    }
    if (detail::inode_size(*record) > header()->maximum_file_size) return corrupt();
    return Status::ok();
}

Status Volume::load_directory(uint64_t inode, Inode* record) {
    Status status = load_inode(inode, record);
    if (status.is_error()) return status;
    if ((record->mode & layout::kTypeMask) != layout::kTypeDirectory) return UMKA_KABI_ENOTDIR;
    return Status::ok();
}

Status Volume::store_inode(uint64_t inode, const Inode& record) {
    if (!valid_inode_number(inode)) return corrupt();
    uint32_t block = 0;
    uint32_t offset = 0;
    Status status = inode_location(inode, &block, &offset);
    if (status.is_error()) return status;
    Buffer buffer;
    if ((status = get_block(block, Fill::Read, &buffer)).is_error()) return status;
    if (!buffer.store(offset, record)) return corrupt();
    return Status::ok();
}

Status Volume::initialise_inode(uint64_t inode) {
    uint32_t block = 0;
    uint32_t offset = 0;
    Status status = inode_location(inode, &block, &offset);
    if (status.is_error()) return status;
    Buffer buffer;
    if ((status = get_block(block, Fill::Read, &buffer)).is_error()) return status;
    if (offset + header()->inode_size > buffer.size()) return corrupt();
    __builtin_memset(buffer.data() + offset, 0, header()->inode_size);
    buffer.mark_dirty();
    return Status::ok();
}

namespace {

// The first clear bit in [start, count) of a bitmap block, or `count` when there is none.
uint32_t first_clear(const uint8_t* bits, uint32_t start, uint32_t count) {
    for (uint32_t bit = start; bit < count;) {
        if (bit % 8 == 0 && bits[bit / 8] == 0xFF && bit + 8 <= count) {
            bit += 8;
            continue;
        }
        if ((bits[bit / 8] & (1u << (bit % 8))) == 0) return bit;
        ++bit;
    }
    return count;
}

}  // namespace

Status Volume::allocate_inode(uint64_t parent, bool directory, uint64_t* inode) {
    RegionHeader* state = header();
    if (state->superblock.free_inodes_count == 0) return UMKA_KABI_ENOSPC;
    uint32_t groups = state->group_count;
    uint32_t home = static_cast<uint32_t>((parent - 1) / state->inodes_per_group) % groups;
    // Files stay near their directory; a directory goes to the group with the most free
    // inodes so a tree spreads over the disk, as Linux's Orlov allocator roughly does.
    uint32_t chosen = groups;
    uint32_t best = 0;
    for (uint32_t step = 0; step < groups; ++step) {
        uint32_t group = (home + (directory ? step + 1 : step)) % groups;
        GroupDescriptor descriptor{};
        Status status = load_descriptor(group, &descriptor);
        if (status.is_error()) return status;
        if (descriptor.free_inodes_count == 0) continue;
        if (!directory) {
            chosen = group;
            break;
        }
        if (descriptor.free_inodes_count > best) {
            best = descriptor.free_inodes_count;
            chosen = group;
        }
    }
    if (chosen == groups) return corrupt();  // the superblock promised a free inode
    GroupDescriptor descriptor{};
    Status status = load_descriptor(chosen, &descriptor);
    if (status.is_error()) return status;
    Buffer bitmap;
    if ((status = get_block(descriptor.inode_bitmap, Fill::Read, &bitmap)).is_error()) {
        return status;
    }
    uint64_t base = uint64_t{chosen} * state->inodes_per_group;
    uint32_t start = 0;
    if (base + 1 < state->first_inode) start = static_cast<uint32_t>(state->first_inode - 1 - base);
    uint32_t bit = first_clear(bitmap.data(), start, state->inodes_per_group);
    if (bit >= state->inodes_per_group) return corrupt();  // count and bitmap disagree
    uint64_t number = base + bit + 1;
    Inode existing{};
    if ((status = read_inode(number, &existing)).is_error()) return status;
    if (existing.links_count != 0) return corrupt();  // the bitmap calls a live inode free
    bitmap.data()[bit / 8] = static_cast<uint8_t>(bitmap.data()[bit / 8] | (1u << (bit % 8)));
    bitmap.mark_dirty();
    descriptor.free_inodes_count -= 1;
    if (directory) descriptor.used_directories_count += 1;
    if ((status = store_descriptor(chosen, descriptor)).is_error()) return status;
    state->superblock.free_inodes_count -= 1;
    if (directory) state->directory_count += 1;
    state->superblock_dirty = 1;
    *inode = number;
    return initialise_inode(number);
}

Status Volume::release_inode_number(uint64_t inode, bool directory) {
    RegionHeader* state = header();
    if (!valid_inode_number(inode) || inode == kRootInode) return corrupt();
    uint32_t group = static_cast<uint32_t>((inode - 1) / state->inodes_per_group);
    uint32_t bit = static_cast<uint32_t>((inode - 1) % state->inodes_per_group);
    GroupDescriptor descriptor{};
    Status status = load_descriptor(group, &descriptor);
    if (status.is_error()) return status;
    Buffer bitmap;
    if ((status = get_block(descriptor.inode_bitmap, Fill::Read, &bitmap)).is_error()) {
        return status;
    }
    uint8_t byte = bitmap.data()[bit / 8];
    if ((byte & (1u << (bit % 8))) == 0) return corrupt();  // already free
    bitmap.data()[bit / 8] = static_cast<uint8_t>(byte & ~(1u << (bit % 8)));
    bitmap.mark_dirty();
    if (descriptor.free_inodes_count >= state->inodes_per_group) return corrupt();
    descriptor.free_inodes_count += 1;
    if (directory && descriptor.used_directories_count > 0) {
        descriptor.used_directories_count -= 1;
    }
    if ((status = store_descriptor(group, descriptor)).is_error()) return status;
    if (state->superblock.free_inodes_count < state->inodes_count) {
        state->superblock.free_inodes_count += 1;
    }
    if (directory && state->directory_count > 0) state->directory_count -= 1;
    state->superblock_dirty = 1;
    return Status::ok();
}

Status Volume::allocate_block(uint32_t goal, uint32_t* block) {
    RegionHeader* state = header();
    if (state->superblock.free_blocks_count == 0) return UMKA_KABI_ENOSPC;
    if (!valid_data_block(goal)) goal = state->first_data_block + 1;
    uint32_t groups = state->group_count;
    uint32_t home = (goal - state->first_data_block) / state->blocks_per_group;
    for (uint32_t step = 0; step <= groups; ++step) {
        uint32_t group = (home + step) % groups;
        GroupDescriptor descriptor{};
        Status status = load_descriptor(group, &descriptor);
        if (status.is_error()) return status;
        if (descriptor.free_blocks_count == 0) continue;
        uint32_t first = group_first_block(group);
        uint64_t end = uint64_t{first} + state->blocks_per_group;
        uint32_t count =
            static_cast<uint32_t>((end < state->blocks_count ? end : state->blocks_count) - first);
        Buffer bitmap;
        if ((status = get_block(descriptor.block_bitmap, Fill::Read, &bitmap)).is_error()) {
            return status;
        }
        uint32_t start = step == 0 && goal - first < count ? goal - first : 0;
        uint32_t bit = first_clear(bitmap.data(), start, count);
        if (bit >= count && start > 0) bit = first_clear(bitmap.data(), 0, start);
        if (bit >= count) return corrupt();  // the descriptor promised a free block
        uint32_t number = first + bit;
        if (is_metadata_block(number)) return corrupt();
        bitmap.data()[bit / 8] = static_cast<uint8_t>(bitmap.data()[bit / 8] | (1u << (bit % 8)));
        bitmap.mark_dirty();
        descriptor.free_blocks_count -= 1;
        if ((status = store_descriptor(group, descriptor)).is_error()) return status;
        state->superblock.free_blocks_count -= 1;
        state->superblock_dirty = 1;
        *block = number;
        return Status::ok();
    }
    return corrupt();  // the superblock promised a free block no group has
}

Status Volume::release_block(uint32_t block) {
    RegionHeader* state = header();
    if (!valid_data_block(block)) return corrupt();
    uint32_t group = (block - state->first_data_block) / state->blocks_per_group;
    uint32_t bit = (block - state->first_data_block) % state->blocks_per_group;
    GroupDescriptor descriptor{};
    Status status = load_descriptor(group, &descriptor);
    if (status.is_error()) return status;
    Buffer bitmap;
    if ((status = get_block(descriptor.block_bitmap, Fill::Read, &bitmap)).is_error()) {
        return status;
    }
    uint8_t byte = bitmap.data()[bit / 8];
    if ((byte & (1u << (bit % 8))) == 0) return corrupt();  // freeing a free block
    bitmap.data()[bit / 8] = static_cast<uint8_t>(byte & ~(1u << (bit % 8)));
    bitmap.mark_dirty();
    if (descriptor.free_blocks_count >= state->blocks_per_group) return corrupt();
    descriptor.free_blocks_count += 1;
    if ((status = store_descriptor(group, descriptor)).is_error()) return status;
    if (state->superblock.free_blocks_count < state->blocks_count) {
        state->superblock.free_blocks_count += 1;
    }
    state->superblock_dirty = 1;
    bitmap.release();
    forget_block(block);  // its contents no longer matter; never write them back
    return Status::ok();
}

}  // namespace umka::ext2
