// The console service module (kabi-idl/modules/console_service.kabi): provides
// console.Console; requires char_device.CharDevice (the serial line), kernel_services.Log
// and service_directory.Directory (through which it finds every command set: the shell
// module's first, then the other modules': module_commands.h).
//
// Console.run() is the line editor: it opens the device, prints the prompt, echoes what is
// typed, erases on backspace/DEL, folds CR LF and LF CR into one line end, and hands each
// line to the command sets, writing its '\n'-separated output with CR LF line ends. Stateless
// code as every module: the line being typed, the last byte (CR LF folding and escape
// sequences) and the command output buffer are ConsoleState, nucleus memory, so a swap of
// this module in the middle of a line keeps the line.
#include "umka/kabi/console.hpp"

#include <stddef.h>
#include <stdint.h>

#include "module_commands.h"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/console_service_manifest.hpp"
#include "umka/kabi/console_service_state.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace chardev = umka::kabi::char_device;
namespace console = umka::kabi::console;
namespace services = umka::kabi::kernel_services;
using umka::kabi::Status;
using ConsoleState = umka::kabi::console_service::ConsoleState;

namespace {

// Manifest order of console_service.kabi.
enum Required : uint32_t {
    kCharDevice = 0,
    kLog = 1,
    kDirectory = 2,
    kRequiredCount = 3
};
enum Provided : uint32_t { kConsole = 0, kProvidedCount = 1 };
constexpr uint32_t kStateCount = 1;

constexpr uint32_t kLineCapacity = sizeof(ConsoleState::line);
constexpr uint64_t kOutputCapacity = sizeof(ConsoleState::output);

constexpr char kPrompt[] = "umka> ";
constexpr char kLineEnd[] = "\r\n";
constexpr char kErase[] = "\b \b";  // back, overwrite with a space, back again
constexpr char kInterrupted[] = "^C\r\n";
constexpr char kBell[] = "\a";
constexpr char kTruncated[] = "(output truncated)\r\n";
// `help` is the console's own command; its line has the shape of CommandSet.describe's.
constexpr char kHelpCommand[] = "help";
constexpr char kHelpLine[] = "help  lists the commands\r\n";

constexpr uint8_t kControlC = 0x03;
constexpr uint8_t kBackspace = 0x08;
constexpr uint8_t kEscape = 0x1B;
constexpr uint8_t kDelete = 0x7F;
// ConsoleState.previous_byte while inside an escape sequence: the 8-bit C1 codes of CSI
// and SS3. Input bytes >= 0x80 are ignored anyway, and a terminal that sends 8-bit CSI
// means exactly this.
constexpr uint8_t kInsideCsi = 0x9B;
constexpr uint8_t kInsideSs3 = 0x8F;

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

Status write_all(void* context, const void* data, uint64_t length) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    while (length != 0) {
        chardev::CharDeviceRef device;
        if (Status status = bind_device(context, &device); status.is_error()) return status;
        uint64_t transferred = 0;
        Status status = device.write(bytes, length, &transferred);
        if (is_retry(status)) {
            cpu_relax();
            continue;
        }
        if (status.is_error()) return status;
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
    for (;;) {
        chardev::CharDeviceRef device;
        if (Status status = bind_device(context, &device); status.is_error()) return status;
        uint64_t transferred = 0;
        Status status = device.read(byte, 1, &transferred);
        if (is_retry(status)) {
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
Status execute_line(void* context) {
    ConsoleState& state = state_of(context);
    const char* line = reinterpret_cast<const char*>(state.line);
    uint64_t start = 0;
    uint64_t end = state.line_length;
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

Status end_line(void* context) {
    ConsoleState& state = state_of(context);
    if (Status status = write_text(context, kLineEnd); status.is_error()) return status;
    Status executed = execute_line(context);
    state.line_length = 0;
    if (executed.is_error()) return executed;
    return prompt(context, state);
}

// Escape sequences (arrow keys send ESC [ A, function keys ESC O P) are swallowed whole:
// there is no history or cursor movement, and their bytes must not land in the line.
// Returns true when `byte` belonged to one.
bool swallow_escape(ConsoleState& state, uint8_t byte) {
    uint8_t previous = state.previous_byte;
    if (byte == kEscape) {
        state.previous_byte = kEscape;
        return true;
    }
    if (previous == kEscape) {
        state.previous_byte = byte == '[' ? kInsideCsi : byte == 'O' ? kInsideSs3 : 0;
        return true;
    }
    if (previous == kInsideCsi) {
        // Parameter (0x30-0x3F) and intermediate (0x20-0x2F) bytes go on; 0x40-0x7E ends.
        state.previous_byte = (byte >= 0x20 && byte <= 0x3F) ? kInsideCsi : 0;
        return true;
    }
    if (previous == kInsideSs3) {
        state.previous_byte = 0;
        return true;
    }
    return false;
}

// One input byte: line editing and echo.
Status handle_byte(void* context, uint8_t byte) {
    ConsoleState& state = state_of(context);
    if (swallow_escape(state, byte)) return Status::ok();
    if (byte == '\r' || byte == '\n') {
        uint8_t previous = state.previous_byte;
        if ((previous == '\r' && byte == '\n') || (previous == '\n' && byte == '\r')) {
            // The second half of CR LF or LF CR. Forget it, so CR LF CR LF is two lines.
            state.previous_byte = 0;
            return Status::ok();
        }
        state.previous_byte = byte;
        return end_line(context);
    }
    state.previous_byte = byte;
    if (byte == kBackspace || byte == kDelete) {
        if (state.line_length == 0) return Status::ok();
        state.line_length -= 1;
        return write_text(context, kErase);
    }
    if (byte == kControlC) {
        state.line_length = 0;
        if (Status status = write_text(context, kInterrupted); status.is_error()) return status;
        return prompt(context, state);
    }
    // Printable ASCII only: other control bytes, and bytes >= 0x80 (one backspace could
    // not erase a multi-byte character), are ignored.
    if (byte < 0x20 || byte > 0x7E) return Status::ok();
    if (state.line_length >= kLineCapacity) return write_text(context, kBell);
    state.line[state.line_length++] = byte;
    return write_all(context, &byte, 1);
}

// Logs why the device failed and gives run()'s answer: EIO whatever the device said.
Status device_failed(void* context, const char* operation, Status status) {
    LineText text;
    text.add("console: char device ").add(operation).add(" failed (errno ");
    text.number(uint64_t(status.code())).add("); console stops");
    log_line(context, services::LogLevel::Error, text);
    return UMKA_KABI_EIO;
}

struct ConsoleService {
    // Returns only when the device fails (EIO, whatever errno the device gave, which is
    // logged) or cannot be opened (ENODEV).
    static Status run(void* context) {
        ConsoleState& state = state_of(context);
        if (state.line_length > kLineCapacity) state.line_length = 0;  // not a line: start over

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
        LineText text;
        log_line(context, services::LogLevel::Info,
                 text.add("console: serving ").add(name, name_length));

        if (Status status = prompt(context, state); status.is_error()) {
            return device_failed(context, "write", status);
        }
        for (;;) {
            uint8_t byte = 0;
            if (Status status = read_byte(context, &byte); status.is_error()) {
                return device_failed(context, "read", status);
            }
            if (Status status = handle_byte(context, byte); status.is_error()) {
                return device_failed(context, "write", status);
            }
        }
    }
};
static_assert(__is_empty(ConsoleService), "module code keeps no state of its own");

constexpr console::ConsoleVtable console_vtable = console::make_console_vtable<ConsoleService>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_CONSOLE_SERVICE();

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, kRequiredCount, kProvidedCount, kStateCount)) {
        return UMKA_KABI_EINVAL;
    }
    // Schema 1 is the only one; a newer (append-only) schema starts with it.
    if (umka::kabi::module_state<ConsoleState>(binding) == nullptr ||
        binding->states[0].schema_version == 0) {
        return UMKA_KABI_EINVAL;
    }
    return umka_module_provide(binding, kConsole, &console_vtable, binding);
}
