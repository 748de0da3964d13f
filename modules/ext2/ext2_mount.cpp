// Mount (superblock and group descriptor validation), attach, sync, unmount and the
// volume-wide figures.
#include "ext2_block_cache.h"

namespace umka::ext2 {

using layout::GroupDescriptor;
using layout::Superblock;

namespace {

// One sentence per incompat bit, so a refusal names the bit without formatting anything.
constexpr const char* kIncompatReasons[32] = {
    "unsupported incompatible feature 0x1 (compression)",
    "unsupported incompatible feature 0x2 (filetype)",
    "unsupported incompatible feature 0x4 (needs journal recovery)",
    "unsupported incompatible feature 0x8 (journal device)",
    "unsupported incompatible feature 0x10 (meta_bg)",
    "unsupported incompatible feature 0x20 (unknown)",
    "unsupported incompatible feature 0x40 (extents)",
    "unsupported incompatible feature 0x80 (64bit)",
    "unsupported incompatible feature 0x100 (mmp)",
    "unsupported incompatible feature 0x200 (flex_bg)",
    "unsupported incompatible feature 0x400 (ea_inode)",
    "unsupported incompatible feature 0x800 (unknown)",
    "unsupported incompatible feature 0x1000 (dirdata)",
    "unsupported incompatible feature 0x2000 (csum_seed)",
    "unsupported incompatible feature 0x4000 (largedir)",
    "unsupported incompatible feature 0x8000 (inline_data)",
    "unsupported incompatible feature 0x10000 (encrypt)",
    "unsupported incompatible feature 0x20000 (casefold)",
    "unsupported incompatible feature 0x40000 (unknown)",
    "unsupported incompatible feature 0x80000 (unknown)",
    "unsupported incompatible feature 0x100000 (unknown)",
    "unsupported incompatible feature 0x200000 (unknown)",
    "unsupported incompatible feature 0x400000 (unknown)",
    "unsupported incompatible feature 0x800000 (unknown)",
    "unsupported incompatible feature 0x1000000 (unknown)",
    "unsupported incompatible feature 0x2000000 (unknown)",
    "unsupported incompatible feature 0x4000000 (unknown)",
    "unsupported incompatible feature 0x8000000 (unknown)",
    "unsupported incompatible feature 0x10000000 (unknown)",
    "unsupported incompatible feature 0x20000000 (unknown)",
    "unsupported incompatible feature 0x40000000 (unknown)",
    "unsupported incompatible feature 0x80000000 (unknown)",
};

struct Refusal {
    Status status;
    const char* reason;
};

constexpr Refusal accepted() {
    return Refusal{Status::ok(), nullptr};
}

uint64_t divide_up(uint64_t value, uint64_t unit) {
    return (value + unit - 1) / unit;
}

bool power_of_two(uint32_t value) {
    return value != 0 && (value & (value - 1)) == 0;
}

Refusal check_superblock(const Superblock& super, uint64_t device_bytes) {
    if (super.magic != layout::kMagic) {
        return {UMKA_KABI_EINVAL, "bad magic: not an ext2 file system"};
    }
    if (super.revision > layout::kDynamicRevision) {
        return {UMKA_KABI_EINVAL, "unsupported revision: s_rev_level above 1"};
    }
    if (super.log_block_size > 2) {
        return {UMKA_KABI_EINVAL, "s_log_block_size: block size not 1, 2 or 4 KiB"};
    }
    uint32_t block_size = 1024u << super.log_block_size;
    if (super.revision == layout::kDynamicRevision) {
        uint32_t unknown = super.feature_incompat & ~layout::kSupportedIncompat;
        if (unknown != 0) return {UMKA_KABI_EINVAL, kIncompatReasons[__builtin_ctz(unknown)]};
    }
    if (super.log_fragment_size != super.log_block_size) {
        return {UMKA_KABI_EINVAL, "fragment size differs from the block size"};
    }
    if (super.blocks_per_group == 0 || super.blocks_per_group > 8 * block_size) {
        return {UMKA_KABI_EUCLEAN, "s_blocks_per_group is 0 or above 8 x block size"};
    }
    if (super.inodes_per_group == 0 || super.inodes_per_group > 8 * block_size) {
        return {UMKA_KABI_EUCLEAN, "s_inodes_per_group is 0 or above 8 x block size"};
    }
    if (super.revision == layout::kDynamicRevision) {
        if (super.inode_size < layout::kGoodOldInodeSize || !power_of_two(super.inode_size) ||
            super.inode_size > block_size) {
            return {UMKA_KABI_EUCLEAN,
                    "s_inode_size is not a power of two between 128 and the block size"};
        }
        if (super.first_inode < layout::kGoodOldFirstInode ||
            super.first_inode > super.inodes_count) {
            return {UMKA_KABI_EUCLEAN, "s_first_ino below 11 or past s_inodes_count"};
        }
    }
    if (super.first_data_block != (block_size == 1024 ? 1u : 0u)) {
        return {UMKA_KABI_EUCLEAN,
                "s_first_data_block is not 1 for 1 KiB blocks or 0 for larger blocks"};
    }
    if (super.blocks_count <= super.first_data_block + 1) {
        return {UMKA_KABI_EUCLEAN, "s_blocks_count leaves no block group"};
    }
    if (uint64_t{super.blocks_count} * block_size > device_bytes) {
        return {UMKA_KABI_EUCLEAN, "s_blocks_count reaches past the end of the device"};
    }
    uint64_t groups =
        divide_up(super.blocks_count - super.first_data_block, super.blocks_per_group);
    if (uint64_t{super.inodes_count} != groups * super.inodes_per_group) {
        return {UMKA_KABI_EUCLEAN, "s_inodes_count is not block groups x s_inodes_per_group"};
    }
    uint64_t descriptor_blocks = divide_up(groups * sizeof(GroupDescriptor), block_size);
    if (super.first_data_block + 1 + descriptor_blocks > super.blocks_count) {
        return {UMKA_KABI_EUCLEAN, "group descriptor table reaches past the end of the device"};
    }
    uint32_t inode_size =
        super.revision == layout::kDynamicRevision ? super.inode_size : layout::kGoodOldInodeSize;
    if (divide_up(uint64_t{super.inodes_per_group} * inode_size, block_size) >=
        super.blocks_per_group) {
        return {UMKA_KABI_EUCLEAN, "an inode table is larger than its block group"};
    }
    return accepted();
}

Refusal check_descriptor(const GroupDescriptor& descriptor, uint32_t first, uint32_t last,
                         uint32_t table_blocks, uint32_t inodes_per_group) {
    auto inside = [&](uint64_t block) { return block >= first && block <= last; };
    if (!inside(descriptor.block_bitmap)) {
        return {UMKA_KABI_EUCLEAN, "group descriptor: block bitmap outside its group"};
    }
    if (!inside(descriptor.inode_bitmap)) {
        return {UMKA_KABI_EUCLEAN, "group descriptor: inode bitmap outside its group"};
    }
    if (!inside(descriptor.inode_table) ||
        !inside(uint64_t{descriptor.inode_table} + table_blocks - 1)) {
        return {UMKA_KABI_EUCLEAN,
                "group descriptor: inode table outside its group or past the end of the device"};
    }
    if (descriptor.free_blocks_count > last - first + 1) {
        return {UMKA_KABI_EUCLEAN, "group descriptor: more free blocks than the group has"};
    }
    if (descriptor.free_inodes_count > inodes_per_group ||
        descriptor.used_directories_count > inodes_per_group) {
        return {UMKA_KABI_EUCLEAN, "group descriptor: more free inodes than the group has"};
    }
    return accepted();
}

uint64_t maximum_file_size(uint32_t block_size, uint32_t revision) {
    if (revision == layout::kGoodOldRevision) return 0x7FFFFFFFull;
    uint64_t per = block_size / 4;
    uint64_t blocks = layout::kDirectBlocks + per + per * per + per * per * per;
    // i_blocks counts 512-byte units in 32 bits; leave room for the map blocks too.
    uint64_t limit = 0xFFFFFFFFull / (block_size / 512);
    limit -= limit / per + limit / (per * per) + 4;
    if (blocks > limit) blocks = limit;
    return blocks * block_size;
}

}  // namespace

Status Volume::corrupt() const {
    header()->health = static_cast<uint8_t>(layout::Health::Corrupt);
    return UMKA_KABI_EUCLEAN;
}

Status Volume::writable() const {
    if (region_ == nullptr || header()->magic != layout::kRegionMagic) return UMKA_KABI_EINVAL;
    if (mode() == MountMode::ReadOnly) return UMKA_KABI_EROFS;
    return Status::ok();
}

Status Volume::mount(void* region, uint64_t region_length, Device* device, uint64_t device_bytes,
                     MountMode mode, uint64_t now_ns, Volume* volume, const char** reason) {
    const char* ignored = nullptr;
    if (reason == nullptr) reason = &ignored;
    *reason = nullptr;
    if (region == nullptr || device == nullptr || volume == nullptr ||
        reinterpret_cast<uintptr_t>(region) % layout::kRegionAlignment != 0 ||
        region_length < layout::kMinimumRegion) {
        *reason = "memory region missing, unaligned or under 256 KiB";
        return UMKA_KABI_EINVAL;
    }
    if (device_bytes < layout::kSuperblockOffset + layout::kSuperblockSize) {
        *reason = "device too small to hold a superblock";
        return UMKA_KABI_EINVAL;
    }
    Volume candidate;
    candidate.region_ = static_cast<uint8_t*>(region);
    candidate.device_ = device;
    RegionHeader* state = candidate.header();
    __builtin_memset(state, 0, sizeof(RegionHeader));
    Superblock& super = state->superblock;
    if (device->read(layout::kSuperblockOffset, &super, layout::kSuperblockSize).is_error()) {
        *reason = "device read of the superblock failed";
        return UMKA_KABI_EIO;
    }
    Refusal refusal = check_superblock(super, device_bytes);
    if (refusal.status.is_error()) {
        *reason = refusal.reason;
        return refusal.status;
    }
    bool dynamic = super.revision == layout::kDynamicRevision;
    state->block_size = 1024u << super.log_block_size;
    state->addresses_per_block = state->block_size / 4;
    state->blocks_count = super.blocks_count;
    state->inodes_count = super.inodes_count;
    state->blocks_per_group = super.blocks_per_group;
    state->inodes_per_group = super.inodes_per_group;
    state->group_count = static_cast<uint32_t>(
        divide_up(super.blocks_count - super.first_data_block, super.blocks_per_group));
    state->inode_size = dynamic ? super.inode_size : layout::kGoodOldInodeSize;
    state->first_inode = dynamic ? super.first_inode : layout::kGoodOldFirstInode;
    state->first_data_block = super.first_data_block;
    state->descriptor_blocks = static_cast<uint32_t>(
        divide_up(uint64_t{state->group_count} * sizeof(GroupDescriptor), state->block_size));
    state->inode_table_blocks = static_cast<uint32_t>(
        divide_up(uint64_t{state->inodes_per_group} * state->inode_size, state->block_size));
    state->maximum_file_size = maximum_file_size(state->block_size, super.revision);
    state->has_filetype =
        dynamic && (super.feature_incompat & layout::kIncompatFiletype) != 0 ? 1 : 0;
    state->region_length = region_length;
    state->device_bytes = device_bytes;
    state->mode = static_cast<uint8_t>(MountMode::ReadOnly);  // until validated
    if (!lay_out_cache(region_length, state->block_size, state)) {
        *reason = "memory region too small for the block cache";
        return UMKA_KABI_EINVAL;
    }
    __builtin_memset(candidate.region_ + state->references_offset, 0,
                     uint64_t{layout::kReferenceSlots} * sizeof(layout::Reference));
    candidate.reset_cache();
    state->magic = layout::kRegionMagic;
    state->version = layout::kRegionVersion;

    uint64_t free_blocks = 0;
    uint64_t free_inodes = 0;
    uint64_t directories = 0;
    for (uint32_t group = 0; group < state->group_count; ++group) {
        GroupDescriptor descriptor{};
        Status status = candidate.load_descriptor(group, &descriptor);
        if (status.is_error()) {
            *reason = status == UMKA_KABI_EIO ? "device read of the group descriptors failed"
                                              : "group descriptor table unreadable";
            state->magic = 0;
            return status;
        }
        uint32_t first = candidate.group_first_block(group);
        uint64_t end = uint64_t{first} + state->blocks_per_group;
        uint32_t last =
            static_cast<uint32_t>((end < state->blocks_count ? end : state->blocks_count) - 1);
        refusal = check_descriptor(descriptor, first, last, state->inode_table_blocks,
                                   state->inodes_per_group);
        if (refusal.status.is_error()) {
            *reason = refusal.reason;
            state->magic = 0;
            return refusal.status;
        }
        free_blocks += descriptor.free_blocks_count;
        free_inodes += descriptor.free_inodes_count;
        directories += descriptor.used_directories_count;
    }
    if (free_blocks > super.blocks_count || free_inodes > super.inodes_count) {
        *reason = "group descriptors count more free blocks or inodes than the volume has";
        state->magic = 0;
        return UMKA_KABI_EUCLEAN;
    }
    // Like Linux, the group descriptors are the truth for the totals.
    super.free_blocks_count = static_cast<uint32_t>(free_blocks);
    super.free_inodes_count = static_cast<uint32_t>(free_inodes);
    state->directory_count = static_cast<uint32_t>(directories);

    Inode root{};
    Status status = candidate.load_directory(kRootInode, &root);
    if (status.is_error()) {
        *reason = "the root inode is not a directory";
        state->magic = 0;
        return status == UMKA_KABI_EIO ? status : Status(UMKA_KABI_EUCLEAN);
    }
    state->health = static_cast<uint8_t>(layout::Health::Clean);

    uint32_t recorded = super.write_time > super.mount_time ? super.write_time : super.mount_time;
    uint32_t clock = detail::seconds(now_ns);
    state->clock_offset_seconds = recorded > clock ? recorded - clock : 0;

    MountMode granted = mode;
    if (mode == MountMode::ReadOnly) {
        *reason = "mounted read-only as asked";
    } else if (dynamic && (super.feature_ro_compat & ~layout::kSupportedRoCompat) != 0) {
        *reason = "unknown read-only-compatible features: mounted read-only";
        granted = MountMode::ReadOnly;
    } else if ((super.state & layout::kStateError) != 0) {
        *reason = "file system has errors (s_state error): mounted read-only";
        granted = MountMode::ReadOnly;
    } else if ((super.state & layout::kStateValid) == 0) {
        *reason = "file system was not cleanly unmounted: mounted read-only";
        granted = MountMode::ReadOnly;
    }
    state->mode = static_cast<uint8_t>(granted);
    if (granted == MountMode::ReadWrite) {
        super.state = static_cast<uint16_t>(super.state & ~layout::kStateValid);
        super.mount_count = static_cast<uint16_t>(super.mount_count + 1);
        super.mount_time = candidate.seconds(now_ns);
        if ((status = candidate.write_superblock()).is_error() ||
            (status = device->flush()).is_error()) {
            *reason = "device write of the superblock failed";
            state->magic = 0;
            return UMKA_KABI_EIO;
        }
    }
    *volume = candidate;
    return Status::ok();
}

Status Volume::attach(void* region, uint64_t region_length, Device* device, Volume* volume) {
    if (region == nullptr || device == nullptr || volume == nullptr ||
        reinterpret_cast<uintptr_t>(region) % layout::kRegionAlignment != 0 ||
        region_length < layout::kMinimumRegion) {
        return UMKA_KABI_EINVAL;
    }
    Volume candidate;
    candidate.region_ = static_cast<uint8_t*>(region);
    candidate.device_ = device;
    RegionHeader* state = candidate.header();
    if (state->magic != layout::kRegionMagic || state->version != layout::kRegionVersion ||
        state->region_length != region_length) {
        return UMKA_KABI_EBADMSG;
    }
    RegionHeader expected = *state;
    uint32_t block_size = state->block_size;
    if ((block_size != 1024 && block_size != 2048 && block_size != 4096) ||
        !lay_out_cache(region_length, block_size, &expected) ||
        expected.slot_count != state->slot_count || expected.bucket_count != state->bucket_count ||
        expected.data_offset != state->data_offset) {
        return UMKA_KABI_EBADMSG;
    }
    // Buffers live only within one call, so no pin can be outstanding between calls.
    for (uint32_t index = 0; index < state->slot_count; ++index) candidate.slot(index)->pins = 0;
    *volume = candidate;
    return Status::ok();
}

MountMode Volume::mode() const {
    return static_cast<MountMode>(header()->mode);
}

Status Volume::write_superblock() {
    if (device_->write(layout::kSuperblockOffset, &header()->superblock, layout::kSuperblockSize)
            .is_error()) {
        return UMKA_KABI_EIO;
    }
    header()->superblock_dirty = 0;
    return Status::ok();
}

Status Volume::sync() {
    if (region_ == nullptr || header()->magic != layout::kRegionMagic) return UMKA_KABI_EINVAL;
    if (mode() == MountMode::ReadOnly) return Status::ok();
    Status status = write_back_all();
    if (status.is_ok()) status = write_superblock();
    if (status.is_ok() && device_->flush().is_error()) status = UMKA_KABI_EIO;
    return status;
}

Status Volume::unmount(uint64_t now_ns) {
    if (region_ == nullptr || header()->magic != layout::kRegionMagic) return UMKA_KABI_EINVAL;
    Status result = Status::ok();
    if (mode() == MountMode::ReadWrite) {
        Status status = free_orphans(now_ns);
        if (status.is_error() && status != UMKA_KABI_EUCLEAN) result = status;
        Superblock& super = header()->superblock;
        bool healthy = header()->health == static_cast<uint8_t>(layout::Health::Clean);
        super.state = healthy ? layout::kStateValid : layout::kStateError;
        super.write_time = seconds(now_ns);
        if ((status = write_back_all()).is_error()) result = status;
        if (result.is_ok() && (status = write_superblock()).is_error()) result = status;
        if (device_->flush().is_error() && result.is_ok()) result = UMKA_KABI_EIO;
    }
    header()->magic = 0;
    return result;
}

Status Volume::free_orphans(uint64_t now_ns) {
    auto* references = reinterpret_cast<layout::Reference*>(region_ + header()->references_offset);
    Status result = Status::ok();
    for (uint32_t index = 0; index < layout::kReferenceSlots; ++index) {
        uint64_t inode = references[index].inode;
        references[index] = layout::Reference{};
        if (inode == 0 || !valid_inode_number(inode)) continue;
        Inode record{};
        Status status = read_inode(inode, &record);
        if (status.is_ok() && record.links_count == 0 && record.mode != 0) {
            status = free_inode(inode, &record, now_ns);
        }
        if (status.is_error()) result = status;
    }
    return result;
}

Status Volume::load_descriptor(uint32_t group, GroupDescriptor* descriptor) {
    RegionHeader* state = header();
    if (group >= state->group_count) return corrupt();
    uint64_t byte = uint64_t{group} * sizeof(GroupDescriptor);
    Buffer buffer;
    Status status =
        get_block(static_cast<uint32_t>(state->first_data_block + 1 + byte / state->block_size),
                  Fill::Read, &buffer);
    if (status.is_error()) return status;
    if (!buffer.load(byte % state->block_size, descriptor)) return corrupt();
    return Status::ok();
}

Status Volume::store_descriptor(uint32_t group, const GroupDescriptor& descriptor) {
    RegionHeader* state = header();
    if (group >= state->group_count) return corrupt();
    uint64_t byte = uint64_t{group} * sizeof(GroupDescriptor);
    Buffer buffer;
    Status status =
        get_block(static_cast<uint32_t>(state->first_data_block + 1 + byte / state->block_size),
                  Fill::Read, &buffer);
    if (status.is_error()) return status;
    if (!buffer.store(byte % state->block_size, descriptor)) return corrupt();
    return Status::ok();
}

Usage Volume::usage() const {
    const RegionHeader* state = header();
    return Usage{state->block_size, state->blocks_count, state->superblock.free_blocks_count,
                 state->inodes_count, state->superblock.free_inodes_count};
}

Volume::CacheCounters Volume::cache_counters() const {
    const RegionHeader* state = header();
    return CacheCounters{state->slot_count, state->dirty_count, state->hits, state->misses,
                         state->writebacks};
}

}  // namespace umka::ext2
