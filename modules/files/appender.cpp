// `append PATH LINES`: a thread writes "line 000001\n", "line 000002\n", ... to PATH through
// one descriptor opened with O_APPEND and held to the end, in a descriptor table of its own,
// yielding every 16 lines so that other commands run while it writes. A host reads the file
// back and knows exactly what it must hold: every line once, in order. It is also the writer
// a live swap of the VFS and of ext2 must not disturb (the ext2-swap scenario).
#include "appender.h"

#include "umka/errno_text.h"
#include "umka/number_text.h"

namespace umka::files {
namespace {

namespace api = kabi::vfs;
namespace services = kabi::kernel_services;

enum class Phase : uint32_t { Idle = 0, Running = 1, Done = 2, Failed = 3 };

constexpr uint64_t kLineBytes = 12;  // "line 000001\n"
constexpr uint64_t kYieldEvery = 16;

void format_line(uint64_t number, char (&line)[kLineBytes]) {
    __builtin_memcpy(line, "line ", 5);
    for (int32_t digit = 10; digit >= 5; --digit) {
        line[digit] = char('0' + number % 10);
        number /= 10;
    }
    line[11] = '\n';
}

void finish(AppenderState& state, Status status) {
    __atomic_store_n(&state.error, status.code(), __ATOMIC_RELAXED);
    __atomic_store_n(&state.phase, uint32_t(status.is_ok() ? Phase::Done : Phase::Failed),
                     __ATOMIC_RELEASE);
}

int32_t appender_main(uint64_t argument) {
    auto* binding = reinterpret_cast<const UmkaModuleBinding*>(argument);
    AppenderState& state = appender_state(binding);
    api::VfsRef vfs;
    services::ThreadsRef threads;
    if (kabi::bind_required(binding, kAppenderVfs, &vfs).is_error() ||
        kabi::bind_required(binding, kAppenderThreads, &threads).is_error()) {
        finish(state, UMKA_KABI_ENODEV);
        return 0;
    }
    const char* path = reinterpret_cast<const char*>(state.path);
    uint64_t length = 0;
    while (path[length] != '\0') ++length;
    // The appender is an owner of its own: its descriptor lives in its own table.
    api::DescriptorTable table{};
    if (Status created = vfs.create_table(&table); created.is_error()) {
        finish(state, created);
        return 0;
    }
    uint32_t descriptor = 0;
    Status opened = vfs.open_file_in(
        table, path, length,
        api::OpenFlags::WriteOnly | api::OpenFlags::Create | api::OpenFlags::Append, 0644,
        &descriptor);
    if (opened.is_error()) {
        (void)vfs.destroy_table(table);
        finish(state, opened);
        return 0;
    }
    Status status = Status::ok();
    for (uint64_t number = 1; number <= state.target_lines && status.is_ok(); ++number) {
        char line[kLineBytes];
        format_line(number, line);
        uint64_t written = 0;
        // Bound again per line: a live swap of the VFS repoints the slot between calls.
        if (kabi::bind_required(binding, kAppenderVfs, &vfs).is_error()) {
            status = UMKA_KABI_ENODEV;
            break;
        }
        status = vfs.write_file_in(table, descriptor, line, kLineBytes, &written);
        if (status.is_ok() && written != kLineBytes) status = UMKA_KABI_EIO;
        if (status.is_ok()) __atomic_store_n(&state.written_lines, number, __ATOMIC_RELEASE);
        if (number % kYieldEvery == 0) threads.yield_now();
    }
    if (kabi::bind_required(binding, kAppenderVfs, &vfs).is_error()) {
        finish(state, status.is_error() ? status : Status(UMKA_KABI_ENODEV));
        return 0;
    }
    Status closed = vfs.close_file_in(table, descriptor);
    Status destroyed = vfs.destroy_table(table);
    finish(state, status.is_error() ? status : closed.is_error() ? closed : destroyed);
    return 0;
}

void report(const AppenderState& state, Output& out) {
    LineText<400> line;
    line.add("append: ").add(reinterpret_cast<const char*>(state.path)).add(": ");
    line.number(__atomic_load_n(&state.written_lines, __ATOMIC_ACQUIRE)).add(" of ");
    line.number(state.target_lines).add(" lines, ");
    switch (Phase(__atomic_load_n(&state.phase, __ATOMIC_ACQUIRE))) {
    case Phase::Idle:
        line.add("idle");
        break;
    case Phase::Running:
        line.add("running");
        break;
    case Phase::Done:
        line.add("done");
        break;
    case Phase::Failed:
        line.add("failed: ").add(errno_text(state.error));
        break;
    }
    out.line(line);
}

}  // namespace

Status append_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                      Output& out) {
    AppenderState& state = appender_state(binding);
    if (count == 1) {
        report(state, out);
        return Status::ok();
    }
    if (count != 3) {
        static constexpr char kUsage[] = "usage: append [PATH LINES] (LINES <= 999999)\n";
        out.add(kUsage, sizeof kUsage - 1);
        return UMKA_KABI_EINVAL;
    }
    ParsedNumber lines = parse_unsigned(words[2], 999999);
    uint64_t path_length = 0;
    while (words[1][path_length] != '\0') ++path_length;
    if (!lines.ok() || lines.value == 0 || path_length >= sizeof state.path) {
        static constexpr char kBad[] = "append: LINES must be 1 to 999999, PATH under 128 bytes\n";
        out.add(kBad, sizeof kBad - 1);
        return UMKA_KABI_EINVAL;
    }
    uint32_t phase = __atomic_load_n(&state.phase, __ATOMIC_ACQUIRE);
    if (phase == uint32_t(Phase::Running)) {
        static constexpr char kBusy[] = "append: one is already running\n";
        out.add(kBusy, sizeof kBusy - 1);
        return UMKA_KABI_EBUSY;
    }
    services::ThreadsRef threads;
    if (kabi::bind_required(binding, kAppenderThreads, &threads).is_error())
        return UMKA_KABI_ENODEV;
    if (state.thread != 0) {  // the last one, finished: collect it
        int32_t exit_status = 0;
        (void)threads.join(services::Thread{state.thread}, &exit_status);
        state.thread = 0;
    }
    __builtin_memset(state.path, 0, sizeof state.path);
    __builtin_memcpy(state.path, words[1], path_length);
    state.target_lines = lines.value;
    state.written_lines = 0;
    state.error = 0;
    __atomic_store_n(&state.phase, uint32_t(Phase::Running), __ATOMIC_RELEASE);
    static constexpr char kName[] = "file-appender";
    services::Thread thread{};
    Status spawned = threads.spawn_thread(
        reinterpret_cast<uint64_t>(&appender_main), reinterpret_cast<uint64_t>(binding),
        services::ThreadPriority::Normal, services::ThreadPlacement::Anywhere, 0, kName,
        sizeof kName - 1, &thread);
    if (spawned.is_error()) {
        finish(state, spawned);
        report(state, out);
        return spawned;
    }
    state.thread = thread.value;
    report(state, out);
    return Status::ok();
}

}  // namespace umka::files
