// File contents (read, write, truncate), symlink targets, attributes and the open-inode
// reference table that keeps unlinked inodes alive until their last release.
#include "ext2_block_cache.h"

namespace umka::ext2 {

using layout::Reference;

namespace {

constexpr uint64_t minimum(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

// One multi-block device read moves at most this much, so a huge read stays in bounded
// device requests.
constexpr uint64_t kMaximumRunBytes = 1u << 20;

}  // namespace

Reference* Volume::find_reference(uint64_t inode) const {
    auto* table = reinterpret_cast<Reference*>(region_ + header()->references_offset);
    for (uint32_t index = 0; index < layout::kReferenceSlots; ++index) {
        if (table[index].inode == inode && inode != 0) return &table[index];
    }
    return nullptr;
}

bool Volume::referenced(uint64_t inode) const {
    return find_reference(inode) != nullptr;
}

void Volume::set_size(Inode* record, uint64_t size) {
    record->size = static_cast<uint32_t>(size);
    if ((record->mode & layout::kTypeMask) == layout::kTypeRegular) {
        record->size_high = static_cast<uint32_t>(size >> 32);
    }
    layout::Superblock& super = header()->superblock;
    if (size > 0x7FFFFFFFull && (super.feature_ro_compat & layout::kRoCompatLargeFile) == 0) {
        super.feature_ro_compat |= layout::kRoCompatLargeFile;
        header()->superblock_dirty = 1;
    }
}

Status Volume::load_regular(uint64_t inode, Inode* record) {
    Status status = load_inode(inode, record);
    if (status.is_error()) return status;
    uint16_t type = record->mode & layout::kTypeMask;
    if (type == layout::kTypeDirectory) return UMKA_KABI_EISDIR;
    if (type != layout::kTypeRegular) return UMKA_KABI_EINVAL;
    return Status::ok();
}

Status Volume::attributes(uint64_t inode, Attributes* attributes) {
    if (attributes == nullptr) return UMKA_KABI_EINVAL;
    Inode record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    bool valid = false;
    attributes->inode = inode;
    attributes->size = detail::inode_size(record);
    attributes->blocks = record.blocks;
    attributes->mode = record.mode;
    attributes->link_count = record.links_count;
    attributes->user_id = record.uid | uint32_t{record.uid_high} << 16;
    attributes->group_id = record.gid | uint32_t{record.gid_high} << 16;
    attributes->kind = detail::kind_of(record.mode, &valid);
    attributes->modified_ns = uint64_t{record.modify_time} * 1000000000ull;
    attributes->changed_ns = uint64_t{record.change_time} * 1000000000ull;
    return Status::ok();
}

Status Volume::read_link(uint64_t inode, char* buffer, uint32_t capacity, uint32_t* length) {
    if (length == nullptr || (buffer == nullptr && capacity != 0)) return UMKA_KABI_EINVAL;
    Inode record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    if ((record.mode & layout::kTypeMask) != layout::kTypeSymlink) return UMKA_KABI_EINVAL;
    uint64_t size = record.size;
    uint64_t copied = minimum(capacity, size);
    if (is_fast_symlink(record)) {
        if (size > layout::kFastSymlinkMaximum) return corrupt();
        if (copied > 0) __builtin_memcpy(buffer, record.block, copied);
    } else {
        if (size >= block_size()) return corrupt();
        uint32_t block = 0;
        if ((status = map_block(record, 0, &block)).is_error()) return status;
        if (block == 0) return corrupt();
        Buffer data;
        if ((status = get_block(block, Fill::Read, &data)).is_error()) return status;
        if (copied > 0) __builtin_memcpy(buffer, data.data(), copied);
    }
    *length = static_cast<uint32_t>(size);
    return Status::ok();
}

Status Volume::read_blocks(const Inode& record, uint64_t offset, uint8_t* out, uint64_t length) {
    uint32_t size = block_size();
    uint64_t done = 0;
    while (done < length) {
        uint64_t position = offset + done;
        uint64_t logical = position / size;
        uint64_t within = position % size;
        uint64_t chunk = minimum(size - within, length - done);
        uint32_t block = 0;
        Status status = map_block(record, logical, &block);
        if (status.is_error()) return status;
        if (block == 0) {
            __builtin_memset(out + done, 0, chunk);
            done += chunk;
            continue;
        }
        if (chunk == size && !block_cached(block)) {
            // Whole blocks that are neither cached nor holes go straight from the device into
            // the caller's buffer, physically contiguous ones in one request.
            uint64_t run = 1;
            while (done + (run + 1) * size <= length && (run + 1) * size <= kMaximumRunBytes) {
                uint32_t next = 0;
                if (map_block(record, logical + run, &next).is_error() || next != block + run ||
                    block_cached(next)) {
                    break;
                }
                ++run;
            }
            if (device_->read(uint64_t{block} * size, out + done, static_cast<uint32_t>(run * size))
                    .is_error()) {
                return UMKA_KABI_EIO;
            }
            done += run * size;
            continue;
        }
        Buffer buffer;
        if ((status = get_block(block, Fill::Read, &buffer)).is_error()) return status;
        __builtin_memcpy(out + done, buffer.data() + within, chunk);
        done += chunk;
    }
    return Status::ok();
}

Status Volume::read(uint64_t inode, uint64_t offset, void* buffer, uint64_t length,
                    uint64_t* transferred) {
    if (transferred == nullptr || (buffer == nullptr && length != 0)) return UMKA_KABI_EINVAL;
    *transferred = 0;
    Inode record{};
    Status status = load_regular(inode, &record);
    if (status.is_error()) return status;
    uint64_t size = detail::inode_size(record);
    if (offset >= size) return Status::ok();
    uint64_t total = minimum(length, size - offset);
    if ((status = read_blocks(record, offset, static_cast<uint8_t*>(buffer), total)).is_error()) {
        return status;
    }
    *transferred = total;
    return Status::ok();
}

Status Volume::zero_tail(const Inode& record, uint64_t from) {
    uint32_t within = static_cast<uint32_t>(from % block_size());
    if (within == 0) return Status::ok();
    uint32_t block = 0;
    Status status = map_block(record, from / block_size(), &block);
    if (status.is_error() || block == 0) return status;
    Buffer buffer;
    if ((status = get_block(block, Fill::Read, &buffer)).is_error()) return status;
    __builtin_memset(buffer.data() + within, 0, block_size() - within);
    buffer.mark_dirty();
    return Status::ok();
}

Status Volume::write_into(uint64_t inode, Inode* record, uint64_t offset, const void* data,
                          uint64_t length, uint64_t* transferred) {
    const auto* in = static_cast<const uint8_t*>(data);
    uint32_t size = block_size();
    uint64_t done = 0;
    Status status = Status::ok();
    while (done < length) {
        uint64_t position = offset + done;
        uint64_t within = position % size;
        uint64_t chunk = minimum(size - within, length - done);
        bool fresh = false;
        uint32_t block = 0;
        status = map_block_for_write(inode, record, position / size, &fresh, &block);
        if (status.is_error()) break;
        // A whole-block write never needs the old contents; a fresh partial one starts zeroed.
        Fill fill = chunk == size ? Fill::Overwrite : fresh ? Fill::Zero : Fill::Read;
        Buffer buffer;
        if ((status = get_block(block, fill, &buffer)).is_error()) break;
        __builtin_memcpy(buffer.data() + within, in + done, chunk);
        buffer.mark_dirty();
        done += chunk;
    }
    *transferred = done;
    return status;
}

Status Volume::write(uint64_t inode, uint64_t offset, const void* data, uint64_t length,
                     uint64_t now_ns, uint64_t* transferred) {
    if (transferred == nullptr || (data == nullptr && length != 0)) return UMKA_KABI_EINVAL;
    *transferred = 0;
    Status status = writable();
    if (status.is_error()) return status;
    Inode record{};
    if ((status = load_regular(inode, &record)).is_error()) return status;
    if (length == 0) return Status::ok();
    uint64_t maximum = header()->maximum_file_size;
    if (offset >= maximum) return UMKA_KABI_EFBIG;
    // Like Linux, a write that crosses the size limit is cut short rather than refused.
    length = minimum(length, maximum - offset);
    uint64_t size = detail::inode_size(record);
    if (offset > size && (status = zero_tail(record, size)).is_error()) return status;
    uint64_t done = 0;
    status = write_into(inode, &record, offset, data, length, &done);
    if (done > 0) {
        if (offset + done > size) set_size(&record, offset + done);
        record.modify_time = record.change_time = seconds(now_ns);
        if (status != UMKA_KABI_EUCLEAN) status = Status::ok();
    }
    Status stored = store_inode(inode, record);  // also keeps map blocks a failed write added
    *transferred = done;
    return status.is_error() ? status : stored;
}

Status Volume::truncate(uint64_t inode, uint64_t size, uint64_t now_ns) {
    Status status = writable();
    if (status.is_error()) return status;
    Inode record{};
    if ((status = load_regular(inode, &record)).is_error()) return status;
    if (size > header()->maximum_file_size) return UMKA_KABI_EFBIG;
    uint64_t old_size = detail::inode_size(record);
    if (size < old_size) {
        uint64_t first = (size + block_size() - 1) / block_size();
        status = free_blocks_from(&record, first);
        if (status.is_ok()) status = zero_tail(record, size);
    } else if (size > old_size) {
        status = zero_tail(record, old_size);
    }
    if (status.is_ok()) set_size(&record, size);
    record.modify_time = record.change_time = seconds(now_ns);
    Status stored = store_inode(inode, record);
    return status.is_error() ? status : stored;
}

Status Volume::retain(uint64_t inode) {
    Inode record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    Reference* reference = find_reference(inode);
    if (reference != nullptr) {
        if (reference->count == UINT32_MAX) return UMKA_KABI_EOVERFLOW;
        reference->count += 1;
        return Status::ok();
    }
    auto* table = reinterpret_cast<Reference*>(region_ + header()->references_offset);
    for (uint32_t index = 0; index < layout::kReferenceSlots && reference == nullptr; ++index) {
        if (table[index].inode == 0) reference = &table[index];
    }
    if (reference == nullptr) return UMKA_KABI_ENFILE;
    reference->inode = static_cast<uint32_t>(inode);
    reference->count = 1;
    return Status::ok();
}

Status Volume::release(uint64_t inode) {
    Inode record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    Reference* reference = find_reference(inode);
    if (reference == nullptr || reference->count == 0) return UMKA_KABI_EINVAL;
    reference->count -= 1;
    if (reference->count > 0) return Status::ok();
    *reference = Reference{};
    if (record.links_count != 0 || mode() == MountMode::ReadOnly) return Status::ok();
    return free_inode(inode, &record, uint64_t{record.change_time} * 1000000000ull);
}

}  // namespace umka::ext2
