// libFuzzer target over the ext2 core (ext2_volume.h): a disk is untrusted input. The input
// first damages a small valid image (ext2_fuzz_image.h, made from the tree: hello, fast ->
// hello, empty/, dir/{f1..f6, hard (a link to hello), indirect (a hole then data past the
// direct blocks), slow (a 101-byte symlink), sub/deep}), then the image is mounted, walked
// whole, read and changed by a few operations the rest of the input picks.
//
// Invariants: nothing crashes, reads or writes outside the region or the image (ASan, UBSan,
// the device's own bounds check), no call hangs (libFuzzer -timeout), and every status is
// one the interface documents. When nothing was damaged, nothing may answer EUCLEAN and the
// volume the operations leave mounts again read-write (clean) and walks without EUCLEAN.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ext2_fuzz_image.h"
#include "ext2_volume.h"

namespace {

using umka::ext2::Attributes;
using umka::ext2::Device;
using umka::ext2::Entry;
using umka::ext2::kRootInode;
using umka::ext2::MountMode;
using umka::ext2::NodeKind;
using umka::ext2::Status;
using umka::ext2::Volume;

constexpr uint64_t kRegionBytes = 256 * 1024;
constexpr size_t kMaximumDamage = 48;
constexpr size_t kMaximumOperations = 48;
constexpr int kMaximumEntries = 600;
constexpr int kMaximumDepth = 24;

uint8_t g_image[ext2_fuzz::kImageSize];
alignas(4096) uint8_t g_region[kRegionBytes];

class MemoryDevice final : public Device {
public:
    Status read(uint64_t offset, void* buffer, uint32_t length) override {
        check(offset, length);
        memcpy(buffer, g_image + offset, length);
        return Status::ok();
    }
    Status write(uint64_t offset, const void* data, uint32_t length) override {
        check(offset, length);
        memcpy(g_image + offset, data, length);
        return Status::ok();
    }
    Status flush() override { return Status::ok(); }

private:
    // The core validates every block number against the device size before asking for it.
    static void check(uint64_t offset, uint32_t length) {
        if (offset % 512 != 0 || length % 512 != 0 || offset > sizeof g_image ||
            sizeof g_image - offset < length) {
            abort();
        }
    }
};

class Input {
public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool empty() const { return at_ >= size_; }
    uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    uint32_t word() { return uint32_t(byte()) | uint32_t(byte()) << 8; }
    uint32_t offset() { return (word() | uint32_t(byte()) << 16) % sizeof g_image; }

private:
    const uint8_t* data_;
    size_t size_;
    size_t at_ = 0;
};

bool g_pristine = false;

void expect(Status status) {
    if (g_pristine && status.code() == UMKA_KABI_EUCLEAN) abort();
    switch (status.code()) {
    case 0:
    case UMKA_KABI_ENOENT:
    case UMKA_KABI_ENOTDIR:
    case UMKA_KABI_EISDIR:
    case UMKA_KABI_EINVAL:
    case UMKA_KABI_EEXIST:
    case UMKA_KABI_ENOSPC:
    case UMKA_KABI_ENAMETOOLONG:
    case UMKA_KABI_ENOTEMPTY:
    case UMKA_KABI_EBUSY:
    case UMKA_KABI_EMLINK:
    case UMKA_KABI_EPERM:
    case UMKA_KABI_EFBIG:
    case UMKA_KABI_EROFS:
    case UMKA_KABI_EUCLEAN:
    case UMKA_KABI_ENFILE:
    case UMKA_KABI_EOVERFLOW:
        return;
    default:
        abort();
    }
}

uint8_t g_buffer[64 * 1024];
uint64_t g_inodes[64];
size_t g_inode_count = 0;

void remember(uint64_t inode) {
    if (g_inode_count < sizeof g_inodes / sizeof g_inodes[0]) g_inodes[g_inode_count++] = inode;
}

void walk(Volume& volume, uint64_t directory, int depth, int* budget) {
    if (depth > kMaximumDepth) return;
    Entry entry{};
    uint64_t cookie = 0;
    uint64_t next = 0;
    while (*budget > 0) {
        Status status = volume.read_directory(directory, cookie, &entry, &next);
        expect(status);
        if (status.is_error()) return;
        if (next <= cookie || entry.name_length > 255 || entry.name[entry.name_length] != 0) {
            abort();  // cookies must advance, names must be bounded
        }
        cookie = next;
        *budget -= 1;
        if ((entry.name_length == 1 && entry.name[0] == '.') ||
            (entry.name_length == 2 && entry.name[0] == '.' && entry.name[1] == '.')) {
            continue;
        }
        remember(entry.inode);
        uint64_t found = 0;
        expect(volume.lookup(directory, entry.name, entry.name_length, &found));
        Attributes attributes{};
        expect(volume.attributes(entry.inode, &attributes));
        uint64_t transferred = 0;
        expect(volume.read(entry.inode, 0, g_buffer, sizeof g_buffer, &transferred));
        expect(volume.read(entry.inode, 13000, g_buffer, 100, &transferred));
        uint32_t length = 0;
        expect(volume.read_link(entry.inode, reinterpret_cast<char*>(g_buffer), 4096, &length));
        if (entry.kind == NodeKind::Directory) walk(volume, entry.inode, depth + 1, budget);
    }
}

const char* const kNames[] = {"hello", "dir", "new", "f1", "sub", "empty", "x", "."};

void operate(Volume& volume, Input& input) {
    for (size_t count = 0; count < kMaximumOperations && !input.empty(); ++count) {
        uint8_t operation = input.byte();
        uint64_t inode = g_inode_count == 0 ? kRootInode : g_inodes[input.byte() % g_inode_count];
        uint64_t other = input.byte() % 2 ? kRootInode : inode;
        const char* name = kNames[input.byte() % (sizeof kNames / sizeof kNames[0])];
        uint32_t length = uint32_t(strlen(name));
        uint64_t created = 0;
        uint64_t moved = 0;
        switch (operation % 12) {
        case 0:
            expect(volume.create(other, name, length, NodeKind::Regular, 0644, 5, &created));
            if (created != 0) remember(created);
            break;
        case 1:
            expect(volume.create(other, name, length, NodeKind::Directory, 0755, 5, &created));
            if (created != 0) remember(created);
            break;
        case 2:
            memset(g_buffer, operation, 5000);
            expect(volume.write(inode, input.word() * 13ull, g_buffer, 1 + input.word() % 5000, 5,
                                &moved));
            break;
        case 3:
            expect(volume.truncate(inode, input.word() * 7ull, 5));
            break;
        case 4:
            expect(volume.unlink(other, name, length, 5));
            break;
        case 5:
            expect(volume.remove_directory(other, name, length, 5));
            break;
        case 6:
            expect(volume.rename(other, name, length, inode, "moved", 5, 5));
            break;
        case 7:
            expect(volume.link(other, "linked", 6, inode, 5));
            break;
        case 8:
            expect(volume.symlink(other, name, length,
                                  "/some/where/else/that/is/long/enough/"
                                  "to/need/a/block/of/its/own/xxxxxxxxxx",
                                  70, 5, &created));
            break;
        case 9:
            expect(volume.retain(inode));
            expect(volume.unlink(other, name, length, 5));
            expect(volume.release(inode));
            break;
        case 10:
            expect(volume.write(inode, uint64_t(input.word()) << 16, "far", 3, 5, &moved));
            break;
        default:
            expect(volume.sync());
            break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    memset(g_image, 0, sizeof g_image);
    const uint8_t* bytes = ext2_fuzz::kImageBytes;
    for (const ext2_fuzz::Run& run : ext2_fuzz::kImageRuns) {
        memcpy(g_image + run.offset, bytes, run.length);
        bytes += run.length;
    }
    Input input(data, size);
    size_t damage = input.byte() % (kMaximumDamage + 1);
    g_pristine = damage == 0;
    for (size_t index = 0; index < damage; ++index) {
        uint8_t kind = input.byte();
        // Mostly the metadata at the front (superblock, descriptors, bitmaps, inode table,
        // the first directory blocks), sometimes anywhere.
        uint32_t offset = kind & 0x80 ? input.offset() : input.word() % (24 * 1024);
        if (kind & 0x40) {
            uint32_t length = 1 + input.byte() % 16;
            for (uint32_t at = 0; at < length && offset + at < sizeof g_image; ++at) {
                g_image[offset + at] = input.byte();
            }
        } else {
            g_image[offset] ^= uint8_t(1 + (kind & 0x3F));
        }
    }
    MemoryDevice device;
    Volume volume;
    const char* reason = nullptr;
    MountMode mode = input.byte() % 8 == 0 ? MountMode::ReadOnly : MountMode::ReadWrite;
    memset(g_region, 0xA5, sizeof g_region);
    Status status = Volume::mount(g_region, sizeof g_region, &device, sizeof g_image, mode,
                                  1700000000ull * 1000000000ull, &volume, &reason);
    if (status.is_error()) {
        if (status.code() != UMKA_KABI_EINVAL && status.code() != UMKA_KABI_EUCLEAN) abort();
        if (reason == nullptr) abort();
        return 0;
    }
    g_inode_count = 0;
    int budget = kMaximumEntries;
    walk(volume, kRootInode, 0, &budget);
    operate(volume, input);
    budget = kMaximumEntries;
    walk(volume, kRootInode, 0, &budget);
    // A successor instance attaching the same region must see the same volume.
    Volume successor;
    if (Volume::attach(g_region, sizeof g_region, &device, &successor).is_error()) abort();
    Status unmounted = successor.unmount(1700000001ull * 1000000000ull);
    expect(unmounted);
    if (g_pristine && mode == MountMode::ReadWrite) {
        if (Volume::mount(g_region, sizeof g_region, &device, sizeof g_image, MountMode::ReadWrite,
                          1700000002ull * 1000000000ull, &volume, &reason)
                .is_error() ||
            volume.mode() != MountMode::ReadWrite) {
            abort();
        }
        budget = kMaximumEntries;
        walk(volume, kRootInode, 0, &budget);
        expect(volume.unmount(1700000003ull * 1000000000ull));
    }
    return 0;
}
