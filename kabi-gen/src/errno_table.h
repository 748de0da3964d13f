// Linux errno names and values: the only error vocabulary a KABI method may use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kabi {

struct ErrnoEntry {
    std::string_view name;
    int32_t value;
};

const std::vector<ErrnoEntry>& errno_table();
std::optional<int32_t> errno_value(std::string_view name);
std::vector<std::string> errno_names();

}  // namespace kabi
