// The console's file commands over vfs.Vfs (README.md). Each one is a few Vfs calls; every
// refusal is printed as "COMMAND: PATH: ERRNO" (the Linux errno name), and the command's
// status is that errno, so scripts and tests can tell why.
#include "file_commands.h"

#include "nucleus/crypto/sha256.h"
#include "umka/command_words.h"
#include "umka/errno_text.h"
#include "umka/fill_pattern.h"
#include "umka/number_text.h"

namespace umka::files {
namespace {

namespace api = kabi::vfs;

// "cat: /etc/nope: ENOENT"
Status refuse(Output& out, const char* command, const char* path, Status status) {
    LineText<400> line;
    line.add(command).add(": ").add(path).add(": ").add(errno_text(status.code()));
    out.line(line);
    return status;
}

Status usage(Output& out, const char* text) {
    LineText<200> line;
    line.add("usage: ").add(text);
    out.line(line);
    return UMKA_KABI_EINVAL;
}

// "drwxr-xr-x" for a mode.
void add_mode(LineText<400>& line, uint32_t mode) {
    uint32_t type = mode & 0170000;
    line.add(type == 0040000 ? "d" : type == 0120000 ? "l" : "-");
    static constexpr char kBits[] = "rwxrwxrwx";
    for (uint32_t bit = 0; bit < 9; ++bit) {
        char text[2] = {(mode & (0400u >> bit)) != 0 ? kBits[bit] : '-', '\0'};
        line.add(text);
    }
}

void add_padded(LineText<400>& line, uint64_t value, uint32_t width) {
    char digits[24];
    uint32_t count = 0;
    do {
        digits[count++] = char('0' + value % 10);
        value /= 10;
    } while (value != 0 && count < sizeof digits);
    for (uint32_t pad = count; pad < width; ++pad) line.add(" ");
    while (count != 0) {
        char text[2] = {digits[--count], '\0'};
        line.add(text);
    }
}

// `path` + "/" + `name` into `joined`; false when it does not fit.
bool join(const char* path, const char* name, char (&joined)[kPathCapacity]) {
    uint64_t path_length = length_of(path);
    uint64_t name_length = length_of(name);
    if (path_length + 1 + name_length + 1 > sizeof joined) return false;
    __builtin_memcpy(joined, path, path_length);
    joined[path_length] = '/';
    __builtin_memcpy(joined + path_length + 1, name, name_length + 1);
    return true;
}

Status list(const Owner& owner, const char* const* words, uint32_t count, Output& out) {
    bool long_form = count > 1 && same_word(words[1], "-l");
    uint32_t first = long_form ? 2 : 1;
    if (count > first + 1) return usage(out, "ls [-l] [PATH]");
    const char* path = count == first + 1 ? words[first] : ".";  // the working directory
    api::NodeAttributes attributes{};
    if (Status found = owner.vfs.stat_path_in(owner.table, path, length_of(path), 1, &attributes);
        found.is_error()) {
        return refuse(out, "ls", path, found);
    }
    if (attributes.kind != api::NodeKind::Directory) {
        LineText<400> line;
        out.line(line.add(path));
        return Status::ok();
    }
    OpenFile directory(owner, path, api::OpenFlags::Directory, 0);
    if (directory.status().is_error()) return refuse(out, "ls", path, directory.status());
    for (;;) {
        api::DirectoryRecord record{};
        Status read = owner.vfs.read_directory_entry_in(owner.table, directory.descriptor(),
                                                        &record, sizeof record);
        if (read.code() == UMKA_KABI_ENOENT) return Status::ok();
        if (read.is_error()) return refuse(out, "ls", path, read);
        const char* name = reinterpret_cast<const char*>(record.name);
        if (same_word(name, ".") || same_word(name, "..")) continue;
        LineText<400> line;
        if (long_form) {
            char child[kPathCapacity];
            api::NodeAttributes node{};
            bool joined = join(path, name, child);
            if (!joined ||
                owner.vfs.stat_path_in(owner.table, child, length_of(child), 0, &node).is_error()) {
                line.add("?????????? ");
            } else {
                add_mode(line, node.mode);
                add_padded(line, node.link_count, 3);
                add_padded(line, node.size, 10);
                line.add(" ");
            }
            line.add(name);
            char target[256];
            uint64_t target_length = 0;
            if (joined && record.kind == api::NodeKind::Symlink &&
                owner.vfs
                    .read_link_path_in(owner.table, child, length_of(child), target,
                                       sizeof target - 1, &target_length)
                    .is_ok()) {
                target[target_length < sizeof target - 1 ? target_length : sizeof target - 1] = 0;
                line.add(" -> ").add(target);
            }
        } else {
            line.add(name).add(record.kind == api::NodeKind::Directory ? "/" : "");
        }
        out.line(line);
    }
}

// Reads the whole of `path` in chunks, handing each to `take`; a refusal is printed for
// `command`. One loop for every command that consumes a file.
template <typename Take>
Status read_whole(const Owner& owner, const char* command, const char* path, Output& out,
                  Take take) {
    OpenFile file(owner, path, api::OpenFlags{}, 0);
    if (file.status().is_error()) return refuse(out, command, path, file.status());
    uint8_t chunk[512];
    for (;;) {
        uint64_t read = 0;
        if (Status got =
                owner.vfs.read_file_in(owner.table, file.descriptor(), chunk, sizeof chunk, &read);
            got.is_error()) {
            return refuse(out, command, path, got);
        }
        if (read == 0) return Status::ok();
        take(chunk, read);
    }
}

Status cat(const Owner& owner, const char* path, Output& out) {
    Status read =
        read_whole(owner, "cat", path, out, [&out](const uint8_t* bytes, uint64_t length) {
            out.add(reinterpret_cast<const char*>(bytes), length);
        });
    if (read.is_error()) return read;
    return out.truncated() ? Status(UMKA_KABI_ENOSPC) : Status::ok();
}

Status stat(const Owner& owner, const char* path, Output& out) {
    api::NodeAttributes attributes{};
    if (Status found = owner.vfs.stat_path_in(owner.table, path, length_of(path), 0, &attributes);
        found.is_error()) {
        return refuse(out, "stat", path, found);
    }
    static constexpr const char* kKinds[] = {
        "regular file", "directory", "symbolic link", "character device",
        "block device", "fifo",      "socket"};
    uint8_t kind = uint8_t(attributes.kind);
    LineText<400> line;
    line.add(path).add(": ").add(kind < 7 ? kKinds[kind] : "?").add(", size ");
    line.number(attributes.size).add(", blocks ").number(attributes.blocks).add(", inode ");
    line.number(attributes.inode).add(", links ").number(attributes.link_count).add(", mode ");
    char octal[8];  // 0100644: the type's digits, then the permissions'
    for (int32_t digit = 6; digit >= 0; --digit) {
        octal[6 - digit] = char('0' + ((attributes.mode >> (3 * digit)) & 7));
    }
    octal[7] = '\0';
    line.add(octal);
    out.line(line);
    return Status::ok();
}

// write PATH WORDS...: the words joined by spaces and a newline, replacing the file.
Status write(const Owner& owner, const char* const* words, uint32_t count, Output& out) {
    const char* path = words[1];
    OpenFile file(owner, path,
                  api::OpenFlags::WriteOnly | api::OpenFlags::Create | api::OpenFlags::Truncate,
                  0644);
    if (file.status().is_error()) return refuse(out, "write", path, file.status());
    for (uint32_t index = 2; index < count; ++index) {
        const char* separator = index + 1 < count ? " " : "\n";
        uint64_t written = 0;
        Status put = owner.vfs.write_file_in(owner.table, file.descriptor(), words[index],
                                             length_of(words[index]), &written);
        if (put.is_ok())
            put = owner.vfs.write_file_in(owner.table, file.descriptor(), separator, 1, &written);
        if (put.is_error()) return refuse(out, "write", path, put);
    }
    return Status::ok();
}

bool parse(const char* word, uint64_t limit, uint64_t* value, const char* what, Output& out) {
    ParsedNumber parsed = parse_unsigned(word, limit);
    if (parsed.ok()) {
        *value = parsed.value;
        return true;
    }
    LineText<200> line;
    line.add("fill: ").add(what).add(": '").add(word).add("' is ").add(
        number_error_text(parsed.error));
    out.line(line);
    return false;
}

// fill PATH BYTES SEED: the documented pattern (umka/fill_pattern.h), as `blk fill` writes.
Status fill(const Owner& owner, const char* const* words, Output& out) {
    const char* path = words[1];
    uint64_t bytes = 0;
    uint64_t seed = 0;
    if (!parse(words[2], kMaximumFillBytes, &bytes, "BYTES", out) ||
        !parse(words[3], ~uint64_t(0), &seed, "SEED", out)) {
        return UMKA_KABI_EINVAL;
    }
    OpenFile file(owner, path,
                  api::OpenFlags::WriteOnly | api::OpenFlags::Create | api::OpenFlags::Truncate,
                  0644);
    if (file.status().is_error()) return refuse(out, "fill", path, file.status());
    FillPattern pattern(seed);
    uint8_t chunk[512];
    for (uint64_t done = 0; done < bytes;) {
        pattern.fill(chunk, sizeof chunk / 8);
        uint64_t want = bytes - done < sizeof chunk ? bytes - done : sizeof chunk;
        uint64_t written = 0;
        Status put = owner.vfs.write_file_in(owner.table, file.descriptor(), chunk, want, &written);
        if (put.is_ok() && written != want) put = UMKA_KABI_ENOSPC;
        if (put.is_error()) return refuse(out, "fill", path, put);
        done += want;
    }
    LineText<400> line;
    out.line(line.add(path).add(": ").number(bytes).add(" bytes, seed ").number(seed));
    return Status::ok();
}

Status sha256(const Owner& owner, const char* path, Output& out) {
    crypto::Sha256 hash;
    Status read =
        read_whole(owner, "sha256", path, out,
                   [&hash](const uint8_t* bytes, uint64_t length) { hash.update(bytes, length); });
    if (read.is_error()) return read;
    uint8_t digest[crypto::kSha256DigestSize];
    hash.finish(digest);
    LineText<400> line;
    for (uint8_t byte : digest) line.hex_digits(byte, 2);
    out.line(line.add("  ").add(path));  // sha256sum's format
    return Status::ok();
}

Status mounts(const Owner& owner, Output& out) {
    for (uint32_t index = 0;; ++index) {
        api::MountRecord record{};
        if (owner.vfs.mount_entry(index, &record, sizeof record).is_error()) return Status::ok();
        LineText<400> line;
        line.add(reinterpret_cast<const char*>(record.source)).add(" on ");
        line.add(reinterpret_cast<const char*>(record.path)).add(" type ");
        out.line(line.add(reinterpret_cast<const char*>(record.file_system)));
    }
}

Status disk_free(const Owner& owner, Output& out) {
    LineText<400> header;
    out.line(header.add("mount            type       blocks      used      free    inodes  ifree"));
    for (uint32_t index = 0;; ++index) {
        api::MountRecord record{};
        if (owner.vfs.mount_entry(index, &record, sizeof record).is_error()) return Status::ok();
        const char* path = reinterpret_cast<const char*>(record.path);
        api::FileSystemUsage usage{};
        if (Status got = owner.vfs.usage_of_in(owner.table, path, length_of(path), &usage);
            got.is_error()) {
            (void)refuse(out, "df", path, got);
            continue;
        }
        LineText<400> line;
        line.add(path);
        for (uint64_t pad = length_of(path); pad < 16; ++pad) line.add(" ");
        line.add(" ").add(reinterpret_cast<const char*>(record.file_system));
        for (uint64_t pad = length_of(reinterpret_cast<const char*>(record.file_system)); pad < 6;
             ++pad) {
            line.add(" ");
        }
        add_padded(line, usage.total_blocks, 11);
        add_padded(line, usage.total_blocks - usage.free_blocks, 10);
        add_padded(line, usage.free_blocks, 10);
        add_padded(line, usage.total_inodes, 10);
        add_padded(line, usage.free_inodes, 7);
        out.line(line);
    }
}

Status print_working_directory(const Owner& owner, Output& out) {
    char path[kPathCapacity];
    uint64_t length = 0;
    Status got = owner.vfs.working_directory(owner.table, path, sizeof path, &length);
    if (got.is_error()) return refuse(out, "pwd", ".", got);
    out.add(path, length - 1);  // length counts the NUL
    out.add("\n", 1);
    return Status::ok();
}

// The one-path commands that print nothing on success.
Status single_path(const Owner& owner, const char* command, const char* path, Output& out) {
    uint64_t length = length_of(path);
    Status done = Status::ok();
    if (same_word(command, "mkdir")) {
        done = owner.vfs.make_directory_in(owner.table, path, length, 0755);
    } else if (same_word(command, "rmdir")) {
        done = owner.vfs.remove_directory_in(owner.table, path, length);
    } else if (same_word(command, "rm")) {
        done = owner.vfs.unlink_path_in(owner.table, path, length);
    } else {
        done = owner.vfs.unmount_at_in(owner.table, path, length);
    }
    return done.is_error() ? refuse(out, command, path, done) : done;
}

}  // namespace

bool knows(const char* command) {
    static constexpr const char* kCommands[] = {
        "ls",   "cat",    "stat",  "mkdir",  "rmdir", "rm",   "mv", "ln", "write",
        "fill", "sha256", "mount", "umount", "df",    "sync", "cd", "pwd"};
    for (const char* known : kCommands) {
        if (same_word(command, known)) return true;
    }
    return false;
}

Status run_file_command(const Owner& owner, const char* const* words, uint32_t count, Output& out) {
    const char* command = words[0];
    if (same_word(command, "ls")) return list(owner, words, count, out);
    if (same_word(command, "sync")) {
        if (count != 1) return usage(out, "sync");
        Status synced = owner.vfs.sync_all();
        return synced.is_error() ? refuse(out, "sync", "/", synced) : synced;
    }
    if (same_word(command, "df")) return count == 1 ? disk_free(owner, out) : usage(out, "df");
    if (same_word(command, "pwd"))
        return count == 1 ? print_working_directory(owner, out) : usage(out, "pwd");
    if (same_word(command, "cd")) {
        const char* path = count == 1 ? "/" : words[1];
        if (count > 2) return usage(out, "cd [PATH]");
        Status changed = owner.vfs.change_directory(owner.table, path, length_of(path));
        return changed.is_error() ? refuse(out, "cd", path, changed) : changed;
    }
    if (same_word(command, "mount")) {
        if (count == 1) return mounts(owner, out);
        if (count != 4) return usage(out, "mount | mount SOURCE TARGET TYPE");
        Status mounted = owner.vfs.mount_at_in(owner.table, words[1], length_of(words[1]), words[2],
                                               length_of(words[2]), words[3], length_of(words[3]));
        return mounted.is_error() ? refuse(out, "mount", words[2], mounted) : mounted;
    }
    if (same_word(command, "write")) {
        return count >= 2 ? write(owner, words, count, out) : usage(out, "write PATH [TEXT...]");
    }
    if (same_word(command, "fill")) {
        return count == 4 ? fill(owner, words, out) : usage(out, "fill PATH BYTES SEED");
    }
    if (same_word(command, "mv")) {
        if (count != 3) return usage(out, "mv FROM TO");
        Status moved = owner.vfs.rename_path_in(owner.table, words[1], length_of(words[1]),
                                                words[2], length_of(words[2]));
        return moved.is_error() ? refuse(out, "mv", words[1], moved) : moved;
    }
    if (same_word(command, "ln")) {
        bool symbolic = count == 4 && same_word(words[1], "-s");
        if (count != 3 && !symbolic) return usage(out, "ln [-s] TARGET PATH");
        const char* target = words[symbolic ? 2 : 1];
        const char* path = words[symbolic ? 3 : 2];
        Status linked = symbolic ? owner.vfs.symlink_path_in(owner.table, target, length_of(target),
                                                             path, length_of(path))
                                 : owner.vfs.link_path_in(owner.table, target, length_of(target),
                                                          path, length_of(path));
        return linked.is_error() ? refuse(out, "ln", path, linked) : linked;
    }
    if (count != 2) {
        static constexpr char kUsage[] = " PATH";
        LineText<64> text;
        text.add(command).add(kUsage);
        return usage(out, text.data());
    }
    if (same_word(command, "cat")) return cat(owner, words[1], out);
    if (same_word(command, "stat")) return stat(owner, words[1], out);
    if (same_word(command, "sha256")) return sha256(owner, words[1], out);
    return single_path(owner, command, words[1], out);
}

}  // namespace umka::files
