#include "nucleus/console/console.h"

#include <arch/cpu.h>
#include <arch/early_console.h>

#include "nucleus/lib/log.h"

namespace umka::console {
namespace {

constexpr size_t kLineCapacity = 256;
constexpr size_t kOutputCapacity = 64 * 1024;
// Only the boot CPU runs the fallback console; the buffer is too large for its stack.
constinit char output_buffer[kOutputCapacity];

bool is_space(char character) {
    return character == ' ' || character == '\t';
}

}  // namespace

Status execute(const char* line, size_t length, TextOutput& out) {
    size_t start = 0;
    while (start < length && is_space(line[start])) ++start;
    size_t name_end = start;
    while (name_end < length && !is_space(line[name_end])) ++name_end;
    if (name_end == start) return Status::ok();

    // Arguments are passed NUL-terminated; lines are short, so copy them once.
    char arguments[kLineCapacity];
    size_t argument_start = name_end;
    while (argument_start < length && is_space(line[argument_start])) ++argument_start;
    size_t argument_length = length - argument_start;
    if (argument_length >= sizeof arguments) argument_length = sizeof arguments - 1;
    __builtin_memcpy(arguments, line + argument_start, argument_length);
    arguments[argument_length] = '\0';

    size_t name_length = name_end - start;
    for (size_t index = 0; index < command_count(); ++index) {
        const Command& command = commands()[index];
        size_t command_length = 0;
        while (command.name[command_length] != '\0') ++command_length;
        if (command_length == name_length &&
            __builtin_memcmp(command.name, line + start, name_length) == 0) {
            command.run(arguments, out);
            return Status::ok();
        }
    }
    out.print("unknown command '%.*s'; type 'help' for the list\n", int(name_length), line + start);
    return Errno::NotFound;
}

void run() {
    char line[kLineCapacity];
    size_t length = 0;
    bool too_long = false;  // bytes were typed past the capacity: the line is refused whole
    char previous = '\0';
    log("%s", kPrompt);
    for (;;) {
        char character;
        if (!arch::early_console_poll(character)) {
            // The periodic timer wakes us to poll again; no interrupt-driven UART yet.
            arch::wait_for_interrupt();
            continue;
        }
        bool crlf_tail = character == '\n' && previous == '\r';
        previous = character;
        if (crlf_tail) continue;
        if (character == '\r' || character == '\n') {
            log("\n");
            if (too_long) {
                log("line longer than %zu bytes; refused\n", kLineCapacity - 1);
            } else {
                TextOutput out(output_buffer, sizeof output_buffer);
                (void)execute(line, length, out);
                log_write(out.data(), out.length());
                if (out.state() == OutputState::Truncated) log("(output truncated)\n");
            }
            length = 0;
            too_long = false;
            log("%s", kPrompt);
        } else if (character == '\b' || character == 0x7F) {
            if (length > 0) {
                --length;
                log("\b \b");
            }
        } else if (character >= ' ' && character < 0x7F) {
            if (length + 1 < kLineCapacity) {
                line[length++] = character;
                log_write(&character, 1);
            } else {
                too_long = true;
            }
        }
    }
}

}  // namespace umka::console
