#include "nucleus/console/console.h"

#include <arch/cpu.h>
#include <arch/early_console.h>

#include "nucleus/lib/log.h"

namespace umka::console {
namespace {

constexpr size_t kLineCapacity = 256;

bool is_space(char character) {
    return character == ' ' || character == '\t';
}

}  // namespace

void execute(const char* line) {
    while (is_space(*line)) ++line;
    if (*line == '\0') return;
    size_t name_length = 0;
    while (line[name_length] != '\0' && !is_space(line[name_length])) ++name_length;
    const char* arguments = line + name_length;
    while (is_space(*arguments)) ++arguments;

    for (size_t index = 0; index < command_count(); ++index) {
        const Command& command = commands()[index];
        size_t length = 0;
        while (command.name[length] != '\0') ++length;
        if (length == name_length && __builtin_memcmp(command.name, line, length) == 0) {
            command.run(arguments);
            return;
        }
    }
    char name[kLineCapacity];
    __builtin_memcpy(name, line, name_length);
    name[name_length] = '\0';
    log("unknown command '%s'; type 'help' for the list\n", name);
}

void run() {
    char line[kLineCapacity];
    size_t length = 0;
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
            line[length] = '\0';
            execute(line);
            length = 0;
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
            }
        }
    }
}

}  // namespace umka::console
