// Runs a host tool for the tool tests and captures its exit status and output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace umka::crypto::test {

struct ToolResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr, interleaved
};

// Single-quotes an argument for /bin/sh.
inline std::string shell_quote(const std::string& argument) {
    std::string quoted = "'";
    for (char character : argument) {
        if (character == '\'') {
            quoted += "'\\''";
        } else {
            quoted += character;
        }
    }
    return quoted + "'";
}

// The tool under test: `built_in` (the build's path), or the program named by the environment
// variable `override_name`, so one test binary also runs against the sanitized tool copies.
inline std::string tool_path(const char* built_in, const char* override_name) {
    const char* override_path = std::getenv(override_name);
    return override_path != nullptr && *override_path != '\0' ? override_path : built_in;
}

inline ToolResult run_tool(const std::string& program, const std::vector<std::string>& arguments) {
    std::string command = shell_quote(program);
    for (const std::string& argument : arguments) command += " " + shell_quote(argument);
    command += " 2>&1";
    ToolResult result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[4096];
    size_t count;
    while ((count = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
        result.output.append(buffer, count);
    int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream stream(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(stream), {});
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream stream(path, std::ios::binary | std::ios::trunc);
    stream.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

}  // namespace umka::crypto::test
