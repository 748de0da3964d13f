// The ext2 file-system core: a mounted ext2 volume on a synchronous block Device, every byte
// of its state inside one caller-provided memory region (layout in ext2_layout.h), so a
// successor module instance re-attaches it after a live swap without touching the device.
//
// The operations have the contracts of tmpfs::Store (modules/tmpfs/tmpfs_store.h), with
// these ext2 specifics: inode numbers are ext2's (root 2, reserved inodes answer ENOENT),
// links stop at 32000 (EMLINK), read_directory cookies are byte positions in the directory,
// and a corrupt structure met while mounted answers EUCLEAN for that operation only and
// marks the volume so unmount records EXT2_ERROR_FS instead of clean.
//
// Concurrency: none inside; the caller serialises every call on one region.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ext2_layout.h"
#include "umka/file_names.h"
#include "umka/kabi/kabi_base.h"

namespace umka::ext2 {

using Status = umka::kabi::Status;

// Values match vfs.NodeKind in kabi-idl/vfs.kabi.
enum class NodeKind : uint8_t {
    Regular = 0,
    Directory = 1,
    Symlink = 2,
    CharDevice = 3,
    BlockDevice = 4,
    Fifo = 5,
    Socket = 6
};

inline constexpr uint64_t kRootInode = 2;
inline constexpr uint32_t kMaximumNameLength = layout::kMaximumNameLength;

struct Attributes {
    uint64_t inode, size, blocks;  // blocks: 512-byte units, st_blocks
    uint32_t mode;                 // Linux mode including the type bits
    uint32_t link_count, user_id, group_id;
    NodeKind kind;
    uint64_t modified_ns, changed_ns;
};

struct Entry {
    uint64_t inode;
    NodeKind kind;
    uint32_t name_length;
    char name[kMaximumNameLength + 1];  // NUL-terminated
};

struct Usage {
    uint64_t block_size, total_blocks, free_blocks, total_inodes, free_inodes;
};

// Synchronous device access; offsets and lengths are multiples of 512.
class Device {
public:
    virtual Status read(uint64_t offset, void* buffer, uint32_t length) = 0;
    virtual Status write(uint64_t offset, const void* data, uint32_t length) = 0;
    virtual Status flush() = 0;

protected:
    ~Device() = default;
};

enum class MountMode : uint8_t { ReadWrite = 0, ReadOnly = 1 };

class Buffer;

class Volume {
public:
    // All of a mounted volume's memory is [region, region + region_length) (4096-aligned,
    // >= 256 KiB): the header with the superblock copy and counters, the open-inode table and
    // a write-back block cache in the rest; that length is the memory bound. `*reason` (may
    // be null) gets a static sentence naming what was refused or why a ReadWrite request came
    // up ReadOnly. EINVAL: not ext2, unsupported revision/block size/incompat feature, or an
    // unusable region; EUCLEAN: a superblock or group descriptor that contradicts itself or
    // the device; EIO from the device. ReadWrite marks the superblock not-clean on disk at once.
    static Status mount(void* region, uint64_t region_length, Device* device, uint64_t device_bytes,
                        MountMode mode, uint64_t now_ns, Volume* volume, const char** reason);
    // Re-opens a region a Volume mounted (maybe in another module instance) without touching
    // the device: EBADMSG unless the header's magic, version and geometry match the length.
    static Status attach(void* region, uint64_t region_length, Device* device, Volume* volume);

    MountMode mode() const;
    // Frees orphans, writes back every dirty block, records clean (or error) and flushes;
    // the region no longer attaches afterwards.
    Status unmount(uint64_t now_ns);
    // Writes back every dirty block and the superblock, then flushes the device.
    Status sync();

    Status lookup(uint64_t directory, const char* name, uint32_t length, uint64_t* inode);
    Status attributes(uint64_t inode, Attributes* attributes);
    // Regular or Directory (EINVAL otherwise).
    Status create(uint64_t directory, const char* name, uint32_t length, NodeKind kind,
                  uint32_t permissions, uint64_t now_ns, uint64_t* inode);
    // Targets under 60 bytes live in i_block (fast), longer ones in one data block (slow);
    // ENAMETOOLONG past block_size - 1.
    Status symlink(uint64_t directory, const char* name, uint32_t length, const char* target,
                   uint32_t target_length, uint64_t now_ns, uint64_t* inode);
    Status read_link(uint64_t inode, char* buffer, uint32_t capacity, uint32_t* length);
    Status read(uint64_t inode, uint64_t offset, void* buffer, uint64_t length,
                uint64_t* transferred);
    Status write(uint64_t inode, uint64_t offset, const void* data, uint64_t length,
                 uint64_t now_ns, uint64_t* transferred);
    Status truncate(uint64_t inode, uint64_t size, uint64_t now_ns);
    Status link(uint64_t directory, const char* name, uint32_t length, uint64_t inode,
                uint64_t now_ns);
    Status unlink(uint64_t directory, const char* name, uint32_t length, uint64_t now_ns);
    Status remove_directory(uint64_t directory, const char* name, uint32_t length, uint64_t now_ns);
    Status rename(uint64_t from_directory, const char* from_name, uint32_t from_length,
                  uint64_t to_directory, const char* to_name, uint32_t to_length, uint64_t now_ns);
    // Cookie = byte position in the directory; 0 starts ("." and ".." are stored first);
    // ENOENT after the last entry.
    Status read_directory(uint64_t directory, uint64_t cookie, Entry* entry, uint64_t* next_cookie);
    // ENFILE when kReferenceSlots distinct inodes are open at once.
    Status retain(uint64_t inode);
    Status release(uint64_t inode);
    Usage usage() const;

    struct CacheCounters {
        uint64_t capacity_blocks, dirty_blocks, hits, misses, writebacks;
    };
    CacheCounters cache_counters() const;

private:
    friend class Buffer;
    using Inode = layout::Inode;
    using RegionHeader = layout::RegionHeader;

    // How a cache slot is filled on a miss.
    enum class Fill : uint8_t { Read, Zero, Overwrite };
    // What a directory walk found (ext2_directory.cpp).
    struct Place {
        uint64_t logical;   // directory block
        uint32_t offset;    // of the entry in the block
        uint32_t previous;  // offset of the entry before it in the block, or kNoPrevious
        layout::EntryHeader header;
    };
    static constexpr uint32_t kNoPrevious = 0xFFFFFFFFu;
    // Where a logical block hangs in the map: i_block[root], then `depth` map-block indexes.
    struct Path {
        uint32_t root;
        uint32_t depth;
        uint32_t index[3];
    };

    RegionHeader* header() const { return reinterpret_cast<RegionHeader*>(region_); }
    // ext2 seconds for the caller's clock, never behind the disk's last recorded time.
    uint32_t seconds(uint64_t now_ns) const;
    uint32_t block_size() const { return header()->block_size; }
    // Marks the volume corrupt (unmount writes EXT2_ERROR_FS) and answers EUCLEAN.
    Status corrupt() const;
    Status writable() const;

    // ext2_block_cache.cpp
    static bool lay_out_cache(uint64_t region_length, uint32_t block_size, RegionHeader* header);
    void reset_cache();
    layout::CacheSlot* slot(uint32_t index) const;
    uint32_t* bucket(uint32_t block) const;
    uint8_t* slot_data(uint32_t index) const;
    uint32_t find_slot(uint32_t block) const;
    void touch_slot(uint32_t index);
    void unlink_lru(uint32_t index);
    Status write_slot(uint32_t index);
    Status evict_one(uint32_t* index);
    Status get_block(uint32_t block, Fill fill, Buffer* buffer);
    bool block_cached(uint32_t block) const;
    Status write_back_all();
    void forget_block(uint32_t block);

    // ext2_mount.cpp
    Status write_superblock();
    Status load_descriptor(uint32_t group, layout::GroupDescriptor* descriptor);
    Status store_descriptor(uint32_t group, const layout::GroupDescriptor& descriptor);
    Status free_orphans(uint64_t now_ns);

    // ext2_allocation.cpp
    bool valid_inode_number(uint64_t inode) const;
    bool valid_data_block(uint32_t block) const;
    bool is_metadata_block(uint32_t block);
    Status inode_location(uint64_t inode, uint32_t* block, uint32_t* offset);
    Status read_inode(uint64_t inode, Inode* record);
    // ENOENT: reserved, out of range or deleted; EUCLEAN: a mode no kind has.
    Status load_inode(uint64_t inode, Inode* record);
    Status load_directory(uint64_t inode, Inode* record);
    Status store_inode(uint64_t inode, const Inode& record);
    Status initialise_inode(uint64_t inode);
    Status allocate_inode(uint64_t parent, bool directory, uint64_t* inode);
    Status release_inode_number(uint64_t inode, bool directory);
    Status allocate_block(uint32_t goal, uint32_t* block);
    Status release_block(uint32_t block);
    uint32_t group_first_block(uint32_t group) const;
    uint32_t free_blocks() const { return header()->superblock.free_blocks_count; }

    // ext2_block_map.cpp
    Status map_block(const Inode& record, uint64_t logical, uint32_t* block);
    Status map_path(uint64_t logical, Path* path) const;
    Status blocks_needed(const Inode& record, uint64_t logical, uint32_t* needed);
    Status map_block_for_write(uint64_t inode, Inode* record, uint64_t logical, bool* fresh,
                               uint32_t* block);
    Status free_blocks_from(Inode* record, uint64_t first_logical);
    Status free_tree(uint32_t block, uint32_t level, uint64_t base, uint64_t first, Inode* record);
    Status zero_tail(const Inode& record, uint64_t from);
    bool is_fast_symlink(const Inode& record) const;
    Status release_attribute_block(Inode* record);
    void add_blocks(Inode* record, int64_t count) const;
    Status free_inode(uint64_t inode, Inode* record, uint64_t now_ns);

    // ext2_directory.cpp
    bool directory_block_valid(const uint8_t* data) const;
    Status directory_block(const Inode& directory, uint64_t logical, Fill fill, Buffer* buffer);
    Status find_entry(const Inode& directory, const char* name, uint32_t length, Place* place);
    Status entry_space(const Inode& directory, uint32_t length, uint32_t* needed_blocks);
    Status add_entry(uint64_t directory, Inode* record, const char* name, uint32_t length,
                     uint64_t child, NodeKind kind);
    Status remove_entry(uint64_t directory, Inode* record, const Place& place);
    Status set_entry_inode(uint64_t directory, Inode* record, const Place& place, uint64_t child,
                           NodeKind kind);
    Status directory_is_empty(const Inode& directory, bool* empty);
    Status parent_of(const Inode& record, uint64_t* parent);
    Status set_parent(uint64_t directory, Inode* record, uint64_t parent);
    Status is_ancestor(uint64_t ancestor, uint64_t directory, bool* result);
    Status write_new_directory(uint64_t directory, Inode* record, uint64_t parent);
    uint8_t file_type(NodeKind kind) const;

    // ext2_namespace.cpp
    Status prepare_entry(uint64_t directory, const char* name, uint32_t length, Inode* parent);
    Status adjust_links(uint64_t inode, int32_t delta, uint64_t now_ns);
    Status drop_link(uint64_t inode, uint64_t now_ns);
    void touch(uint64_t inode, uint64_t now_ns);

    // ext2_file.cpp
    Status load_regular(uint64_t inode, Inode* record);
    Status write_into(uint64_t inode, Inode* record, uint64_t offset, const void* data,
                      uint64_t length, uint64_t* transferred);
    Status read_blocks(const Inode& record, uint64_t offset, uint8_t* out, uint64_t length);
    layout::Reference* find_reference(uint64_t inode) const;
    bool referenced(uint64_t inode) const;
    void set_size(Inode* record, uint64_t size);

    uint8_t* region_ = nullptr;
    Device* device_ = nullptr;
};

// Shared by the translation units; not part of the interface.
namespace detail {
uint64_t inode_size(const layout::Inode& record);
NodeKind kind_of(uint16_t mode, bool* valid);
uint16_t type_bits(NodeKind kind);
uint32_t seconds(uint64_t now_ns);
}  // namespace detail

inline uint32_t Volume::seconds(uint64_t now_ns) const {
    return detail::seconds(now_ns) + header()->clock_offset_seconds;
}

}  // namespace umka::ext2
