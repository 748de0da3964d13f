// The console service module (kabi-idl/modules/console_service.kabi): provides
// console.Console and console_command.Interrupt (Ctrl-C for long commands); requires
// char_device.CharDevice (the serial line), kernel_services.Log and
// service_directory.Directory (through which it finds every command set: the shell
// module's first, then the other modules': module_commands.h).
//
// Console.run() opens the device, prints the prompt, feeds each byte to the line editor
// (line_editor.h), shows what it asks for, and hands each completed line to the command sets,
// writing its '\n'-separated output with CR LF line ends. Stateless code as every module:
// the line being typed, the editor's state and the command output buffer are
// ConsoleState, nucleus memory, so a swap of this module in the middle of a line keeps it.
#include "umka/kabi/console.hpp"

#include <stddef.h>
#include <stdint.h>

#include "console_versions.h"
#include "line_editor.h"
#include "module_commands.h"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/console_service_manifest.hpp"
#include "umka/kabi/console_service_state.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace chardev = umka::kabi::char_device;
namespace console = umka::kabi::console;
namespace console_command = umka::kabi::console_command;
namespace services = umka::kabi::kernel_services;
using umka::kabi::Status;
using ConsoleState = umka::kabi::console_service::ConsoleState;

namespace {

// Manifest order of console_service.kabi.
enum Required : uint32_t { kCharDevice = 0, kLog = 1, kDirectory = 2, kRequiredCount = 3 };
enum Provided : uint32_t { kConsole = 0, kInterrupt = 1, kProvidedCount = 2 };
constexpr uint32_t kStateCount = 1;

using umka::console_service::EditEvent;
using umka::console_service::kLineCapacity;
static_assert(kLineCapacity == sizeof(ConsoleState::line));
constexpr uint64_t kOutputCapacity = sizeof(ConsoleState::output);

constexpr char kPrompt[] = "umka> ";
constexpr char kLineEnd[] = "\r\n";
constexpr char kErase[] = "\b \b";  // back, overwrite with a space, back again
constexpr char kInterrupted[] = "^C\r\n";
constexpr char kBell[] = "\a";
constexpr char kTooLong[] = "line too long (over 256 bytes): refused, nothing run\r\n";
constexpr char kTruncated[] = "(output truncated)\r\n";
// `help` is the console's own command; its line has the shape of CommandSet.describe's.
constexpr char kHelpCommand[] = "help";
constexpr char kHelpLine[] = "help  lists the commands\r\n";

// ConsoleState.command_phase: whether a command runs, and whether Ctrl-C arrived since it
// started (console_command.Interrupt).
// Starting: run() has not served yet (a fresh state), so it says which device it serves.
enum class CommandPhase : uint8_t { Starting = 0, Editing = 1, Running = 2, Interrupted = 3 };

// What handle_byte did: run() returns to its caller after each command (Console.run's
// EAGAIN), so a swap of the console by that command takes effect at the next run().
enum class AfterByte : uint8_t { KeepReading, CommandRan };

// Between retries of an EAGAIN/EINTR from the device.
constexpr uint32_t kPausesPerRetry = 64;

void cpu_relax() {
    for (uint32_t spin = 0; spin < kPausesPerRetry; ++spin) __builtin_ia32_pause();
}

const UmkaModuleBinding* binding_of(void* context) {
    return umka::kabi::binding_of(context);
}

ConsoleState& state_of(void* context) {
    // umka_module_entry refused the binding unless the region is there and large enough.
    return *umka::kabi::module_state<ConsoleState>(binding_of(context));
}

// Text into a fixed buffer for log lines (no libc in a module).
using LineText = umka::LineText<160>;

void log_line(void* context, services::LogLevel level, const LineText& text) {
    services::LogRef log;
    // A missing Log loses the line: there is nowhere else to say it.
    if (umka::kabi::bind_required(binding_of(context), kLog, &log).is_ok()) {
        log.write(level, text.data(), text.length());
    }
}

// --- the device --------------------------------------------------------------------------
// Bound per operation (never cached across calls), so a swap of the serial driver while
// the console waits for input is seen by the next read.

Status bind_device(void* context, chardev::CharDeviceRef* device) {
    return umka::kabi::bind_required(binding_of(context), kCharDevice, device);
}

bool is_retry(Status status) {
    return status.code() == UMKA_KABI_EAGAIN || status.code() == UMKA_KABI_EINTR;
}

// A request the driver crashed in is answered with EIO while the nucleus restarts it
// (docs/crash-containment.md): tried again this many times in a row before the console
// gives up. A driver that failed for good answers ENODEV, which is not retried.
constexpr uint32_t kCrashRetries = 3;

bool retry_after_crash(Status status, uint32_t& retries) {
    if (status.code() != UMKA_KABI_EIO || retries == kCrashRetries) return false;
    ++retries;
    return true;
}

// A driver restarted with fresh state (it refused the state of the instance that crashed,
// docs/crash-containment.md) has no open device and answers EBADF: opened again, once per
// call, and the call tried again.
bool reopen_after_reset(void* context, Status status, bool& reopened) {
    if (status.code() != UMKA_KABI_EBADF || reopened) return false;
    reopened = true;
    chardev::CharDeviceRef device;
    if (bind_device(context, &device).is_error() ||
        device.open(chardev::OpenMode::Read | chardev::OpenMode::Write).is_error()) {
        return false;
    }
    LineText text;
    log_line(context, services::LogLevel::Warning,
             text.add("console: the char device was closed under it (a restart with fresh "
                      "state); opened it again"));
    return true;
}

Status write_all(void* context, const void* data, uint64_t length) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    uint32_t crash_retries = 0;
    bool reopened = false;
    while (length != 0) {
        chardev::CharDeviceRef device;
        if (Status status = bind_device(context, &device); status.is_error()) return status;
        uint64_t transferred = 0;
        Status status = device.write(bytes, length, &transferred);
        if (is_retry(status) || retry_after_crash(status, crash_retries) ||
            reopen_after_reset(context, status, reopened)) {
            cpu_relax();
            continue;
        }
        if (status.is_error()) return status;
        crash_retries = 0;
        // Success without progress would loop forever: the device is broken.
        if (transferred == 0 || transferred > length) return UMKA_KABI_EIO;
        bytes += transferred;
        length -= transferred;
    }
    return Status::ok();
}

template <uint64_t N>
Status write_text(void* context, const char (&text)[N]) {
    return write_all(context, text, N - 1);
}

// Writes '\n'-separated text with CR LF line ends (a "\r\n" already there stays as it is),
// ending with a line end if the text does not.
Status write_lines(void* context, const uint8_t* text, uint64_t length) {
    uint64_t start = 0;
    for (uint64_t index = 0; index < length; ++index) {
        if (text[index] != '\n') continue;
        bool has_return = index > start && text[index - 1] == '\r';
        uint64_t end = has_return ? index - 1 : index;
        if (Status status = write_all(context, text + start, end - start); status.is_error()) {
            return status;
        }
        if (Status status = write_text(context, kLineEnd); status.is_error()) return status;
        start = index + 1;
    }
    if (start == length) return Status::ok();
    if (Status status = write_all(context, text + start, length - start); status.is_error()) {
        return status;
    }
    return write_text(context, kLineEnd);
}

// One byte, waiting as the device does (it was opened blocking). A successful read of
// nothing is a hang-up: the console cannot go on, EIO.
Status read_byte(void* context, uint8_t* byte) {
    uint32_t crash_retries = 0;
    bool reopened = false;
    for (;;) {
        chardev::CharDeviceRef device;
        if (Status status = bind_device(context, &device); status.is_error()) return status;
        uint64_t transferred = 0;
        Status status = device.read(byte, 1, &transferred);
        if (is_retry(status) || retry_after_crash(status, crash_retries) ||
            reopen_after_reset(context, status, reopened)) {
            cpu_relax();
            continue;
        }
        if (status.is_error()) return status;
        return transferred == 1 ? Status::ok() : Status(UMKA_KABI_EIO);
    }
}

Status prompt(void* context, const ConsoleState& state) {
    if (Status status = write_text(context, kPrompt); status.is_error()) return status;
    // A line kept across a swap (or a restarted run()) is shown again, ready to go on.
    return write_all(context, state.line, state.line_length);
}

// --- commands ----------------------------------------------------------------------------

// What a command answered, on the device: its text (for an error, the set's explanation),
// the truncation notice for ENOSPC, a line naming the command for ENOENT, and a line naming
// the errno for any other error that came without text.
Status show_result(void* context, const char* command, uint64_t command_length, Status result,
                   const uint8_t* text_output, uint64_t capacity, uint64_t written) {
    if (written > capacity) written = capacity;  // an answer that overstates
    int32_t code = result.code();
    if (code == UMKA_KABI_OK || code == UMKA_KABI_ENOENT || code == UMKA_KABI_ENOSPC ||
        written != 0) {
        if (code == UMKA_KABI_ENOENT) {
            LineText text;
            text.add(command, command_length).add(": unknown command\r\n");
            return write_all(context, text.data(), text.length());
        }
        if (Status status = write_lines(context, text_output, written); status.is_error()) {
            return status;
        }
        return code == UMKA_KABI_ENOSPC ? write_text(context, kTruncated) : Status::ok();
    }
    LineText text;
    text.add(command, command_length)
        .add(": failed with errno ")
        .number(uint64_t(code))
        .add(kLineEnd);
    return write_all(context, text.data(), text.length());
}

bool is_blank(uint8_t byte) {
    return byte == ' ' || byte == '\t';
}

// Runs the line in ConsoleState.line (leading and trailing blanks dropped).
Status execute_line(void* context, uint32_t line_length) {
    ConsoleState& state = state_of(context);
    const char* line = reinterpret_cast<const char*>(state.line);
    uint64_t start = 0;
    uint64_t end = line_length;
    while (start < end && is_blank(state.line[start])) ++start;
    while (end > start && is_blank(state.line[end - 1])) --end;
    if (start == end) return Status::ok();
    const char* command = line + start;
    uint64_t length = end - start;
    state.lines_executed += 1;

    uint64_t written = 0;
    if (length == sizeof(kHelpCommand) - 1 &&
        __builtin_memcmp(command, kHelpCommand, length) == 0) {
        if (Status status = write_text(context, kHelpLine); status.is_error()) return status;
        Status result = umka::console_service::describe_module_commands(
            binding_of(context), kDirectory, state.output, kOutputCapacity, &written);
        return show_result(context, command, length, result, state.output, kOutputCapacity,
                           written);
    }
    // Every command set in precedence order: the shell module's first, so no other module
    // takes over one of its names (console_command.kabi, CommandSet.precedence).
    umka::console_service::CommandWords words;
    umka::console_service::SplitResult split =
        umka::console_service::split_words(command, length, words);
    if (split != umka::console_service::SplitResult::Words) {
        LineText text;
        text.add(command, length < 32 ? length : 32).add(": more than 32 words; refused\r\n");
        return write_all(context, text.data(), text.length());
    }
    Status result = umka::console_service::execute_module_command(
        binding_of(context), kDirectory, words, state.output, kOutputCapacity, &written);
    uint64_t name_length = 0;  // messages name the command, not its arguments
    while (words.bytes[name_length] != '\0') ++name_length;
    return show_result(context, words.bytes, name_length, result, state.output, kOutputCapacity,
                       written);
}

// The line the editor completed is already taken out of the line being typed (its bytes
// stay in ConsoleState.line until the next byte arrives): a swap during the command
// carries an empty line, not the one being run. Everything the console keeps is updated
// before the command runs, so the old code writes only the command's output after it.
Status end_line(void* context, uint32_t line_length, AfterByte* after) {
    ConsoleState& state = state_of(context);
    if (Status status = write_text(context, kLineEnd); status.is_error()) return status;
    uint32_t blanks = 0;
    while (blanks < line_length && is_blank(state.line[blanks])) ++blanks;
    if (blanks == line_length) return prompt(context, state);  // a blank line is no command
    state.command_phase = static_cast<uint8_t>(CommandPhase::Running);
    if (Status executed = execute_line(context, line_length); executed.is_error()) {
        return executed;
    }
    *after = AfterByte::CommandRan;
    return Status::ok();
}

umka::console_service::EditorFields editor_fields(ConsoleState& state) {
    return {state.line, &state.line_length, &state.previous_end, &state.escape, &state.line_status};
}

// One input byte: line editing (line_editor.h) and what it shows.
Status handle_byte(void* context, uint8_t byte, AfterByte* after) {
    ConsoleState& state = state_of(context);
    umka::console_service::EditResult edit =
        umka::console_service::feed(editor_fields(state), byte);
    switch (edit.event) {
    case EditEvent::Ignored:
        return Status::ok();
    case EditEvent::Echo:
        return write_all(context, &edit.byte, 1);
    case EditEvent::Erase:
        return write_text(context, kErase);
    case EditEvent::Bell:
        return write_text(context, kBell);
    case EditEvent::LineComplete:
        return end_line(context, edit.length, after);
    case EditEvent::LineRefused:
        umka::console_service::count_refused(state);
        if (Status status = write_text(context, kLineEnd); status.is_error()) return status;
        if (Status status = write_text(context, kTooLong); status.is_error()) return status;
        return prompt(context, state);
    case EditEvent::Interrupted:
        if (Status status = write_text(context, kInterrupted); status.is_error()) return status;
        return prompt(context, state);
    }
    return Status::ok();
}

// --- console_command.Interrupt ------------------------------------------------------------

constexpr uint8_t kControlC = 0x03;
// Input taken per poll at most (kInterruptReads reads of kInterruptChunk bytes), so a
// flood of input cannot hold a command inside poll().
constexpr uint32_t kInterruptReads = 16;
constexpr uint64_t kInterruptChunk = 32;

// Drains the input that is waiting: poll(Readable) first, so the blocking read the console
// opened the device with returns at once with what is there.
Status drain_input(void* context, ConsoleState& state) {
    for (uint32_t round = 0; round < kInterruptReads; ++round) {
        chardev::CharDeviceRef device;
        if (Status status = bind_device(context, &device); status.is_error()) return status;
        chardev::PollEvents ready{};
        // EBADF: the driver was restarted with fresh state; the next write opens it again.
        if (Status status = device.poll(chardev::PollEvents::Readable, &ready); status.is_error()) {
            return status.code() == UMKA_KABI_EBADF ? Status::ok() : status;
        }
        if (!chardev::any(ready & chardev::PollEvents::Readable)) return Status::ok();
        uint8_t bytes[kInterruptChunk];
        uint64_t transferred = 0;
        Status status = device.read(bytes, sizeof bytes, &transferred);
        if (is_retry(status) || status.code() == UMKA_KABI_EBADF) return Status::ok();
        if (status.is_error()) return status;
        if (transferred > sizeof bytes) return UMKA_KABI_EIO;
        for (uint64_t index = 0; index < transferred; ++index) {
            if (bytes[index] == kControlC) {
                state.command_phase = static_cast<uint8_t>(CommandPhase::Interrupted);
            }
        }
    }
    return Status::ok();
}

struct ConsoleInterrupt {
    // Outside a command (the console is editing a line and reads the device itself):
    // `interrupted` 0 and nothing read. A device error is returned as the device gave it.
    static Status poll(void* context, uint8_t* interrupted) {
        if (interrupted == nullptr) return UMKA_KABI_EINVAL;
        *interrupted = 0;
        ConsoleState& state = state_of(context);
        auto phase = static_cast<CommandPhase>(state.command_phase);
        if (phase != CommandPhase::Running && phase != CommandPhase::Interrupted) {
            return Status::ok();
        }
        if (phase == CommandPhase::Running) {
            if (Status status = drain_input(context, state); status.is_error()) return status;
        }
        *interrupted =
            static_cast<CommandPhase>(state.command_phase) == CommandPhase::Interrupted ? 1 : 0;
        return Status::ok();
    }
};
static_assert(__is_empty(ConsoleInterrupt), "module code keeps no state of its own");

// Logs why the device failed and gives run()'s answer: EIO whatever the device said.
Status device_failed(void* context, const char* operation, Status status) {
    LineText text;
    text.add("console: char device ").add(operation).add(" failed (errno ");
    text.number(uint64_t(status.code())).add("); console stops");
    log_line(context, services::LogLevel::Error, text);
    return UMKA_KABI_EIO;
}

struct ConsoleService {
    // Returns EAGAIN after each command it ran (the caller calls run() again through the
    // service slot), EIO when the device fails (whatever errno the device gave, which is
    // logged), ENODEV when it cannot be opened.
    static Status run(void* context) {
        ConsoleState& state = state_of(context);
        // A state carried from a broken build: the line starts over.
        umka::console_service::repair(editor_fields(state));
        auto phase = static_cast<CommandPhase>(state.command_phase);
        bool starting = phase == CommandPhase::Starting || phase > CommandPhase::Interrupted;

        chardev::CharDeviceRef device;
        if (Status status = bind_device(context, &device); status.is_error()) {
            LineText text;
            log_line(context, services::LogLevel::Error,
                     text.add("console: no char_device.CharDevice to run on (errno ")
                         .number(uint64_t(status.code()))
                         .add(")"));
            return UMKA_KABI_ENODEV;
        }
        chardev::CharDeviceInfo info{};
        const char* name = "the char device";
        uint64_t name_length = 15;
        if (device.info(&info).is_ok() && info.name[0] != 0) {
            name = reinterpret_cast<const char*>(info.name);
            name_length = 0;
            while (name_length < sizeof(info.name) && info.name[name_length] != 0) ++name_length;
        }
        Status opened = device.open(chardev::OpenMode::Read | chardev::OpenMode::Write);
        if (opened.is_error()) {
            LineText text;
            log_line(context, services::LogLevel::Error,
                     text.add("console: opening ")
                         .add(name, name_length)
                         .add(" failed (errno ")
                         .number(uint64_t(opened.code()))
                         .add(")"));
            return UMKA_KABI_ENODEV;
        }
        if (starting) {
            LineText text;
            log_line(context, services::LogLevel::Info,
                     text.add("console: serving ").add(name, name_length));
        }
        // The command that ended the last run() is over, wherever that run() ran.
        state.command_phase = static_cast<uint8_t>(CommandPhase::Editing);

        if (Status status = prompt(context, state); status.is_error()) {
            return device_failed(context, "write", status);
        }
        for (;;) {
            uint8_t byte = 0;
            if (Status status = read_byte(context, &byte); status.is_error()) {
                return device_failed(context, "read", status);
            }
            AfterByte after = AfterByte::KeepReading;
            if (Status status = handle_byte(context, byte, &after); status.is_error()) {
                return device_failed(context, "write", status);
            }
            if (after == AfterByte::CommandRan) return UMKA_KABI_EAGAIN;
        }
    }
};
static_assert(__is_empty(ConsoleService), "module code keeps no state of its own");

constexpr console::ConsoleVtable console_vtable = console::make_console_vtable<ConsoleService>();
constexpr console_command::InterruptVtable interrupt_vtable =
    console_command::make_interrupt_vtable<ConsoleInterrupt>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_CONSOLE_SERVICE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount)) {
        return UMKA_KABI_EINVAL;
    }
    // A newer (append-only) schema starts with this build's; an older one is imported
    // (console_versions.h).
    if (umka::kabi::module_state<ConsoleState>(binding) == nullptr ||
        binding->states[0].schema_version == 0) {
        return UMKA_KABI_EINVAL;
    }
    umka_module_set_state_import(binding, umka::console_service::import_console_state);
    int32_t provided = umka_module_provide(binding, kConsole, &console_vtable, binding);
    if (provided != UMKA_KABI_OK) return provided;
    return umka_module_provide(binding, kInterrupt, &interrupt_vtable, binding);
}
