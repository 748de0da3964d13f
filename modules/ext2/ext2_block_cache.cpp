// The write-back block cache: slot_count block-sized slots in the region, a hash from block
// number to slot and an LRU list, all as indexes so the region can move between instances.
// Metadata (bitmaps, inode tables, directories, map blocks, group descriptors) exists only
// here; a dirty slot reaches the device on eviction, sync or unmount.
#include "ext2_block_cache.h"

namespace umka::ext2 {

using layout::CacheSlot;
using layout::kNoSlot;
using layout::SlotState;

namespace {

constexpr uint64_t align_up(uint64_t value, uint64_t unit) {
    return (value + unit - 1) / unit * unit;
}

uint32_t hash(uint32_t block) {
    return block * 2654435761u;
}

}  // namespace

void Buffer::mark_dirty() {
    if (volume_ == nullptr || slot_ == kNoSlot) return;
    CacheSlot* entry = volume_->slot(slot_);
    if (entry->state == SlotState::Clean) {
        entry->state = SlotState::Dirty;
        volume_->header()->dirty_count += 1;
    }
}

void Buffer::release() {
    if (volume_ != nullptr && slot_ != kNoSlot) {
        CacheSlot* entry = volume_->slot(slot_);
        if (entry->pins > 0) entry->pins -= 1;
    }
    volume_ = nullptr;
    slot_ = kNoSlot;
    data_ = nullptr;
    size_ = 0;
}

bool Volume::lay_out_cache(uint64_t region_length, uint32_t block_size, RegionHeader* header) {
    uint64_t references = align_up(sizeof(RegionHeader), layout::kRegionAlignment);
    uint64_t slots = references + uint64_t{layout::kReferenceSlots} * sizeof(layout::Reference);
    if (region_length <= slots) return false;
    uint64_t count = (region_length - slots) / (block_size + sizeof(CacheSlot) + 8);
    if (count >= kNoSlot) count = kNoSlot - 1;
    // The estimate ignores alignment; stepping down a few slots always makes it fit.
    for (; count >= layout::kMinimumCacheSlots; --count) {
        uint64_t buckets = 1;
        while (buckets < count) buckets <<= 1;
        uint64_t bucket_offset = slots + count * sizeof(CacheSlot);
        uint64_t data = align_up(bucket_offset + buckets * 4, layout::kRegionAlignment);
        if (data + count * block_size > region_length) continue;
        header->slot_count = static_cast<uint32_t>(count);
        header->bucket_count = static_cast<uint32_t>(buckets);
        header->references_offset = references;
        header->slots_offset = slots;
        header->buckets_offset = bucket_offset;
        header->data_offset = data;
        return true;
    }
    return false;
}

void Volume::reset_cache() {
    RegionHeader* state = header();
    for (uint32_t index = 0; index < state->slot_count; ++index) {
        CacheSlot* entry = slot(index);
        *entry = CacheSlot{};
        entry->block = 0;
        entry->state = SlotState::Empty;
        entry->hash_next = kNoSlot;
        // Index 0 is the newest, slot_count - 1 the oldest.
        entry->lru_newer = index == 0 ? kNoSlot : index - 1;
        entry->lru_older = index + 1 == state->slot_count ? kNoSlot : index + 1;
    }
    auto* buckets = reinterpret_cast<uint32_t*>(region_ + state->buckets_offset);
    for (uint32_t index = 0; index < state->bucket_count; ++index) buckets[index] = kNoSlot;
    state->lru_newest = 0;
    state->lru_oldest = state->slot_count - 1;
    state->dirty_count = 0;
}

CacheSlot* Volume::slot(uint32_t index) const {
    return reinterpret_cast<CacheSlot*>(region_ + header()->slots_offset) + index;
}

uint32_t* Volume::bucket(uint32_t block) const {
    auto* buckets = reinterpret_cast<uint32_t*>(region_ + header()->buckets_offset);
    return buckets + (hash(block) & (header()->bucket_count - 1));
}

uint8_t* Volume::slot_data(uint32_t index) const {
    return region_ + header()->data_offset + uint64_t{index} * header()->block_size;
}

uint32_t Volume::find_slot(uint32_t block) const {
    uint32_t index = *bucket(block);
    for (uint32_t steps = 0; index != kNoSlot && steps < header()->slot_count; ++steps) {
        CacheSlot* entry = slot(index);
        if (entry->state != SlotState::Empty && entry->block == block) return index;
        index = entry->hash_next;
    }
    return kNoSlot;
}

bool Volume::block_cached(uint32_t block) const {
    return find_slot(block) != kNoSlot;
}

void Volume::unlink_lru(uint32_t index) {
    RegionHeader* state = header();
    CacheSlot* entry = slot(index);
    if (entry->lru_newer != kNoSlot) {
        slot(entry->lru_newer)->lru_older = entry->lru_older;
    } else {
        state->lru_newest = entry->lru_older;
    }
    if (entry->lru_older != kNoSlot) {
        slot(entry->lru_older)->lru_newer = entry->lru_newer;
    } else {
        state->lru_oldest = entry->lru_newer;
    }
    entry->lru_newer = kNoSlot;
    entry->lru_older = kNoSlot;
}

void Volume::touch_slot(uint32_t index) {
    RegionHeader* state = header();
    if (state->lru_newest == index) return;
    unlink_lru(index);
    CacheSlot* entry = slot(index);
    entry->lru_older = state->lru_newest;
    if (state->lru_newest != kNoSlot) slot(state->lru_newest)->lru_newer = index;
    state->lru_newest = index;
    if (state->lru_oldest == kNoSlot) state->lru_oldest = index;
}

Status Volume::write_slot(uint32_t index) {
    CacheSlot* entry = slot(index);
    if (entry->state != SlotState::Dirty) return Status::ok();
    uint64_t offset = uint64_t{entry->block} * block_size();
    if (device_->write(offset, slot_data(index), block_size()).is_error()) return UMKA_KABI_EIO;
    entry->state = SlotState::Clean;
    header()->dirty_count -= 1;
    header()->writebacks += 1;
    return Status::ok();
}

void Volume::forget_block(uint32_t block) {
    uint32_t index = find_slot(block);
    if (index == kNoSlot || slot(index)->pins != 0) return;
    CacheSlot* entry = slot(index);
    uint32_t* head = bucket(block);
    if (*head == index) {
        *head = entry->hash_next;
    } else {
        uint32_t walk = *head;
        for (uint32_t steps = 0; walk != kNoSlot && steps < header()->slot_count; ++steps) {
            if (slot(walk)->hash_next == index) {
                slot(walk)->hash_next = entry->hash_next;
                break;
            }
            walk = slot(walk)->hash_next;
        }
    }
    if (entry->state == SlotState::Dirty) header()->dirty_count -= 1;
    entry->state = SlotState::Empty;
    entry->hash_next = kNoSlot;
    // An empty slot is the first to be reused.
    unlink_lru(index);
    RegionHeader* state = header();
    entry->lru_newer = state->lru_oldest;
    if (state->lru_oldest != kNoSlot) slot(state->lru_oldest)->lru_older = index;
    state->lru_oldest = index;
    if (state->lru_newest == kNoSlot) state->lru_newest = index;
}

Status Volume::evict_one(uint32_t* index) {
    uint32_t candidate = header()->lru_oldest;
    for (uint32_t steps = 0; candidate != kNoSlot && steps < header()->slot_count; ++steps) {
        CacheSlot* entry = slot(candidate);
        if (entry->pins == 0) {
            if (entry->state != SlotState::Empty) {
                Status status = write_slot(candidate);
                if (status.is_error()) return status;
                forget_block(entry->block);
            }
            *index = candidate;
            return Status::ok();
        }
        candidate = entry->lru_newer;
    }
    return UMKA_KABI_EIO;  // every slot pinned: only a leak of Buffers could do this
}

Status Volume::get_block(uint32_t block, Fill fill, Buffer* buffer) {
    buffer->release();
    RegionHeader* state = header();
    if (block >= state->blocks_count) return corrupt();
    uint32_t index = find_slot(block);
    if (index != kNoSlot) {
        state->hits += 1;
    } else {
        state->misses += 1;
        Status status = evict_one(&index);
        if (status.is_error()) return status;
        CacheSlot* entry = slot(index);
        if (fill == Fill::Read) {
            if (device_
                    ->read(uint64_t{block} * state->block_size, slot_data(index), state->block_size)
                    .is_error()) {
                return UMKA_KABI_EIO;
            }
            entry->state = SlotState::Clean;
        } else {
            entry->state = SlotState::Dirty;
            state->dirty_count += 1;
        }
        entry->block = block;
        uint32_t* head = bucket(block);
        entry->hash_next = *head;
        *head = index;
    }
    touch_slot(index);
    CacheSlot* entry = slot(index);
    entry->pins += 1;
    buffer->volume_ = this;
    buffer->slot_ = index;
    buffer->block_ = block;
    buffer->size_ = state->block_size;
    buffer->data_ = slot_data(index);
    if (fill == Fill::Zero) {
        __builtin_memset(buffer->data_, 0, state->block_size);
        buffer->mark_dirty();
    } else if (fill == Fill::Overwrite) {
        buffer->mark_dirty();
    }
    return Status::ok();
}

Status Volume::write_back_all() {
    Status result = Status::ok();
    for (uint32_t index = 0; index < header()->slot_count; ++index) {
        Status status = write_slot(index);
        if (status.is_error()) result = status;
    }
    return result;
}

}  // namespace umka::ext2
