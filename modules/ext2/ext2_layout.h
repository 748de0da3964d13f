// The ext2 on-disk format as the core reads and writes it (revision 0 and 1, 1/2/4 KiB
// blocks), and the layout of the memory region a mounted Volume lives in.
//
// On-disk integers are little-endian; the core copies them with memcpy and so assumes a
// little-endian CPU (asserted below), like every target UmkaOS builds for.
#pragma once

#include <stddef.h>
#include <stdint.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ext2 core assumes little-endian");

namespace umka::ext2::layout {

inline constexpr uint64_t kSuperblockOffset = 1024;
inline constexpr uint32_t kSuperblockSize = 1024;
inline constexpr uint16_t kMagic = 0xEF53;
inline constexpr uint16_t kStateValid = 1;
inline constexpr uint16_t kStateError = 2;
inline constexpr uint32_t kGoodOldRevision = 0;
inline constexpr uint32_t kDynamicRevision = 1;
inline constexpr uint32_t kGoodOldInodeSize = 128;
inline constexpr uint32_t kGoodOldFirstInode = 11;
inline constexpr uint32_t kRootInodeNumber = 2;

inline constexpr uint32_t kIncompatFiletype = 0x0002;
inline constexpr uint32_t kSupportedIncompat = kIncompatFiletype;
inline constexpr uint32_t kRoCompatSparseSuper = 0x0001;
inline constexpr uint32_t kRoCompatLargeFile = 0x0002;
inline constexpr uint32_t kSupportedRoCompat = kRoCompatSparseSuper | kRoCompatLargeFile;

inline constexpr uint32_t kDirectBlocks = 12;
inline constexpr uint32_t kSingleIndirect = 12;
inline constexpr uint32_t kDoubleIndirect = 13;
inline constexpr uint32_t kTripleIndirect = 14;
inline constexpr uint32_t kBlockPointers = 15;
inline constexpr uint32_t kFastSymlinkMaximum = 59;  // i_block holds < 60 bytes
inline constexpr uint32_t kMaximumLinks = 32000;     // EXT2_LINK_MAX
inline constexpr uint32_t kMaximumNameLength = 255;
inline constexpr uint32_t kIndexFlag = 0x1000;  // EXT2_INDEX_FL: htree, ignored and cleared
inline constexpr uint32_t kExtentsFlag = 0x80000;
inline constexpr uint32_t kAttributeBlockMagic = 0xEA020000;

// i_mode type bits.
inline constexpr uint16_t kTypeMask = 0170000;
inline constexpr uint16_t kTypeSocket = 0140000;
inline constexpr uint16_t kTypeSymlink = 0120000;
inline constexpr uint16_t kTypeRegular = 0100000;
inline constexpr uint16_t kTypeBlockDevice = 0060000;
inline constexpr uint16_t kTypeDirectory = 0040000;
inline constexpr uint16_t kTypeCharDevice = 0020000;
inline constexpr uint16_t kTypeFifo = 0010000;

// Directory entry file_type values (incompat filetype).
enum class FileType : uint8_t {
    Unknown = 0,
    Regular = 1,
    Directory = 2,
    CharDevice = 3,
    BlockDevice = 4,
    Fifo = 5,
    Socket = 6,
    Symlink = 7,
};

struct Superblock {
    uint32_t inodes_count;
    uint32_t blocks_count;
    uint32_t reserved_blocks_count;
    uint32_t free_blocks_count;
    uint32_t free_inodes_count;
    uint32_t first_data_block;
    uint32_t log_block_size;
    uint32_t log_fragment_size;
    uint32_t blocks_per_group;
    uint32_t fragments_per_group;
    uint32_t inodes_per_group;
    uint32_t mount_time;
    uint32_t write_time;
    uint16_t mount_count;
    int16_t maximum_mount_count;
    uint16_t magic;
    uint16_t state;
    uint16_t errors;
    uint16_t minor_revision;
    uint32_t last_check;
    uint32_t check_interval;
    uint32_t creator_os;
    uint32_t revision;
    uint16_t default_reserved_uid;
    uint16_t default_reserved_gid;
    uint32_t first_inode;
    uint16_t inode_size;
    uint16_t block_group_number;
    uint32_t feature_compat;
    uint32_t feature_incompat;
    uint32_t feature_ro_compat;
    uint8_t uuid[16];
    uint8_t volume_name[16];
    uint8_t last_mounted[64];
    uint32_t algorithm_usage_bitmap;
    uint8_t prealloc_blocks;
    uint8_t prealloc_directory_blocks;
    uint16_t reserved_gdt_blocks;
    uint8_t rest[kSuperblockSize - 208];
};
static_assert(sizeof(Superblock) == kSuperblockSize);
static_assert(offsetof(Superblock, magic) == 56);
static_assert(offsetof(Superblock, first_inode) == 84);
static_assert(offsetof(Superblock, feature_ro_compat) == 100);
static_assert(offsetof(Superblock, reserved_gdt_blocks) == 206);

struct GroupDescriptor {
    uint32_t block_bitmap;
    uint32_t inode_bitmap;
    uint32_t inode_table;
    uint16_t free_blocks_count;
    uint16_t free_inodes_count;
    uint16_t used_directories_count;
    uint16_t flags;
    uint8_t reserved[12];
};
static_assert(sizeof(GroupDescriptor) == 32);

// The first 128 bytes of an inode record; larger records (s_inode_size) keep their extra
// bytes untouched, except that a freshly allocated record is zeroed whole, as Linux does.
struct Inode {
    uint16_t mode;
    uint16_t uid;
    uint32_t size;
    uint32_t access_time;
    uint32_t change_time;
    uint32_t modify_time;
    uint32_t delete_time;
    uint16_t gid;
    uint16_t links_count;
    uint32_t blocks;  // 512-byte units, map and attribute blocks included
    uint32_t flags;
    uint32_t osd1;
    uint32_t block[kBlockPointers];
    uint32_t generation;
    uint32_t file_acl;
    uint32_t size_high;  // regular files; i_dir_acl for directories
    uint32_t fragment_address;
    uint16_t blocks_high;
    uint16_t file_acl_high;
    uint16_t uid_high;
    uint16_t gid_high;
    uint32_t reserved_124;
};
static_assert(sizeof(Inode) == kGoodOldInodeSize);
static_assert(offsetof(Inode, block) == 40);
static_assert(offsetof(Inode, file_acl) == 104);
static_assert(offsetof(Inode, uid_high) == 120);

inline constexpr uint32_t kEntryHeaderSize = 8;

struct EntryHeader {
    uint32_t inode;
    uint16_t record_length;
    uint8_t name_length;
    uint8_t file_type;  // the high byte of a 16-bit name_len without incompat filetype
};
static_assert(sizeof(EntryHeader) == kEntryHeaderSize);

// EXT2_DIR_REC_LEN: the bytes an entry with a name of `length` needs.
constexpr uint32_t entry_size(uint32_t length) {
    return (length + kEntryHeaderSize + 3) & ~3u;
}

// ----- The memory region (ext2_volume.h: Volume::mount) -----
//
//   [0, 4096)               RegionHeader: magic, geometry, mode, health, counters, the
//                           superblock copy.
//   references              kReferenceSlots Reference records: open inodes (retain/release).
//   slot table              CacheSlot per cache slot, then the hash buckets (uint32 each).
//   slot data               slot_count blocks of block_size bytes, 4096-aligned.
//
// Everything is addressed by offsets and indexes, never by pointer, so a successor module
// instance can attach() the same bytes at another address.

inline constexpr uint64_t kRegionMagic = 0x3254584541544B55ull;  // "UKTAEXT2" little-endian
inline constexpr uint32_t kRegionVersion = 1;
inline constexpr uint64_t kMinimumRegion = 256 * 1024;
inline constexpr uint32_t kRegionAlignment = 4096;
inline constexpr uint32_t kReferenceSlots = 1024;
inline constexpr uint32_t kMinimumCacheSlots = 16;
inline constexpr uint32_t kNoSlot = 0xFFFFFFFFu;

enum class Health : uint8_t { Clean = 0, Corrupt = 1 };

struct Reference {
    uint32_t inode;  // 0: the record is free
    uint32_t count;
};

enum class SlotState : uint16_t { Empty = 0, Clean = 1, Dirty = 2 };

struct CacheSlot {
    uint32_t block;
    SlotState state;
    uint16_t pins;  // Buffers pointing into the slot right now; never evicted while > 0
    uint32_t hash_next;
    uint32_t lru_newer;
    uint32_t lru_older;
    uint32_t reserved;
};
static_assert(sizeof(CacheSlot) == 24);

struct RegionHeader {
    uint64_t magic;
    uint32_t version;
    // Added to the caller's clock so that times never run behind the disk's last recorded
    // time: the module's clock counts from boot (no wall clock), so a mount continues from
    // the superblock's last mount or write time. 0 with a clock that is already ahead.
    uint32_t clock_offset_seconds;
    uint64_t region_length;
    uint64_t device_bytes;
    // Geometry, validated once at mount.
    uint32_t block_size;
    uint32_t addresses_per_block;
    uint32_t blocks_count;
    uint32_t inodes_count;
    uint32_t group_count;
    uint32_t blocks_per_group;
    uint32_t inodes_per_group;
    uint32_t inode_size;
    uint32_t first_inode;
    uint32_t first_data_block;
    uint32_t descriptor_blocks;
    uint32_t inode_table_blocks;  // per group
    uint64_t maximum_file_size;
    uint8_t mode;    // MountMode
    uint8_t health;  // Health
    uint8_t superblock_dirty;
    uint8_t has_filetype;
    uint32_t directory_count;  // bounds the ancestor walk of rename
    // Cache.
    uint32_t slot_count;
    uint32_t bucket_count;  // a power of two
    uint64_t references_offset;
    uint64_t slots_offset;
    uint64_t buckets_offset;
    uint64_t data_offset;
    uint32_t lru_newest;
    uint32_t lru_oldest;
    uint32_t dirty_count;
    uint32_t reserved_148;
    uint64_t hits;
    uint64_t misses;
    uint64_t writebacks;
    uint8_t reserved_176[1024 - 176];
    Superblock superblock;
};
static_assert(offsetof(RegionHeader, reserved_176) == 176);
static_assert(sizeof(RegionHeader) == 2048);

}  // namespace umka::ext2::layout
