// The storage of the tmpfs module: a POSIX-style file system that lives entirely inside one
// caller-provided arena, so the module can hand the arena to its successor across a live swap
// and the successor re-attaches it without copying or translating anything. The arena size is
// the whole memory bound: no inode, block or name ever lives outside it.
//
// Arena layout (all integers little-endian, every region starts on a 4096-byte boundary):
//
//   block 0                 ArenaHeader: magic, version, length and the geometry below,
//                           the free block/inode counters and allocation hints.
//   inode table             inode_count InodeRecords of 128 bytes; inode number n is record
//                           n - 1 (inode 0 does not exist, inode 1 is the root directory).
//                           A record with mode 0 is free. One inode per 4 data blocks, >= 16.
//   block bitmap            one bit per data block, set when the block is in use.
//   check workspace         CheckScratch per inode plus one bit per data block; only check()
//                           uses it and its contents mean nothing between calls.
//   data blocks             data_block_count blocks of 4096 bytes. Block numbers stored in
//                           inodes and indirect blocks are 1-based (0 means hole).
//
// Each inode maps its contents through 12 direct block numbers, one single-indirect and one
// double-indirect block of 1024 uint32 block numbers each. A directory's data blocks hold
// 15 DirectoryRecords of 272 bytes per block (inode 0 marks a free record); "." and ".."
// are not stored: "." is the directory itself and ".." is InodeRecord::parent. A symlink keeps
// its target in one data block.
//
// Concurrency: the Store does no locking. Const members only read the arena except check(),
// which writes its workspace, so check() needs the same exclusion as a mutating member.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "umka/file_names.h"
#include "umka/kabi/kabi_base.h"

namespace umka::tmpfs {

using Status = umka::kabi::Status;

// Values match vfs.NodeKind in kabi-idl/vfs.kabi.
enum class NodeKind : uint8_t { Regular = 0, Directory = 1, Symlink = 2 };

inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kMaximumNameLength = 255;
inline constexpr uint32_t kMaximumLinkTarget = 4095;
inline constexpr uint64_t kRootInode = 1;

struct Attributes {
    uint64_t inode;
    uint64_t size;
    uint64_t blocks;  // 512-byte units, like st_blocks
    uint32_t mode;    // Linux mode: type bits S_IFREG 0100000, S_IFDIR 0040000, S_IFLNK 0120000
    uint32_t link_count;
    NodeKind kind;
    uint64_t modified_ns;
    uint64_t changed_ns;
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

namespace layout {

inline constexpr uint64_t kMagic = 0x4653504D414B4D55ull;  // "UMKAMPSF" read little-endian
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kDirectBlocks = 12;
inline constexpr uint32_t kNumbersPerBlock = kBlockSize / sizeof(uint32_t);
inline constexpr uint64_t kMaximumFileBlocks =
    kDirectBlocks + kNumbersPerBlock + uint64_t{kNumbersPerBlock} * kNumbersPerBlock;
inline constexpr uint64_t kMaximumFileSize = kMaximumFileBlocks * kBlockSize;
inline constexpr uint32_t kMaximumLinks = 65000;
inline constexpr uint32_t kBlocksPerInode = 4;
inline constexpr uint32_t kMinimumInodes = 16;
inline constexpr uint32_t kMinimumDataBlocks = 4;

struct ArenaHeader {
    uint64_t magic;
    uint32_t version;
    uint32_t block_size;
    uint64_t arena_length;
    uint32_t inode_count;
    uint32_t data_block_count;
    uint32_t inode_table_block;  // regions as block indexes from the arena start
    uint32_t inode_table_blocks;
    uint32_t bitmap_block;
    uint32_t bitmap_blocks;
    uint32_t scratch_block;
    uint32_t scratch_blocks;
    uint32_t data_block;
    uint32_t free_blocks;
    uint32_t free_inodes;
    uint32_t inode_hint;  // where the next free-inode search starts (0-based record)
    uint32_t block_hint;  // where the next free-block search starts (0-based bit)
    uint32_t reserved;
};
static_assert(sizeof(ArenaHeader) == 80);

struct InodeRecord {
    uint32_t mode;  // 0: the record is free
    uint32_t link_count;
    uint32_t references;  // retain() minus release(): open files keep an unlinked inode
    uint8_t kind;
    uint8_t reserved_13[3];
    uint64_t size;
    uint64_t parent;  // directories: the inode ".." names
    uint64_t modified_ns;
    uint64_t changed_ns;
    uint32_t allocated_blocks;  // data and map blocks, for st_blocks
    uint32_t direct[kDirectBlocks];
    uint32_t single_indirect;
    uint32_t double_indirect;
    uint8_t reserved_108[20];
};
static_assert(sizeof(InodeRecord) == 128);

inline constexpr uint32_t kRecordSize = 272;
inline constexpr uint32_t kRecordsPerBlock = kBlockSize / kRecordSize;
inline constexpr uint32_t kRecordNameOffset = 10;

struct DirectoryRecord {
    uint64_t inode;  // 0: the record is free
    uint8_t kind;
    uint8_t name_length;
    char name[kMaximumNameLength];
    uint8_t padding[kRecordSize - 8 - 2 - kMaximumNameLength];
};
static_assert(sizeof(DirectoryRecord) == kRecordSize);

struct CheckScratch {
    uint32_t entries;  // directory records naming this inode
    uint32_t subdirectories;
    uint32_t reach;  // ReachState while proving every directory hangs off the root
    uint32_t reserved;
};
static_assert(sizeof(CheckScratch) == 16);

// Where each region starts, as a pure function of the arena length so attach() can verify a
// header against the length it is given.
struct Geometry {
    uint32_t inode_count;
    uint32_t data_block_count;
    uint32_t inode_table_blocks;
    uint32_t bitmap_blocks;
    uint32_t scratch_blocks;
};

}  // namespace layout

class Store {
public:
    // Lays out a fresh file system in [arena, arena + length): a header, an inode table
    // (one inode per 4 data blocks, at least 16), a block bitmap and data blocks; the root
    // directory is inode 1 with mode 040755 and link count 2. EINVAL: arena null, not
    // 4096-aligned, or too small for the root and 4 blocks.
    static Status format(void* arena, uint64_t length, uint64_t now_ns, Store* store);
    // Re-opens an arena format() laid out (after a live swap): the header's magic, version,
    // length and table geometry must agree with `length`; EBADMSG with no change otherwise.
    static Status attach(void* arena, uint64_t length, Store* store);

    // ENOTDIR, ENOENT, ENAMETOOLONG; "." and ".." are answered (.. of root is root).
    Status lookup(uint64_t directory, const char* name, uint32_t length, uint64_t* inode) const;
    // ENOENT for a free/out-of-range inode.
    Status attributes(uint64_t inode, Attributes* attributes) const;
    // Regular or Directory only (EINVAL for Symlink); EEXIST, ENOSPC (no inode or no block),
    // ENOTDIR, ENAMETOOLONG, EINVAL for empty name, '/' or NUL inside, "." or ".."; a new
    // directory has link count 2 and its parent's link count grows by 1.
    Status create(uint64_t directory, const char* name, uint32_t length, NodeKind kind,
                  uint32_t permissions, uint64_t now_ns, uint64_t* inode);
    // Target 1..4095 bytes else ENAMETOOLONG/EINVAL.
    Status symlink(uint64_t directory, const char* name, uint32_t length, const char* target,
                   uint32_t target_length, uint64_t now_ns, uint64_t* inode);
    // EINVAL if not a symlink; copies min(capacity, size), *length = full size.
    Status read_link(uint64_t inode, char* buffer, uint32_t capacity, uint32_t* length) const;
    // EISDIR for a directory, EINVAL for a symlink; past end: 0 bytes; holes read as zeros.
    Status read(uint64_t inode, uint64_t offset, void* buffer, uint64_t length,
                uint64_t* transferred) const;
    // EISDIR; EFBIG past the largest file the block map can address; ENOSPC when no block is
    // free: bytes written before that are kept and counted in *transferred (ok when
    // *transferred > 0, like Linux's short write); writing past the end leaves a hole.
    Status write(uint64_t inode, uint64_t offset, const void* data, uint64_t length,
                 uint64_t now_ns, uint64_t* transferred);
    // Grows with a hole or shrinks, freeing whole blocks past the end and zeroing the tail of
    // the last partial block so a later grow reads zeros there.
    Status truncate(uint64_t inode, uint64_t size, uint64_t now_ns);
    // Hard link; EPERM for a directory; EEXIST; EMLINK at 65000 links.
    Status link(uint64_t directory, const char* name, uint32_t length, uint64_t inode,
                uint64_t now_ns);
    // EISDIR for a directory; link count -1; frees the inode and its blocks when it reaches 0
    // and no reference is held (see retain).
    Status unlink(uint64_t directory, const char* name, uint32_t length, uint64_t now_ns);
    // ENOTDIR, ENOTEMPTY, EINVAL for ".", EBUSY for the root; parent's link count -1.
    Status remove_directory(uint64_t directory, const char* name, uint32_t length, uint64_t now_ns);
    // Atomic rename with Linux rename(2) rules: file over file ok; dir over empty dir ok
    // (ENOTEMPTY if not empty); dir over file ENOTDIR; file over dir EISDIR; moving a
    // directory into itself or its own subtree EINVAL; same inode for both names: ok, no
    // change; a moved directory's ".." and the link counts are updated; the replaced target
    // is unlinked as by unlink. Nothing changes when an error is returned.
    Status rename(uint64_t from_directory, const char* from_name, uint32_t from_length,
                  uint64_t to_directory, const char* to_name, uint32_t to_length, uint64_t now_ns);
    // Cookie 0 starts; "." and ".." come first, then entries in directory order; ENOENT after
    // the last. A cookie is a record slot index, so it stays valid across inserts and removes
    // of other entries.
    Status read_directory(uint64_t directory, uint64_t cookie, Entry* entry,
                          uint64_t* next_cookie) const;
    // Open-file references: an unlinked inode whose references are not all released keeps
    // its data (readable/writable through its inode number) and is freed by the last release.
    Status retain(uint64_t inode);
    Status release(uint64_t inode);
    Usage usage() const;
    // Full consistency check: ok or EBADMSG. Writes only the check workspace (see above).
    Status check() const;

private:
    using InodeRecord = layout::InodeRecord;
    using ArenaHeader = layout::ArenaHeader;

    // The Store is only a handle, so helpers that write the arena are const members too; the
    // const on public members is the contract (only check() writes, and only its workspace).
    // Every arena access goes through these so that no field, however corrupt, can make
    // the store touch memory outside [arena_, arena_ + length_).
    template <typename Value>
    bool load(uint64_t offset, Value* value) const {
        if (offset > length_ || length_ - offset < sizeof(Value)) return false;
        __builtin_memcpy(value, arena_ + offset, sizeof(Value));
        return true;
    }
    template <typename Value>
    bool store(uint64_t offset, const Value& value) const {
        if (offset > length_ || length_ - offset < sizeof(Value)) return false;
        __builtin_memcpy(arena_ + offset, &value, sizeof(Value));
        return true;
    }
    uint8_t* span(uint64_t offset, uint64_t size) const {
        if (offset > length_ || length_ - offset < size) return nullptr;
        return arena_ + offset;
    }

    ArenaHeader header() const;
    void store_header(const ArenaHeader& header) const { store(0, header); }
    // ENOENT: out of range or free; EBADMSG: the record contradicts itself.
    Status load_inode(uint64_t inode, InodeRecord* record) const;
    Status load_directory(uint64_t inode, InodeRecord* record) const;
    void store_inode(uint64_t inode, const InodeRecord& record) const;
    Status allocate_inode(uint64_t* inode) const;
    void free_inode(uint64_t inode) const;

    // Arena offset of data block `number` (1-based), 0 when out of range.
    uint64_t block_offset(uint32_t number) const;
    bool block_is_used(uint32_t number) const;
    Status allocate_block(uint32_t* number) const;
    void release_block(uint32_t number) const;
    Status map_block(const InodeRecord& record, uint64_t logical, uint32_t* number) const;
    uint32_t blocks_needed(const InodeRecord& record, uint64_t logical) const;
    Status map_block_for_write(InodeRecord* record, uint64_t logical, uint32_t* number) const;
    Status free_blocks_from(InodeRecord* record, uint64_t first_logical) const;
    Status write_into(InodeRecord* record, uint64_t offset, const void* data, uint64_t length,
                      uint64_t* transferred) const;
    void drop_link(uint64_t inode, uint64_t now_ns) const;
    Status adjust_links(uint64_t inode, int32_t delta, uint64_t now_ns) const;
    void touch(uint64_t inode, uint64_t now_ns) const;

    // Regular files only: EISDIR for a directory, EINVAL for a symlink.
    Status load_regular(uint64_t inode, InodeRecord* record) const;

    // tmpfs_directory.cpp
    Status record_offset(const InodeRecord& directory, uint64_t slot, uint64_t* offset) const;
    Status find_entry(const InodeRecord& directory, const char* name, uint32_t length,
                      uint64_t* slot, layout::DirectoryRecord* found) const;
    // The first record that is in use (or free when `in_use` is false); *found false if none.
    Status find_record(const InodeRecord& directory, bool in_use, uint64_t* offset,
                       bool* found) const;
    // What create, symlink and link demand of the directory a new name goes into: a live
    // directory, a valid name and no entry of that name yet.
    Status prepare_entry(uint64_t directory, const char* name, uint32_t length,
                         InodeRecord* parent) const;
    Status entry_blocks_needed(const InodeRecord& directory, uint32_t* needed) const;
    Status add_entry(uint64_t directory, const char* name, uint32_t length, uint64_t child,
                     NodeKind kind) const;
    Status remove_entry(uint64_t directory, uint64_t slot) const;
    Status directory_is_empty(const InodeRecord& directory, bool* empty) const;
    Status is_ancestor(uint64_t ancestor, uint64_t directory, bool* result) const;

    // tmpfs_store_check.cpp
    Status check_inode_blocks(uint64_t inode, const InodeRecord& record) const;
    Status check_directory(uint64_t inode, const InodeRecord& record) const;
    Status check_reachable(uint64_t inode) const;
    uint64_t scratch_offset(uint64_t inode) const;
    bool mark_visited(uint32_t number) const;

    uint8_t* arena_ = nullptr;
    uint64_t length_ = 0;
};

// Shared by the translation units; not part of the interface.
namespace detail {
inline uint64_t record_slots(const layout::InodeRecord& directory) {
    return directory.size / kBlockSize * layout::kRecordsPerBlock;
}
bool compute_geometry(uint64_t length, layout::Geometry* geometry);
// True when `header` is exactly what format() writes for an arena of `length` bytes, apart
// from the counters and hints, which only have to be in range.
bool header_agrees(const layout::ArenaHeader& header, uint64_t length);
uint32_t type_bits(NodeKind kind);
// A new inode's record before it has any blocks: a directory starts with "." and its entry
// as links, anything else with its one entry.
layout::InodeRecord fresh_inode(NodeKind kind, uint32_t permissions, uint64_t parent,
                                uint64_t now_ns);
}  // namespace detail

}  // namespace umka::tmpfs
