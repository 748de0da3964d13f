// The VFS's name cache (name_cache.h).
#include "name_cache.h"

namespace umka::vfs {

uint32_t NameCache::hash_of(uint32_t mount, uint64_t directory, const char* name, uint32_t length) {
    // FNV-1a over the name, then the mount and directory folded in.
    uint32_t hash = 2166136261u;
    for (uint32_t index = 0; index < length; ++index) {
        hash = (hash ^ uint8_t(name[index])) * 16777619u;
    }
    uint64_t mixed = (directory ^ (uint64_t{mount} << 56)) * 0x9E3779B97F4A7C15ull;
    return hash ^ uint32_t(mixed >> 32) ^ uint32_t(mixed);
}

NameCacheEntry* NameCache::set_of(uint32_t hash) const {
    constexpr uint32_t kSets = kNameCacheEntries / kNameCacheWays;
    static_assert((kSets & (kSets - 1)) == 0);
    return entries_ + (hash & (kSets - 1)) * kNameCacheWays;
}

bool NameCache::matches(const NameCacheEntry& entry, uint32_t mount, uint64_t directory,
                        uint32_t hash, const char* name, uint32_t length) {
    return entry.mount_plus_one == mount + 1 && entry.hash == hash &&
           entry.directory == directory && entry.length == length &&
           __builtin_memcmp(entry.name, name, length) == 0;
}

bool NameCache::find(uint32_t mount, uint64_t directory, const char* name, uint32_t length,
                     uint64_t* inode) const {
    if (length == 0 || length > kCachedNameMaximum) return false;
    uint32_t hash = hash_of(mount, directory, name, length);
    NameCacheEntry* set = set_of(hash);
    for (uint32_t way = 0; way < kNameCacheWays; ++way) {
        if (matches(set[way], mount, directory, hash, name, length)) {
            *inode = set[way].inode;
            return true;
        }
    }
    return false;
}

void NameCache::insert(uint32_t mount, uint64_t directory, const char* name, uint32_t length,
                       uint64_t inode) {
    if (length == 0 || length > kCachedNameMaximum) return;
    uint32_t hash = hash_of(mount, directory, name, length);
    NameCacheEntry* set = set_of(hash);
    NameCacheEntry* slot = nullptr;
    for (uint32_t way = 0; way < kNameCacheWays && slot == nullptr; ++way) {
        if (matches(set[way], mount, directory, hash, name, length) ||
            set[way].mount_plus_one == 0) {
            slot = &set[way];
        }
    }
    // A full set gives up the way the hash's high bits pick: no bookkeeping to keep in step.
    if (slot == nullptr) slot = &set[(hash >> 28) % kNameCacheWays];
    *slot = NameCacheEntry{};
    slot->directory = directory;
    slot->inode = inode;
    slot->mount_plus_one = mount + 1;
    slot->hash = hash;
    slot->length = uint8_t(length);
    __builtin_memcpy(slot->name, name, length);
}

void NameCache::forget(uint32_t mount, uint64_t directory, const char* name, uint32_t length) {
    if (length == 0 || length > kCachedNameMaximum) return;
    uint32_t hash = hash_of(mount, directory, name, length);
    NameCacheEntry* set = set_of(hash);
    for (uint32_t way = 0; way < kNameCacheWays; ++way) {
        if (matches(set[way], mount, directory, hash, name, length)) set[way] = NameCacheEntry{};
    }
}

void NameCache::forget_mount(uint32_t mount) {
    for (uint32_t index = 0; index < kNameCacheEntries; ++index) {
        if (entries_[index].mount_plus_one == mount + 1) entries_[index] = NameCacheEntry{};
    }
}

}  // namespace umka::vfs
