#include "initramfs/tools/command_line.h"

#include <algorithm>

namespace umka::tools {

bool parse_arguments(int count, char** values, const std::vector<std::string>& options,
                     const std::vector<std::string>& flags, Arguments& out, std::string& problem) {
    for (int index = 2; index < count; ++index) {
        std::string argument = values[index];
        if (argument.rfind("--", 0) != 0) {
            out.positional.push_back(argument);
            continue;
        }
        if (out.options.count(argument)) {
            problem = "option " + argument + " given twice";
            return false;
        }
        if (std::find(flags.begin(), flags.end(), argument) != flags.end()) {
            out.options[argument] = "";
            continue;
        }
        if (std::find(options.begin(), options.end(), argument) == options.end()) {
            problem = "unknown option " + argument;
            return false;
        }
        if (index + 1 >= count) {
            problem = "option " + argument + " needs a value";
            return false;
        }
        out.options[argument] = values[++index];
    }
    return true;
}

}  // namespace umka::tools
