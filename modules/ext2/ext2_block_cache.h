// A pinned view of one cached block (ext2_block_cache.cpp). While a Buffer holds a slot the
// cache never evicts it, so the pointer stays valid; the destructor unpins. Every access is
// bounded by the block size, so no on-disk offset can reach outside the slot.
#pragma once

#include "ext2_volume.h"

namespace umka::ext2 {

class Buffer {
public:
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { release(); }

    uint8_t* data() const { return data_; }
    uint32_t size() const { return size_; }
    uint32_t block() const { return block_; }
    void mark_dirty();
    void release();

    template <typename Value>
    bool load(uint64_t offset, Value* value) const {
        if (data_ == nullptr || offset > size_ || size_ - offset < sizeof(Value)) return false;
        __builtin_memcpy(value, data_ + offset, sizeof(Value));
        return true;
    }
    template <typename Value>
    bool store(uint64_t offset, const Value& value) {
        if (data_ == nullptr || offset > size_ || size_ - offset < sizeof(Value)) return false;
        __builtin_memcpy(data_ + offset, &value, sizeof(Value));
        mark_dirty();
        return true;
    }

private:
    friend class Volume;
    Volume* volume_ = nullptr;
    uint32_t slot_ = layout::kNoSlot;
    uint32_t block_ = 0;
    uint32_t size_ = 0;
    uint8_t* data_ = nullptr;
};

}  // namespace umka::ext2
