// One console command line through a module's console_command.CommandSet, as the console
// hands it over: the line split at each space into NUL-terminated words. For host tests of
// modules that offer commands (installed with the SDK's harness headers).
#pragma once

#include <stdint.h>

#include <algorithm>
#include <string>
#include <vector>

#include "umka/kabi/console_command.hpp"

namespace umka::harness {

// The text the command wrote (at most `capacity` bytes); its status code in `*status`.
inline std::string run_command_line(const umka::kabi::console_command::CommandSetRef& set,
                                    const std::string& line, int32_t* status = nullptr,
                                    size_t capacity = 64 * 1024) {
    std::string words = line;
    uint32_t count = 1;
    for (char& character : words) {
        if (character == ' ') {
            character = '\0';
            ++count;
        }
    }
    words.push_back('\0');
    std::vector<char> output(capacity);
    uint64_t written = 0;
    int32_t code =
        set.execute(words.data(), words.size(), count, output.data(), output.size(), &written)
            .code();
    if (status != nullptr) *status = code;
    return std::string(output.data(), std::min<uint64_t>(written, output.size()));
}

}  // namespace umka::harness
