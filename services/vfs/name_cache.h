// The VFS's name cache (Linux's dcache, bounded): (mount, directory inode, name) -> inode for
// names up to 38 bytes, so a path walk through a large directory does not ask the file system
// to scan it again. It lives in one region the VFS allocates once (kNameCacheBytes, the
// documented bound: 16384 names) and is a cache only: a fresh or replacement VFS may clear it.
//
// Coherence: every change of a name goes through the VFS, which forgets that name (unlink,
// rmdir, rename's two names) or the whole mount (mount, unmount) after the file system
// acted. Only positive answers are cached; a name that does not exist is always asked.
// 4-way set associative, so a lookup or an update reads at most 4 entries.
#pragma once

#include <stdint.h>

namespace umka::vfs {

inline constexpr uint32_t kNameCacheWays = 4;
inline constexpr uint32_t kNameCacheEntries = 16384;
inline constexpr uint32_t kCachedNameMaximum = 38;

struct NameCacheEntry {
    uint64_t directory;
    uint64_t inode;
    uint32_t mount_plus_one;  // 0: the entry is free
    uint32_t hash;
    uint8_t length;
    uint8_t name[kCachedNameMaximum];  // not NUL-terminated: `length` bytes
    uint8_t reserved;
};
static_assert(sizeof(NameCacheEntry) == 64);

inline constexpr uint64_t kNameCacheBytes = uint64_t{kNameCacheEntries} * sizeof(NameCacheEntry);

class NameCache {
public:
    // `memory`: kNameCacheBytes, zeroed (all free) or as a previous NameCache left it.
    explicit NameCache(void* memory) : entries_(static_cast<NameCacheEntry*>(memory)) {}

    bool find(uint32_t mount, uint64_t directory, const char* name, uint32_t length,
              uint64_t* inode) const;
    // Names longer than kCachedNameMaximum are not kept.
    void insert(uint32_t mount, uint64_t directory, const char* name, uint32_t length,
                uint64_t inode);
    void forget(uint32_t mount, uint64_t directory, const char* name, uint32_t length);
    void forget_mount(uint32_t mount);

private:
    static uint32_t hash_of(uint32_t mount, uint64_t directory, const char* name, uint32_t length);
    NameCacheEntry* set_of(uint32_t hash) const;
    static bool matches(const NameCacheEntry& entry, uint32_t mount, uint64_t directory,
                        uint32_t hash, const char* name, uint32_t length);

    NameCacheEntry* entries_;
};

}  // namespace umka::vfs
