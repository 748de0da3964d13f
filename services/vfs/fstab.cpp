// Mounting what /etc/fstab lists (fstab.h), once, right after the root is mounted.
#include "fstab.h"

#include "file_operations.h"
#include "umka/errno_text.h"
#include "umka/line_text.h"

namespace umka::vfs {
namespace {

void log_line(const UmkaModuleBinding* binding, services::LogLevel level,
              const LineText<200>& line) {
    services::LogRef log;
    if (kabi::bind_required(binding, kLog, &log).is_ok())
        log.write(level, line.data(), line.length());
}

// The whole file into `buffer`; false (logged) when it is missing, unreadable or too long.
bool read_fstab(const UmkaModuleBinding* binding, char (&buffer)[kFstabMaximumBytes + 1],
                uint32_t* length) {
    static constexpr char kPath[] = "/etc/fstab";
    MountedNamespace names(binding);
    Resolved resolved{};
    if (resolve_existing(names, kPath, sizeof kPath - 1, FinalLink::Follow, &resolved).is_error()) {
        return false;  // no fstab: nothing to mount
    }
    api::FileSystemRef file_system;
    uint64_t transferred = 0;
    LineText<200> line;
    if (resolved.kind != NodeKind::Regular ||
        !names.file_system(resolved.node.mount, &file_system) ||
        file_system
            .read_node(names.state().mounts[resolved.node.mount].volume, resolved.node.inode, 0,
                       buffer, sizeof buffer, &transferred)
            .is_error()) {
        log_line(binding, services::LogLevel::Warning, line.add("fstab: /etc/fstab is unreadable"));
        return false;
    }
    if (transferred > kFstabMaximumBytes) {
        log_line(binding, services::LogLevel::Warning,
                 line.add("fstab: /etc/fstab is longer than 2048 bytes: nothing mounted"));
        return false;
    }
    *length = uint32_t(transferred);
    return true;
}

void mount_entry_line(const UmkaModuleBinding* binding, uint32_t number, const FstabEntry& entry) {
    LineText<200> line;
    line.add("fstab:").number(number).add(": ").add(entry.source, entry.source_length).add(" on ");
    line.add(entry.target, entry.target_length)
        .add(" (")
        .add(entry.type, entry.type_length)
        .add("): ");
    MountedNamespace names(binding);
    bool made =
        make_node(names, entry.target, entry.target_length, NodeKind::Directory, 0755, nullptr, 0)
            .is_ok();
    Status mounted = mount_at(names, entry.source, entry.source_length, entry.target,
                              entry.target_length, entry.type, entry.type_length);
    if (mounted.is_ok()) {
        log_line(binding, services::LogLevel::Info, line.add("mounted"));
        return;
    }
    if (made) (void)remove_node(names, entry.target, entry.target_length, NodeKind::Directory);
    bool quiet = mounted.code() == UMKA_KABI_ENODEV && entry.missing_device == MissingDevice::Skip;
    line.add(errno_text(mounted.code())).add(", not mounted");
    log_line(binding, quiet ? services::LogLevel::Debug : services::LogLevel::Warning, line);
}

}  // namespace

void mount_from_fstab(const UmkaModuleBinding* binding) {
    char buffer[kFstabMaximumBytes + 1];
    uint32_t length = 0;
    if (!read_fstab(binding, buffer, &length)) return;
    uint32_t number = 0;
    for (uint32_t start = 0; start < length;) {
        uint32_t end = start;
        while (end < length && buffer[end] != '\n') ++end;
        ++number;
        FstabEntry entry{};
        const char* reason = nullptr;
        FstabLine parsed = parse_fstab_line(buffer + start, end - start, &entry, &reason);
        if (parsed == FstabLine::Entry) {
            mount_entry_line(binding, number, entry);
        } else if (parsed == FstabLine::Malformed) {
            LineText<200> line;
            line.add("fstab:").number(number).add(": ").add(reason).add(": not mounted");
            log_line(binding, services::LogLevel::Warning, line);
        }
        start = end + 1;
    }
}

}  // namespace umka::vfs
