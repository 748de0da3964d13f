#include "boot_tree.h"

#include "umka/kabi/boot_files.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/line_text.h"

namespace umka::tmpfs {
namespace {

namespace boot = kabi::boot_files;
namespace services = kabi::kernel_services;

// Copied through the stack in pieces this size (module threads have small stacks).
inline constexpr uint64_t kChunkBytes = 512;

void report(const UmkaModuleBinding* binding, uint32_t log, const boot::BootFile& file,
            const char* what, Status status) {
    services::LogRef logger;
    if (kabi::bind_required(binding, log, &logger).is_error()) return;
    LineText<400> line;
    line.add("tmpfs: root/").add(reinterpret_cast<const char*>(file.name)).add(": ").add(what);
    line.add(" failed (errno ").number(uint64_t(status.code())).add(")");
    logger.write(services::LogLevel::Error, line.data(), line.length());
}

// The directory holding the last component of `path` (made as needed); `*last` its start.
Status parent_directory(Store& store, const char* path, uint32_t length, uint64_t now_ns,
                        uint64_t* directory, uint32_t* last) {
    uint64_t at = kRootInode;
    uint32_t start = 0;
    for (uint32_t index = 0; index < length; ++index) {
        if (path[index] != '/') continue;
        uint32_t component = index - start;
        uint64_t next = 0;
        Status found = store.lookup(at, path + start, component, &next);
        if (found.code() == UMKA_KABI_ENOENT) {
            found =
                store.create(at, path + start, component, NodeKind::Directory, 0755, now_ns, &next);
        }
        if (found.is_error()) return found;
        at = next;
        start = index + 1;
    }
    *directory = at;
    *last = start;
    return Status::ok();
}

}  // namespace

Status fill_from_boot_files(const UmkaModuleBinding* binding, uint32_t boot_files, uint32_t log,
                            Store& store, uint64_t now_ns) {
    boot::BootFilesRef files;
    if (kabi::bind_required(binding, boot_files, &files).is_error()) return UMKA_KABI_ENODEV;
    for (uint32_t index = 0;; ++index) {
        boot::BootFile file{};
        Status listed = files.file(index, &file);
        if (listed.code() == UMKA_KABI_ENOENT) return Status::ok();
        if (listed.is_error()) return listed;
        const char* path = reinterpret_cast<const char*>(file.name);
        uint64_t directory = 0;
        uint32_t last = 0;
        Status placed = parent_directory(store, path, file.name_length, now_ns, &directory, &last);
        uint64_t inode = 0;
        if (placed.is_ok()) {
            placed = store.create(directory, path + last, file.name_length - last,
                                  NodeKind::Regular, file.mode & 07777, now_ns, &inode);
        }
        if (placed.is_error()) {
            report(binding, log, file, "placing it", placed);
            // A name the tree cannot hold (a path through a file, a name given twice, an
            // empty component) costs that entry only; running out of room costs the mount,
            // since the root would then be less than the bundle without saying which part.
            if (placed.code() == UMKA_KABI_ENOSPC || placed.code() == UMKA_KABI_EIO) {
                return placed;
            }
            continue;
        }
        uint8_t chunk[kChunkBytes];
        for (uint64_t offset = 0; offset < file.size;) {
            uint64_t read = 0;
            Status got = files.read(index, offset, chunk, sizeof chunk, &read);
            if (got.is_ok() && read == 0) got = UMKA_KABI_EIO;  // shorter than it said
            uint64_t written = 0;
            if (got.is_ok()) got = store.write(inode, offset, chunk, read, now_ns, &written);
            if (got.is_ok() && written != read) got = UMKA_KABI_ENOSPC;
            if (got.is_error()) {
                report(binding, log, file, "copying it", got);
                return got;
            }
            offset += read;
        }
    }
}

}  // namespace umka::tmpfs
