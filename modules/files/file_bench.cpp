// `fbench DIR FILES MIB`: the file-system workload of bench/files_bench.py, through vfs.Vfs,
// in five timed steps that bench/linux_files_bench.c repeats on Linux with the same calls:
//   create  FILES files DIR/fNNNNNN of 100 bytes each (open O_CREAT|O_EXCL, write, close);
//   stat    each of them by path;
//   ls -l   DIR: every directory record, and a stat (no link following) of each;
//   write   DIR/big, MIB MiB of the fill pattern (seed 1) in 64 KiB writes, then fsync;
//   read    DIR/big back in 64 KiB reads.
// Each step's microseconds come from kernel_services.Clock; a refusal stops the run and names
// the step, the path and the errno.
#include "file_bench.h"

#include "umka/command_words.h"
#include "umka/errno_text.h"
#include "umka/fill_pattern.h"
#include "umka/number_text.h"

namespace umka::files {
namespace {

namespace services = kabi::kernel_services;

constexpr uint64_t kSmallFileBytes = 100;
constexpr uint64_t kChunkBytes = sizeof(AppenderState::bench_buffer);
// Paths the bench builds: a few of them live on the command thread's 16 KiB stack at once.
constexpr uint64_t kBenchPathCapacity = 256;

Status refused(Output& out, const char* step, const char* path, Status status) {
    LineText<400> line;
    out.line(line.add("fbench: ")
                 .add(step)
                 .add(": ")
                 .add(path)
                 .add(": ")
                 .add(errno_text(status.code())));
    return status;
}

// DIR/fNNNNNN; false when it does not fit.
bool small_file_path(const char* directory, uint64_t index, char (&path)[kBenchPathCapacity]) {
    LineText<kBenchPathCapacity> text;
    text.add(directory).add("/f");
    for (uint64_t divisor = 100000; divisor != 0; divisor /= 10) {
        char digit[2] = {char('0' + index / divisor % 10), '\0'};
        text.add(digit);
    }
    if (text.length() + 1 > sizeof path) return false;
    __builtin_memcpy(path, text.data(), text.length());
    path[text.length()] = '\0';
    return true;
}

class Bench {
public:
    Bench(const Owner& owner, const services::ClockRef& clock, uint8_t* buffer, Output& out)
        : owner_(owner), clock_(clock), buffer_(buffer), out_(out) {}

    Status create(const char* directory, uint64_t files) {
        uint8_t data[kSmallFileBytes];
        FillPattern(2).fill(data, kSmallFileBytes / 8);
        for (uint64_t index = 0; index < files; ++index) {
            char path[kBenchPathCapacity];
            if (!small_file_path(directory, index, path))
                return refused(out_, "create", directory, UMKA_KABI_ENAMETOOLONG);
            OpenFile file(
                owner_, path,
                api::OpenFlags::WriteOnly | api::OpenFlags::Create | api::OpenFlags::Exclusive,
                0644);
            if (file.status().is_error()) return refused(out_, "create", path, file.status());
            uint64_t written = 0;
            Status put = owner_.vfs.write_file_in(owner_.table, file.descriptor(), data,
                                                  sizeof data, &written);
            if (put.is_ok() && written != sizeof data) put = UMKA_KABI_ENOSPC;
            if (put.is_error()) return refused(out_, "create", path, put);
        }
        return Status::ok();
    }

    Status stat_all(const char* directory, uint64_t files) {
        for (uint64_t index = 0; index < files; ++index) {
            char path[kBenchPathCapacity];
            if (!small_file_path(directory, index, path))
                return refused(out_, "stat", directory, UMKA_KABI_ENAMETOOLONG);
            api::NodeAttributes attributes{};
            if (Status found =
                    owner_.vfs.stat_path_in(owner_.table, path, length_of(path), 1, &attributes);
                found.is_error()) {
                return refused(out_, "stat", path, found);
            }
            if (attributes.size != kSmallFileBytes)
                return refused(out_, "stat", path, UMKA_KABI_EIO);
        }
        return Status::ok();
    }

    Status list_long(const char* directory, uint64_t* entries) {
        OpenFile listing(owner_, directory, api::OpenFlags::Directory, 0);
        if (listing.status().is_error()) return refused(out_, "ls -l", directory, listing.status());
        *entries = 0;
        for (;;) {
            api::DirectoryRecord record{};
            Status read = owner_.vfs.read_directory_entry_in(owner_.table, listing.descriptor(),
                                                             &record, sizeof record);
            if (read.code() == UMKA_KABI_ENOENT) return Status::ok();
            if (read.is_error()) return refused(out_, "ls -l", directory, read);
            const char* name = reinterpret_cast<const char*>(record.name);
            if (same_word(name, ".") || same_word(name, "..")) continue;
            char child[kBenchPathCapacity];
            LineText<kBenchPathCapacity> text;
            text.add(directory).add("/").add(name);
            if (text.length() + 1 > sizeof child)
                return refused(out_, "ls -l", directory, UMKA_KABI_ENAMETOOLONG);
            __builtin_memcpy(child, text.data(), text.length());
            child[text.length()] = '\0';
            api::NodeAttributes attributes{};
            if (Status found =
                    owner_.vfs.stat_path_in(owner_.table, child, text.length(), 0, &attributes);
                found.is_error()) {
                return refused(out_, "ls -l", child, found);
            }
            ++*entries;
        }
    }

    Status write_big(const char* path, uint64_t bytes) {
        OpenFile file(owner_, path,
                      api::OpenFlags::WriteOnly | api::OpenFlags::Create | api::OpenFlags::Truncate,
                      0644);
        if (file.status().is_error()) return refused(out_, "write", path, file.status());
        FillPattern pattern(1);
        for (uint64_t done = 0; done < bytes; done += kChunkBytes) {
            pattern.fill(buffer_, kChunkBytes / 8);
            uint64_t want = bytes - done < kChunkBytes ? bytes - done : kChunkBytes;
            uint64_t written = 0;
            Status put =
                owner_.vfs.write_file_in(owner_.table, file.descriptor(), buffer_, want, &written);
            if (put.is_ok() && written != want) put = UMKA_KABI_ENOSPC;
            if (put.is_error()) return refused(out_, "write", path, put);
        }
        if (Status synced = owner_.vfs.sync_file_in(owner_.table, file.descriptor());
            synced.is_error()) {
            return refused(out_, "fsync", path, synced);
        }
        return Status::ok();
    }

    Status read_big(const char* path, uint64_t bytes) {
        OpenFile file(owner_, path, api::OpenFlags{}, 0);
        if (file.status().is_error()) return refused(out_, "read", path, file.status());
        uint64_t total = 0;
        for (;;) {
            uint64_t read = 0;
            Status got = owner_.vfs.read_file_in(owner_.table, file.descriptor(), buffer_,
                                                 kChunkBytes, &read);
            if (got.is_error()) return refused(out_, "read", path, got);
            if (read == 0) break;
            total += read;
        }
        return total == bytes ? Status::ok() : refused(out_, "read", path, UMKA_KABI_EIO);
    }

    uint64_t now_us() const { return clock_.now_ns() / 1000; }

private:
    const Owner& owner_;
    const services::ClockRef& clock_;
    uint8_t* buffer_;
    Output& out_;
};

bool parse_bound(const char* word, uint64_t limit, uint64_t* value, const char* what, Output& out) {
    ParsedNumber parsed = parse_unsigned(word, limit);
    if (parsed.ok() && parsed.value != 0) {
        *value = parsed.value;
        return true;
    }
    LineText<200> line;
    out.line(line.add("fbench: ")
                 .add(what)
                 .add(": '")
                 .add(word)
                 .add("' is ")
                 .add(parsed.ok() ? "zero" : number_error_text(parsed.error)));
    return false;
}

}  // namespace

Status bench_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                     Output& out) {
    if (count != 4) {
        LineText<80> line;
        out.line(line.add("usage: fbench DIR FILES MIB"));
        return UMKA_KABI_EINVAL;
    }
    const char* directory = words[1];
    uint64_t files = 0;
    uint64_t mebibytes = 0;
    if (!parse_bound(words[2], kMaximumBenchFiles, &files, "FILES", out) ||
        !parse_bound(words[3], kMaximumBenchMebibytes, &mebibytes, "MIB", out)) {
        return UMKA_KABI_EINVAL;
    }
    api::VfsRef vfs;
    services::ClockRef clock;
    if (kabi::bind_required(binding, kAppenderVfs, &vfs).is_error() ||
        kabi::bind_required(binding, kBenchClock, &clock).is_error()) {
        return refused(out, "start", directory, UMKA_KABI_ENODEV);
    }
    // Its own descriptor table: the console's numbers stay as they were, and whatever a
    // failed step left open is closed with the table.
    OwnTable table(vfs);
    if (table.status().is_error()) return refused(out, "start", directory, table.status());
    const Owner& owner = table.owner();
    if (Status made =
            owner.vfs.make_directory_in(owner.table, directory, length_of(directory), 0755);
        made.is_error()) {
        return refused(out, "mkdir", directory, made);
    }
    char big[kBenchPathCapacity];
    LineText<kBenchPathCapacity> big_path;
    big_path.add(directory).add("/big");
    if (big_path.length() + 1 > sizeof big)
        return refused(out, "write", directory, UMKA_KABI_ENAMETOOLONG);
    __builtin_memcpy(big, big_path.data(), big_path.length());
    big[big_path.length()] = '\0';
    Bench bench(owner, clock, appender_state(binding).bench_buffer, out);
    uint64_t marks[6];
    uint64_t entries = 0;
    marks[0] = bench.now_us();
    if (Status done = bench.create(directory, files); done.is_error()) return done;
    marks[1] = bench.now_us();
    if (Status done = bench.stat_all(directory, files); done.is_error()) return done;
    marks[2] = bench.now_us();
    if (Status done = bench.list_long(directory, &entries); done.is_error()) return done;
    marks[3] = bench.now_us();
    if (Status done = bench.write_big(big, mebibytes << 20); done.is_error()) return done;
    marks[4] = bench.now_us();
    if (Status done = bench.read_big(big, mebibytes << 20); done.is_error()) return done;
    marks[5] = bench.now_us();
    LineText<400> line;
    line.add("fbench ").add(directory).add(": create ").number(files).add(" files ");
    line.number(marks[1] - marks[0]).add(" us, stat ").number(marks[2] - marks[1]);
    line.add(" us, ls -l ").number(marks[3] - marks[2]).add(" us (").number(entries);
    line.add(" entries), write ").number(mebibytes).add(" MiB ").number(marks[4] - marks[3]);
    line.add(" us, read ").number(marks[5] - marks[4]).add(" us");
    out.line(line);
    return Status::ok();
}

}  // namespace umka::files
