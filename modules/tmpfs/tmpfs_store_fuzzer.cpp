// libFuzzer target over the tmpfs store (tmpfs_store.h). A tmpfs arena is the state a live
// swap carries into a new instance, which re-attaches it: its bytes are trusted only after
// attach() and bounded reads. The input first flips bytes of a small formatted arena that
// holds a few files (the header included), then drives a sequence of operations.
//
// Invariants: nothing crashes or reads outside the arena (ASan/UBSan); when no byte was
// flipped, every operation sequence leaves a tree check() accepts.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmpfs_store.h"

namespace {

using umka::tmpfs::Entry;
using umka::tmpfs::NodeKind;
using umka::tmpfs::Store;

constexpr uint64_t kArenaBytes = 64 * 1024;
constexpr size_t kMaximumFlips = 64;
constexpr size_t kMaximumOperations = 256;
constexpr const char* kNames[] = {"a", "b", "dir", "f", "link", "..", ".", ""};

class Input {
public:
    Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool empty() const { return at_ >= size_; }
    uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    uint16_t word() { return uint16_t(byte() | byte() << 8); }

private:
    const uint8_t* data_;
    size_t size_;
    size_t at_ = 0;
};

const char* name(Input& input, uint32_t* length) {
    const char* chosen = kNames[input.byte() % (sizeof kNames / sizeof kNames[0])];
    *length = uint32_t(strlen(chosen));
    return chosen;
}

void populate(Store& store) {
    uint64_t directory = 0;
    uint64_t file = 0;
    uint64_t link = 0;
    uint64_t written = 0;
    static uint8_t bytes[5000];
    memset(bytes, 0x5a, sizeof bytes);
    (void)store.create(umka::tmpfs::kRootInode, "dir", 3, NodeKind::Directory, 0755, 1, &directory);
    (void)store.create(directory, "f", 1, NodeKind::Regular, 0644, 1, &file);
    (void)store.write(file, 0, bytes, sizeof bytes, 1, &written);
    (void)store.symlink(umka::tmpfs::kRootInode, "link", 4, "dir/f", 5, 1, &link);
    (void)store.link(umka::tmpfs::kRootInode, "a", 1, file, 1);
}

void operate(Store& store, Input& input) {
    uint8_t buffer[300];
    for (size_t count = 0; count < kMaximumOperations && !input.empty(); ++count) {
        uint8_t operation = input.byte();
        uint64_t inode = input.byte() % 24;
        uint32_t length = 0;
        const char* chosen = name(input, &length);
        uint64_t found = 0;
        uint64_t moved = 0;
        switch (operation % 14) {
        case 0:
            (void)store.lookup(inode, chosen, length, &found);
            break;
        case 1: {
            umka::tmpfs::Attributes attributes{};
            (void)store.attributes(inode, &attributes);
            break;
        }
        case 2:
            (void)store.read(inode, input.word() * 7u, buffer, sizeof buffer, &moved);
            break;
        case 3:
            memset(buffer, operation, sizeof buffer);
            (void)store.write(inode, uint64_t(input.word()) * 97u, buffer, input.byte(), 2, &moved);
            break;
        case 4:
            (void)store.truncate(inode, uint64_t(input.word()) * 31u, 2);
            break;
        case 5:
            (void)store.create(inode, chosen, length,
                               input.byte() & 1 ? NodeKind::Directory : NodeKind::Regular, 0644, 2,
                               &found);
            break;
        case 6:
            (void)store.unlink(inode, chosen, length, 2);
            break;
        case 7:
            (void)store.remove_directory(inode, chosen, length, 2);
            break;
        case 8: {
            uint32_t to_length = 0;
            const char* to = name(input, &to_length);
            (void)store.rename(inode, chosen, length, input.byte() % 24, to, to_length, 2);
            break;
        }
        case 9:
            (void)store.link(inode, chosen, length, input.byte() % 24, 2);
            break;
        case 10: {
            Entry entry{};
            uint64_t cookie = 0;
            for (int step = 0; step < 64; ++step) {
                uint64_t next = 0;
                if (store.read_directory(inode, cookie, &entry, &next).is_error()) break;
                cookie = next;
            }
            break;
        }
        case 11:
            (void)store.symlink(inode, chosen, length, "dir/../a", 8, 2, &found);
            break;
        case 12: {
            uint32_t link_length = 0;
            (void)store.read_link(inode, reinterpret_cast<char*>(buffer), sizeof buffer,
                                  &link_length);
            break;
        }
        case 13:
            if (store.retain(inode).is_ok()) (void)store.release(inode);
            break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto* arena = static_cast<uint8_t*>(aligned_alloc(4096, kArenaBytes));
    if (arena == nullptr) return 0;
    memset(arena, 0, kArenaBytes);
    Store store;
    if (Store::format(arena, kArenaBytes, 1, &store).is_error()) __builtin_trap();
    populate(store);

    Input input(data, size);
    size_t flips = input.byte() % (kMaximumFlips + 1);
    for (size_t flip = 0; flip < flips; ++flip) {
        uint16_t offset = input.word();
        arena[offset % kArenaBytes] ^= input.byte() | 1;
    }
    Store attached;
    if (Store::attach(arena, kArenaBytes, &attached).is_ok()) {
        (void)attached.check();
        operate(attached, input);
        // Without corruption, no sequence of operations may leave an inconsistent tree.
        if (flips == 0 && attached.check().is_error()) __builtin_trap();
    } else if (flips == 0) {
        __builtin_trap();  // a formatted arena must attach
    }
    free(arena);
    return 0;
}
