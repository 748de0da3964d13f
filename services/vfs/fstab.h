// /etc/fstab: the mounts the VFS makes right after it mounts the root, so a disk the boot
// bundle's tree names (`vda /mnt ext2 nofail`) is there without a command. Each line is
// SOURCE TARGET TYPE [OPTIONS]: fields separated by spaces or tabs, '#' starts a comment.
// OPTIONS is a comma-separated list of `defaults` and `nofail` (a missing device, ENODEV, is
// skipped quietly); anything else makes the line malformed, since an option the VFS does not
// honour must not be dropped silently. A missing mount point is made, and removed again when
// the mount fails. Every other outcome is logged with the line number (docs/files.md).
#pragma once

#include <stdint.h>

#include "vfs_service.h"

namespace umka::vfs {

// The fstab's size and line limits: a longer file or line is refused with a log line.
inline constexpr uint32_t kFstabMaximumBytes = 2048;
inline constexpr uint32_t kFstabMaximumLineBytes = 256;

enum class FstabLine : uint8_t { Blank, Entry, Malformed };
enum class MissingDevice : uint8_t { Report, Skip };

struct FstabEntry {
    const char* source;
    uint32_t source_length;
    const char* target;
    uint32_t target_length;
    const char* type;
    uint32_t type_length;
    MissingDevice missing_device;
};

// One line without its newline. Malformed: *reason (static text) says why.
FstabLine parse_fstab_line(const char* text, uint32_t length, FstabEntry* entry,
                           const char** reason);

// Reads /etc/fstab from the root just mounted and mounts what it lists (no file: nothing).
void mount_from_fstab(const UmkaModuleBinding* binding);

}  // namespace umka::vfs
