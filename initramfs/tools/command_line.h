// The command line of the host tools (umka-sign, umka-bundle): `tool COMMAND [--option
// value | --flag | positional]...`, parsed once here so every tool refuses the same
// mistakes with the same words.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace umka::tools {

struct Arguments {
    std::map<std::string, std::string> options;  // "--output" -> value; a flag -> ""
    std::vector<std::string> positional;
};

// Parses values[2..count): "--name value" for names in `options`, "--name" alone for names
// in `flags`, anything else not starting with "--" as positional. False with `problem` set
// for an unknown option, an option without its value, or one given twice.
bool parse_arguments(int count, char** values, const std::vector<std::string>& options,
                     const std::vector<std::string>& flags, Arguments& out, std::string& problem);

}  // namespace umka::tools
