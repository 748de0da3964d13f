// Arena geometry, inodes, the block bitmap, the block map and file contents. Directories
// are in tmpfs_directory.cpp and the consistency check in tmpfs_store_check.cpp.
#include "tmpfs_store.h"

namespace umka::tmpfs {

using layout::ArenaHeader;
using layout::Geometry;
using layout::InodeRecord;
using layout::kDirectBlocks;
using layout::kNumbersPerBlock;

namespace {

constexpr uint64_t kSingleBase = kDirectBlocks;
constexpr uint64_t kDoubleBase = kDirectBlocks + kNumbersPerBlock;
constexpr uint32_t kBitsPerBlock = kBlockSize * 8;
// Block numbers are uint32 and 0 means hole, so the data area stops short of 2^32 blocks.
constexpr uint64_t kMaximumArenaBlocks = 0xFFFFFFFEull;

constexpr uint64_t divide_up(uint64_t value, uint64_t unit) {
    return (value + unit - 1) / unit;
}
constexpr uint64_t minimum(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

uint64_t total_blocks(uint64_t data_blocks, Geometry* geometry) {
    uint64_t inodes = data_blocks / layout::kBlocksPerInode;
    if (inodes < layout::kMinimumInodes) inodes = layout::kMinimumInodes;
    uint64_t inode_blocks = divide_up(inodes * sizeof(InodeRecord), kBlockSize);
    uint64_t bitmap_blocks = divide_up(data_blocks, kBitsPerBlock);
    uint64_t scratch_blocks =
        divide_up(inodes * sizeof(layout::CheckScratch), kBlockSize) + bitmap_blocks;
    geometry->inode_count = static_cast<uint32_t>(inodes);
    geometry->data_block_count = static_cast<uint32_t>(data_blocks);
    geometry->inode_table_blocks = static_cast<uint32_t>(inode_blocks);
    geometry->bitmap_blocks = static_cast<uint32_t>(bitmap_blocks);
    geometry->scratch_blocks = static_cast<uint32_t>(scratch_blocks);
    return 1 + inode_blocks + bitmap_blocks + scratch_blocks + data_blocks;
}

bool valid_kind(uint8_t kind) {
    return kind <= static_cast<uint8_t>(NodeKind::Symlink);
}

}  // namespace

namespace detail {

bool compute_geometry(uint64_t length, Geometry* geometry) {
    uint64_t arena_blocks = minimum(length / kBlockSize, kMaximumArenaBlocks);
    uint64_t data = arena_blocks;
    // Overhead shrinks by at most one block per block of data removed, so one step down by
    // the deficit always fits; climbing back up then finds the largest data area that fits.
    uint64_t needed = total_blocks(data, geometry);
    if (needed > arena_blocks) {
        uint64_t deficit = needed - arena_blocks;
        if (deficit >= data) return false;
        data -= deficit;
    }
    Geometry larger{};
    while (total_blocks(data + 1, &larger) <= arena_blocks) ++data;
    total_blocks(data, geometry);
    return data >= layout::kMinimumDataBlocks;
}

uint32_t type_bits(NodeKind kind) {
    switch (kind) {
    case NodeKind::Regular:
        return 0100000;
    case NodeKind::Directory:
        return 0040000;
    case NodeKind::Symlink:
        return 0120000;
    }
    return 0;
}

InodeRecord fresh_inode(NodeKind kind, uint32_t permissions, uint64_t parent, uint64_t now_ns) {
    InodeRecord record{};
    record.mode = type_bits(kind) | (permissions & 07777);
    record.link_count = kind == NodeKind::Directory ? 2 : 1;
    record.kind = static_cast<uint8_t>(kind);
    record.parent = parent;
    record.modified_ns = now_ns;
    record.changed_ns = now_ns;
    return record;
}

}  // namespace detail

Status Store::format(void* arena, uint64_t length, uint64_t now_ns, Store* store) {
    if (arena == nullptr || store == nullptr) return UMKA_KABI_EINVAL;
    if (reinterpret_cast<uintptr_t>(arena) % kBlockSize != 0) return UMKA_KABI_EINVAL;
    Geometry geometry{};
    if (!detail::compute_geometry(length, &geometry)) return UMKA_KABI_EINVAL;

    ArenaHeader header{};
    header.magic = layout::kMagic;
    header.version = layout::kVersion;
    header.block_size = kBlockSize;
    header.arena_length = length;
    header.inode_count = geometry.inode_count;
    header.data_block_count = geometry.data_block_count;
    header.inode_table_block = 1;
    header.inode_table_blocks = geometry.inode_table_blocks;
    header.bitmap_block = header.inode_table_block + geometry.inode_table_blocks;
    header.bitmap_blocks = geometry.bitmap_blocks;
    header.scratch_block = header.bitmap_block + geometry.bitmap_blocks;
    header.scratch_blocks = geometry.scratch_blocks;
    header.data_block = header.scratch_block + geometry.scratch_blocks;
    header.free_blocks = geometry.data_block_count;
    header.free_inodes = geometry.inode_count - 1;
    header.inode_hint = 1;

    // Data blocks are zeroed when allocated, so formatting a large arena touches only the
    // metadata regions.
    auto* bytes = static_cast<uint8_t*>(arena);
    __builtin_memset(bytes, 0, uint64_t{header.data_block} * kBlockSize);
    Store result;
    result.arena_ = bytes;
    result.length_ = length;
    result.store_header(header);

    result.store_inode(kRootInode,
                       detail::fresh_inode(NodeKind::Directory, 0755, kRootInode, now_ns));
    *store = result;
    return Status::ok();
}

Status Store::attach(void* arena, uint64_t length, Store* store) {
    if (arena == nullptr || store == nullptr) return UMKA_KABI_EINVAL;
    if (reinterpret_cast<uintptr_t>(arena) % kBlockSize != 0) return UMKA_KABI_EINVAL;
    Store candidate;
    candidate.arena_ = static_cast<uint8_t*>(arena);
    candidate.length_ = length;
    if (!detail::header_agrees(candidate.header(), length)) return UMKA_KABI_EBADMSG;
    InodeRecord root{};
    if (candidate.load_directory(kRootInode, &root).is_error()) return UMKA_KABI_EBADMSG;
    *store = candidate;
    return Status::ok();
}

ArenaHeader Store::header() const {
    ArenaHeader header{};
    load(0, &header);
    return header;
}

Status Store::load_inode(uint64_t inode, InodeRecord* record) const {
    ArenaHeader header = this->header();
    if (inode == 0 || inode > header.inode_count) return UMKA_KABI_ENOENT;
    uint64_t offset =
        uint64_t{header.inode_table_block} * kBlockSize + (inode - 1) * sizeof(InodeRecord);
    if (!load(offset, record)) return UMKA_KABI_EBADMSG;
    if (record->mode == 0) return UMKA_KABI_ENOENT;
    if (!valid_kind(record->kind)) return UMKA_KABI_EBADMSG;
    auto kind = static_cast<NodeKind>(record->kind);
    if ((record->mode & 0170000) != detail::type_bits(kind)) return UMKA_KABI_EBADMSG;
    if (record->size > layout::kMaximumFileSize) return UMKA_KABI_EBADMSG;
    if (kind == NodeKind::Directory && record->size % kBlockSize != 0) return UMKA_KABI_EBADMSG;
    if (kind == NodeKind::Symlink && record->size > kMaximumLinkTarget) return UMKA_KABI_EBADMSG;
    return Status::ok();
}

Status Store::load_directory(uint64_t inode, InodeRecord* record) const {
    Status status = load_inode(inode, record);
    if (status.is_error()) return status;
    if (record->kind != static_cast<uint8_t>(NodeKind::Directory)) return UMKA_KABI_ENOTDIR;
    return Status::ok();
}

Status Store::load_regular(uint64_t inode, InodeRecord* record) const {
    Status status = load_inode(inode, record);
    if (status.is_error()) return status;
    if (record->kind == static_cast<uint8_t>(NodeKind::Directory)) return UMKA_KABI_EISDIR;
    if (record->kind != static_cast<uint8_t>(NodeKind::Regular)) return UMKA_KABI_EINVAL;
    return Status::ok();
}

void Store::store_inode(uint64_t inode, const InodeRecord& record) const {
    ArenaHeader header = this->header();
    if (inode == 0 || inode > header.inode_count) return;
    store(uint64_t{header.inode_table_block} * kBlockSize + (inode - 1) * sizeof(InodeRecord),
          record);
}

Status Store::allocate_inode(uint64_t* inode) const {
    ArenaHeader header = this->header();
    if (header.free_inodes == 0 || header.inode_count == 0) return UMKA_KABI_ENOSPC;
    uint64_t table = uint64_t{header.inode_table_block} * kBlockSize;
    for (uint64_t step = 0; step < header.inode_count; ++step) {
        uint64_t index = (header.inode_hint + step) % header.inode_count;
        uint32_t mode = 1;
        if (!load(table + index * sizeof(InodeRecord), &mode)) return UMKA_KABI_EBADMSG;
        if (mode != 0) continue;
        // The caller fills the record; only the counters and the hint change here.
        header.free_inodes -= 1;
        header.inode_hint = static_cast<uint32_t>((index + 1) % header.inode_count);
        store_header(header);
        *inode = index + 1;
        return Status::ok();
    }
    return UMKA_KABI_EBADMSG;  // the counter promised a free inode the table does not have
}

void Store::free_inode(uint64_t inode) const {
    InodeRecord record{};
    ArenaHeader header = this->header();
    if (inode == 0 || inode > header.inode_count) return;
    uint64_t offset =
        uint64_t{header.inode_table_block} * kBlockSize + (inode - 1) * sizeof(InodeRecord);
    if (!load(offset, &record) || record.mode == 0) return;
    (void)free_blocks_from(&record, 0);
    store(offset, InodeRecord{});
    header = this->header();  // free_blocks_from moved the block counter
    if (header.free_inodes < header.inode_count) header.free_inodes += 1;
    store_header(header);
}

uint64_t Store::block_offset(uint32_t number) const {
    ArenaHeader header = this->header();
    if (number == 0 || number > header.data_block_count) return 0;
    uint64_t offset = (uint64_t{header.data_block} + number - 1) * kBlockSize;
    return span(offset, kBlockSize) == nullptr ? 0 : offset;
}

bool Store::block_is_used(uint32_t number) const {
    ArenaHeader header = this->header();
    if (number == 0 || number > header.data_block_count) return false;
    uint64_t bit = number - 1;
    uint8_t byte = 0;
    if (!load(uint64_t{header.bitmap_block} * kBlockSize + bit / 8, &byte)) return false;
    return (byte >> (bit % 8)) & 1;
}

Status Store::allocate_block(uint32_t* number) const {
    ArenaHeader header = this->header();
    if (header.free_blocks == 0) return UMKA_KABI_ENOSPC;
    uint64_t bitmap = uint64_t{header.bitmap_block} * kBlockSize;
    uint64_t words = divide_up(header.data_block_count, 64);
    if (words == 0) return UMKA_KABI_ENOSPC;
    uint64_t first = (header.block_hint / 64) % words;
    for (uint64_t step = 0; step < words; ++step) {
        uint64_t word_index = (first + step) % words;
        uint64_t word = 0;
        if (!load(bitmap + word_index * 8, &word)) return UMKA_KABI_EBADMSG;
        uint64_t usable = header.data_block_count - word_index * 64;
        uint64_t free_bits = ~word & (usable >= 64 ? ~uint64_t{0} : (uint64_t{1} << usable) - 1);
        if (free_bits == 0) continue;
        uint64_t bit = word_index * 64 + __builtin_ctzll(free_bits);
        uint64_t offset = block_offset(static_cast<uint32_t>(bit + 1));
        if (offset == 0) return UMKA_KABI_EBADMSG;
        store(bitmap + word_index * 8, word | (uint64_t{1} << (bit % 64)));
        header.free_blocks -= 1;
        header.block_hint = static_cast<uint32_t>(bit + 1);
        store_header(header);
        // Zeroing here is what makes holes, fresh map blocks and directory records read as
        // empty without format() touching the data area.
        __builtin_memset(arena_ + offset, 0, kBlockSize);
        *number = static_cast<uint32_t>(bit + 1);
        return Status::ok();
    }
    return UMKA_KABI_EBADMSG;
}

void Store::release_block(uint32_t number) const {
    if (!block_is_used(number)) return;
    ArenaHeader header = this->header();
    uint64_t bit = number - 1;
    uint64_t offset = uint64_t{header.bitmap_block} * kBlockSize + bit / 8;
    uint8_t byte = 0;
    if (!load(offset, &byte)) return;
    store(offset, static_cast<uint8_t>(byte & ~(1u << (bit % 8))));
    if (header.free_blocks < header.data_block_count) header.free_blocks += 1;
    store_header(header);
}

Status Store::map_block(const InodeRecord& record, uint64_t logical, uint32_t* number) const {
    *number = 0;
    uint32_t found = 0;
    if (logical < kSingleBase) {
        found = record.direct[logical];
    } else if (logical < kDoubleBase) {
        if (record.single_indirect == 0) return Status::ok();
        uint64_t table = block_offset(record.single_indirect);
        if (table == 0 || !load(table + (logical - kSingleBase) * 4, &found)) {
            return UMKA_KABI_EBADMSG;
        }
    } else if (logical < layout::kMaximumFileBlocks) {
        if (record.double_indirect == 0) return Status::ok();
        uint64_t index = logical - kDoubleBase;
        uint64_t outer = block_offset(record.double_indirect);
        uint32_t inner_number = 0;
        if (outer == 0 || !load(outer + (index / kNumbersPerBlock) * 4, &inner_number)) {
            return UMKA_KABI_EBADMSG;
        }
        if (inner_number == 0) return Status::ok();
        uint64_t inner = block_offset(inner_number);
        if (inner == 0 || !load(inner + (index % kNumbersPerBlock) * 4, &found)) {
            return UMKA_KABI_EBADMSG;
        }
    } else {
        return UMKA_KABI_EFBIG;
    }
    if (found != 0 && block_offset(found) == 0) return UMKA_KABI_EBADMSG;
    *number = found;
    return Status::ok();
}

uint32_t Store::blocks_needed(const InodeRecord& record, uint64_t logical) const {
    if (logical < kSingleBase) return record.direct[logical] == 0 ? 1 : 0;
    if (logical < kDoubleBase) {
        if (record.single_indirect == 0) return 2;
    } else {
        if (record.double_indirect == 0) return 3;
        uint32_t inner = 0;
        load(
            block_offset(record.double_indirect) + ((logical - kDoubleBase) / kNumbersPerBlock) * 4,
            &inner);
        if (inner == 0) return 2;
    }
    uint32_t number = 0;
    (void)map_block(record, logical, &number);
    return number == 0 ? 1 : 0;
}

Status Store::map_block_for_write(InodeRecord* record, uint64_t logical, uint32_t* number) const {
    if (logical >= layout::kMaximumFileBlocks) return UMKA_KABI_EFBIG;
    Status status = map_block(*record, logical, number);
    if (status.is_error() || *number != 0) return status;
    // Reserve everything up front so a full arena never leaves a half-built map behind.
    if (header().free_blocks < blocks_needed(*record, logical)) return UMKA_KABI_ENOSPC;

    auto allocate = [&](uint32_t* into) -> Status {
        Status result = allocate_block(into);
        if (result.is_ok()) record->allocated_blocks += 1;
        return result;
    };
    uint32_t data = 0;
    if (logical < kSingleBase) {
        if ((status = allocate(&data)).is_error()) return status;
        record->direct[logical] = data;
    } else {
        uint64_t table = 0;
        uint64_t index = 0;
        if (logical < kDoubleBase) {
            if (record->single_indirect == 0) {
                if ((status = allocate(&record->single_indirect)).is_error()) return status;
            }
            table = block_offset(record->single_indirect);
            index = logical - kSingleBase;
        } else {
            if (record->double_indirect == 0) {
                if ((status = allocate(&record->double_indirect)).is_error()) return status;
            }
            uint64_t outer = block_offset(record->double_indirect);
            uint64_t slot = outer + ((logical - kDoubleBase) / kNumbersPerBlock) * 4;
            uint32_t inner = 0;
            if (outer == 0 || !load(slot, &inner)) return UMKA_KABI_EBADMSG;
            if (inner == 0) {
                if ((status = allocate(&inner)).is_error()) return status;
                store(slot, inner);
            }
            table = block_offset(inner);
            index = (logical - kDoubleBase) % kNumbersPerBlock;
        }
        if (table == 0) return UMKA_KABI_EBADMSG;
        if ((status = allocate(&data)).is_error()) return status;
        store(table + index * 4, data);
    }
    *number = data;
    return Status::ok();
}

Status Store::free_blocks_from(InodeRecord* record, uint64_t first) const {
    Status result = Status::ok();
    auto drop = [&](uint32_t number) {
        if (number == 0) return;
        if (!block_is_used(number)) {
            result = UMKA_KABI_EBADMSG;
            return;
        }
        release_block(number);
        if (record->allocated_blocks > 0) record->allocated_blocks -= 1;
    };
    // Frees the entries of one table of block numbers from `start` on.
    auto drop_table = [&](uint32_t table_number, uint64_t start) {
        uint64_t table = block_offset(table_number);
        if (table == 0) {
            result = UMKA_KABI_EBADMSG;
            return;
        }
        for (uint64_t index = start; index < kNumbersPerBlock; ++index) {
            uint32_t number = 0;
            load(table + index * 4, &number);
            if (number == 0) continue;
            drop(number);
            store(table + index * 4, uint32_t{0});
        }
    };
    for (uint64_t index = first; index < kSingleBase; ++index) {
        drop(record->direct[index]);
        record->direct[index] = 0;
    }
    if (record->single_indirect != 0 && first < kDoubleBase) {
        drop_table(record->single_indirect, first > kSingleBase ? first - kSingleBase : 0);
        if (first <= kSingleBase) {
            drop(record->single_indirect);
            record->single_indirect = 0;
        }
    }
    if (record->double_indirect != 0) {
        uint64_t outer = block_offset(record->double_indirect);
        for (uint64_t slot = 0; outer != 0 && slot < kNumbersPerBlock; ++slot) {
            uint64_t range_start = kDoubleBase + slot * kNumbersPerBlock;
            if (range_start + kNumbersPerBlock <= first) continue;
            uint32_t inner = 0;
            load(outer + slot * 4, &inner);
            if (inner == 0) continue;
            drop_table(inner, first > range_start ? first - range_start : 0);
            if (first <= range_start) {
                drop(inner);
                store(outer + slot * 4, uint32_t{0});
            }
        }
        if (outer == 0) result = UMKA_KABI_EBADMSG;
        if (first <= kDoubleBase) {
            drop(record->double_indirect);
            record->double_indirect = 0;
        }
    }
    return result;
}

Status Store::attributes(uint64_t inode, Attributes* attributes) const {
    if (attributes == nullptr) return UMKA_KABI_EINVAL;
    InodeRecord record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    attributes->inode = inode;
    attributes->size = record.size;
    attributes->blocks = uint64_t{record.allocated_blocks} * (kBlockSize / 512);
    attributes->mode = record.mode;
    attributes->link_count = record.link_count;
    attributes->kind = static_cast<NodeKind>(record.kind);
    attributes->modified_ns = record.modified_ns;
    attributes->changed_ns = record.changed_ns;
    return Status::ok();
}

Status Store::read_link(uint64_t inode, char* buffer, uint32_t capacity, uint32_t* length) const {
    if (length == nullptr || (buffer == nullptr && capacity != 0)) return UMKA_KABI_EINVAL;
    InodeRecord record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    if (record.kind != static_cast<uint8_t>(NodeKind::Symlink)) return UMKA_KABI_EINVAL;
    uint32_t number = 0;
    if ((status = map_block(record, 0, &number)).is_error()) return status;
    if (number == 0) return UMKA_KABI_EBADMSG;
    uint64_t copied = minimum(capacity, record.size);
    if (copied > 0) __builtin_memcpy(buffer, arena_ + block_offset(number), copied);
    *length = static_cast<uint32_t>(record.size);
    return Status::ok();
}

Status Store::read(uint64_t inode, uint64_t offset, void* buffer, uint64_t length,
                   uint64_t* transferred) const {
    if (transferred == nullptr || (buffer == nullptr && length != 0)) return UMKA_KABI_EINVAL;
    *transferred = 0;
    InodeRecord record{};
    Status status = load_regular(inode, &record);
    if (status.is_error()) return status;
    if (offset >= record.size) return Status::ok();
    uint64_t total = minimum(length, record.size - offset);
    auto* out = static_cast<uint8_t*>(buffer);
    uint64_t done = 0;
    while (done < total) {
        uint64_t position = offset + done;
        uint64_t within = position % kBlockSize;
        uint64_t chunk = minimum(kBlockSize - within, total - done);
        uint32_t number = 0;
        if ((status = map_block(record, position / kBlockSize, &number)).is_error()) {
            return status;
        }
        if (number == 0) {
            __builtin_memset(out + done, 0, chunk);
        } else {
            __builtin_memcpy(out + done, arena_ + block_offset(number) + within, chunk);
        }
        done += chunk;
    }
    *transferred = done;
    return Status::ok();
}

Status Store::write_into(InodeRecord* record, uint64_t offset, const void* data, uint64_t length,
                         uint64_t* transferred) const {
    const auto* in = static_cast<const uint8_t*>(data);
    uint64_t done = 0;
    Status status = Status::ok();
    while (done < length) {
        uint64_t position = offset + done;
        uint64_t within = position % kBlockSize;
        uint64_t chunk = minimum(kBlockSize - within, length - done);
        uint32_t number = 0;
        if ((status = map_block_for_write(record, position / kBlockSize, &number)).is_error()) {
            break;
        }
        __builtin_memcpy(arena_ + block_offset(number) + within, in + done, chunk);
        done += chunk;
    }
    *transferred = done;
    return status;
}

Status Store::write(uint64_t inode, uint64_t offset, const void* data, uint64_t length,
                    uint64_t now_ns, uint64_t* transferred) {
    if (transferred == nullptr || (data == nullptr && length != 0)) return UMKA_KABI_EINVAL;
    *transferred = 0;
    InodeRecord record{};
    Status status = load_regular(inode, &record);
    if (status.is_error()) return status;
    if (length == 0) return Status::ok();
    if (offset >= layout::kMaximumFileSize) return UMKA_KABI_EFBIG;
    // Like Linux, a write that crosses the size limit is cut short rather than refused.
    length = minimum(length, layout::kMaximumFileSize - offset);
    uint64_t done = 0;
    status = write_into(&record, offset, data, length, &done);
    if (done > 0) {
        if (offset + done > record.size) record.size = offset + done;
        record.modified_ns = now_ns;
        record.changed_ns = now_ns;
        status = Status::ok();
    }
    store_inode(inode, record);  // also keeps map blocks a failed write allocated
    *transferred = done;
    return status;
}

Status Store::truncate(uint64_t inode, uint64_t size, uint64_t now_ns) {
    InodeRecord record{};
    Status status = load_regular(inode, &record);
    if (status.is_error()) return status;
    if (size > layout::kMaximumFileSize) return UMKA_KABI_EFBIG;
    if (size < record.size) {
        status = free_blocks_from(&record, divide_up(size, kBlockSize));
        uint32_t number = 0;
        if (size % kBlockSize != 0 && map_block(record, size / kBlockSize, &number).is_ok() &&
            number != 0) {
            uint64_t within = size % kBlockSize;
            __builtin_memset(arena_ + block_offset(number) + within, 0, kBlockSize - within);
        }
    }
    record.size = size;
    record.modified_ns = now_ns;
    record.changed_ns = now_ns;
    store_inode(inode, record);
    return status;
}

Status Store::retain(uint64_t inode) {
    InodeRecord record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    if (record.references == UINT32_MAX) return UMKA_KABI_EOVERFLOW;
    record.references += 1;
    store_inode(inode, record);
    return Status::ok();
}

Status Store::release(uint64_t inode) {
    InodeRecord record{};
    Status status = load_inode(inode, &record);
    if (status.is_error()) return status;
    if (record.references == 0) return UMKA_KABI_EINVAL;
    record.references -= 1;
    store_inode(inode, record);
    if (record.references == 0 && record.link_count == 0) free_inode(inode);
    return Status::ok();
}

Usage Store::usage() const {
    ArenaHeader header = this->header();
    return Usage{kBlockSize, header.data_block_count, header.free_blocks, header.inode_count,
                 header.free_inodes};
}

}  // namespace umka::tmpfs
