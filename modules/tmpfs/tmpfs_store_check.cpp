// The consistency check: what a healthy arena must look like, used by attach() on the header
// and by check() on everything.
#include "tmpfs_store.h"

namespace umka::tmpfs {

using layout::ArenaHeader;
using layout::DirectoryRecord;
using layout::Geometry;
using layout::InodeRecord;

namespace {

constexpr uint8_t kDirectoryKind = static_cast<uint8_t>(NodeKind::Directory);

// Not __builtin_popcountll: without -mpopcnt it calls libgcc, which modules do not link.
uint64_t count_bits(uint64_t word) {
    uint64_t count = 0;
    for (; word != 0; word &= word - 1) ++count;
    return count;
}

// Steps of the walk that proves every directory hangs off the root.
enum class ReachState : uint32_t { Unknown = 0, OnPath = 1, Reaches = 2 };

}  // namespace

namespace detail {

bool header_agrees(const ArenaHeader& header, uint64_t length) {
    Geometry geometry{};
    if (!compute_geometry(length, &geometry)) return false;
    uint32_t bitmap_block = 1 + geometry.inode_table_blocks;
    uint32_t scratch_block = bitmap_block + geometry.bitmap_blocks;
    return header.magic == layout::kMagic && header.version == layout::kVersion &&
           header.block_size == kBlockSize && header.arena_length == length &&
           header.inode_count == geometry.inode_count &&
           header.data_block_count == geometry.data_block_count && header.inode_table_block == 1 &&
           header.inode_table_blocks == geometry.inode_table_blocks &&
           header.bitmap_block == bitmap_block && header.bitmap_blocks == geometry.bitmap_blocks &&
           header.scratch_block == scratch_block &&
           header.scratch_blocks == geometry.scratch_blocks &&
           header.data_block == scratch_block + geometry.scratch_blocks &&
           header.free_blocks <= header.data_block_count && header.free_inodes < header.inode_count;
}

}  // namespace detail

uint64_t Store::scratch_offset(uint64_t inode) const {
    return uint64_t{header().scratch_block} * kBlockSize +
           (inode - 1) * sizeof(layout::CheckScratch);
}

bool Store::mark_visited(uint32_t number) const {
    if (!block_is_used(number)) return false;
    ArenaHeader header = this->header();
    uint64_t counts = uint64_t{header.inode_count} * sizeof(layout::CheckScratch);
    uint64_t offset = uint64_t{header.scratch_block} * kBlockSize +
                      (counts + kBlockSize - 1) / kBlockSize * kBlockSize + (number - 1) / 8;
    uint8_t byte = 0;
    uint8_t bit = static_cast<uint8_t>(1u << ((number - 1) % 8));
    if (!load(offset, &byte) || (byte & bit) != 0) return false;
    return store(offset, static_cast<uint8_t>(byte | bit));
}

Status Store::check_inode_blocks(uint64_t inode, const InodeRecord& record) const {
    (void)inode;
    uint64_t data_blocks = 0;
    uint64_t all_blocks = 0;
    uint64_t end = (record.size + kBlockSize - 1) / kBlockSize;  // first logical past the data
    bool ok = true;
    auto visit_map = [&](uint32_t number) {
        ok = ok && mark_visited(number);
        all_blocks += 1;
    };
    auto visit_data = [&](uint32_t number, uint64_t logical) {
        visit_map(number);
        ok = ok && logical < end;
        data_blocks += 1;
    };
    auto visit_table = [&](uint32_t table_number, uint64_t base) {
        visit_map(table_number);
        uint64_t table = block_offset(table_number);
        for (uint64_t index = 0; ok && index < layout::kNumbersPerBlock; ++index) {
            uint32_t number = 0;
            ok = load(table + index * 4, &number);
            if (ok && number != 0) visit_data(number, base + index);
        }
    };
    for (uint32_t index = 0; ok && index < layout::kDirectBlocks; ++index) {
        if (record.direct[index] != 0) visit_data(record.direct[index], index);
    }
    if (ok && record.single_indirect != 0) {
        visit_table(record.single_indirect, layout::kDirectBlocks);
    }
    if (ok && record.double_indirect != 0) {
        visit_map(record.double_indirect);
        uint64_t outer = block_offset(record.double_indirect);
        for (uint64_t slot = 0; ok && slot < layout::kNumbersPerBlock; ++slot) {
            uint32_t inner = 0;
            ok = load(outer + slot * 4, &inner);
            uint64_t base =
                layout::kDirectBlocks + layout::kNumbersPerBlock + slot * layout::kNumbersPerBlock;
            if (ok && inner != 0) visit_table(inner, base);
        }
    }
    if (!ok || all_blocks != record.allocated_blocks) return UMKA_KABI_EBADMSG;
    // Directories and symlinks are never sparse: every block below the size is present.
    if (record.kind != static_cast<uint8_t>(NodeKind::Regular) && data_blocks != end) {
        return UMKA_KABI_EBADMSG;
    }
    if (record.kind == static_cast<uint8_t>(NodeKind::Symlink) && record.size == 0) {
        return UMKA_KABI_EBADMSG;
    }
    return Status::ok();
}

Status Store::check_directory(uint64_t inode, const InodeRecord& record) const {
    uint64_t slots = detail::record_slots(record);
    layout::CheckScratch own{};
    for (uint64_t index = 0; index < slots; ++index) {
        uint64_t offset = 0;
        DirectoryRecord entry;
        if (record_offset(record, index, &offset).is_error() || !load(offset, &entry)) {
            return UMKA_KABI_EBADMSG;
        }
        if (entry.inode == 0) continue;
        InodeRecord child{};
        if (file_names::validate(entry.name, entry.name_length).is_error() ||
            entry.inode == kRootInode || entry.inode == inode ||
            load_inode(entry.inode, &child).is_error() || child.kind != entry.kind) {
            return UMKA_KABI_EBADMSG;
        }
        if (child.kind == kDirectoryKind) {
            if (child.parent != inode) return UMKA_KABI_EBADMSG;
            own.subdirectories += 1;
        }
        layout::CheckScratch counts{};
        if (!load(scratch_offset(entry.inode), &counts)) return UMKA_KABI_EBADMSG;
        counts.entries += 1;
        store(scratch_offset(entry.inode), counts);
    }
    layout::CheckScratch counts{};
    if (!load(scratch_offset(inode), &counts)) return UMKA_KABI_EBADMSG;
    counts.subdirectories = own.subdirectories;
    store(scratch_offset(inode), counts);
    return Status::ok();
}

Status Store::check_reachable(uint64_t inode) const {
    // Marks the path OnPath while climbing, so meeting a mark again is a ".." cycle; a walk
    // that reaches the root (or a directory already proven) marks its path Reaches, which
    // keeps the whole check linear.
    uint64_t limit = header().inode_count;
    for (int pass = 0; pass < 2; ++pass) {
        uint64_t current = inode;
        for (uint64_t steps = 0;; ++steps) {
            if (current == kRootInode || steps > limit) break;
            layout::CheckScratch counts{};
            InodeRecord record{};
            if (!load(scratch_offset(current), &counts) ||
                load_directory(current, &record).is_error()) {
                return UMKA_KABI_EBADMSG;
            }
            auto reach = static_cast<ReachState>(counts.reach);
            if (reach == ReachState::Reaches) break;
            if (pass == 0 && reach == ReachState::OnPath) return UMKA_KABI_EBADMSG;
            counts.reach =
                static_cast<uint32_t>(pass == 0 ? ReachState::OnPath : ReachState::Reaches);
            store(scratch_offset(current), counts);
            current = record.parent;
            if (steps == limit) return UMKA_KABI_EBADMSG;
        }
    }
    return Status::ok();
}

Status Store::check() const {
    ArenaHeader header = this->header();
    if (!detail::header_agrees(header, length_)) return UMKA_KABI_EBADMSG;
    uint8_t* scratch = span(uint64_t{header.scratch_block} * kBlockSize,
                            uint64_t{header.scratch_blocks} * kBlockSize);
    if (scratch == nullptr) return UMKA_KABI_EBADMSG;
    __builtin_memset(scratch, 0, uint64_t{header.scratch_blocks} * kBlockSize);

    InodeRecord root{};
    if (load_directory(kRootInode, &root).is_error() || root.parent != kRootInode) {
        return UMKA_KABI_EBADMSG;
    }
    uint64_t free_inodes = 0;
    for (uint64_t inode = 1; inode <= header.inode_count; ++inode) {
        InodeRecord record{};
        Status status = load_inode(inode, &record);
        if (status == UMKA_KABI_ENOENT) {
            free_inodes += 1;
            continue;
        }
        if (status.is_error() || check_inode_blocks(inode, record).is_error()) {
            return UMKA_KABI_EBADMSG;
        }
        if (record.kind == kDirectoryKind && check_directory(inode, record).is_error()) {
            return UMKA_KABI_EBADMSG;
        }
    }
    if (free_inodes != header.free_inodes) return UMKA_KABI_EBADMSG;

    // Every used bit must have been reached from some inode, and the counter must agree.
    uint64_t bitmap = uint64_t{header.bitmap_block} * kBlockSize;
    uint64_t visited =
        uint64_t{header.scratch_block} * kBlockSize +
        (uint64_t{header.inode_count} * sizeof(layout::CheckScratch) + kBlockSize - 1) /
            kBlockSize * kBlockSize;
    uint64_t used = 0;
    for (uint64_t word = 0; word < (uint64_t{header.data_block_count} + 63) / 64; ++word) {
        uint64_t marked = 0;
        uint64_t reached = 0;
        if (!load(bitmap + word * 8, &marked) || !load(visited + word * 8, &reached) ||
            marked != reached) {
            return UMKA_KABI_EBADMSG;
        }
        used += count_bits(marked);
    }
    if (used + header.free_blocks != header.data_block_count) return UMKA_KABI_EBADMSG;

    for (uint64_t inode = 1; inode <= header.inode_count; ++inode) {
        InodeRecord record{};
        if (load_inode(inode, &record).is_error()) continue;
        layout::CheckScratch counts{};
        if (!load(scratch_offset(inode), &counts)) return UMKA_KABI_EBADMSG;
        bool linked = true;
        if (record.kind != kDirectoryKind) {
            linked = record.link_count == counts.entries;
        } else if (inode == kRootInode) {
            linked = counts.entries == 0 && record.link_count == 2 + counts.subdirectories;
        } else if (counts.entries == 1) {
            linked =
                record.link_count == 2 + counts.subdirectories && check_reachable(inode).is_ok();
        } else {
            linked = counts.entries == 0 && record.link_count == 0 && record.size == 0;
        }
        // Only an open reference may keep an inode that no name reaches.
        if (!linked || (record.link_count == 0 && record.references == 0)) {
            return UMKA_KABI_EBADMSG;
        }
    }
    return Status::ok();
}
}  // namespace umka::tmpfs
