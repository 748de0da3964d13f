// Splits one libFuzzer input into several virtual .kabi files, so the fuzzers reach imports
// and --compat, which need more than one file. Files are separated by a line "%%"; each is
// named after its package line (so imports find it), or fileN when it has none.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "workspace.h"

namespace kabi::fuzz {

inline constexpr std::string_view kFileSeparator = "\n%%\n";
// More files add no new paths through the workspace, only time per input.
inline constexpr size_t kMaximumFuzzFiles = 16;

struct VirtualFile {
    std::string path;
    std::string_view text;
};

inline std::string package_of(std::string_view text, size_t index) {
    // The package line starts a line; doc comments before it may mention "package".
    size_t at = text.rfind("package", 0) == 0 ? 0 : text.find("\npackage");
    if (at != std::string_view::npos) {
        if (text[at] == '\n') ++at;
        size_t start = at + 7;
        while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start])))
            ++start;
        size_t end = start;
        while (end < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
            ++end;
        }
        if (end > start) return std::string(text.substr(start, end - start));
    }
    return "file" + std::to_string(index);
}

// The files of `data`, in order, under `directory` (a path that does not exist on disk, so
// import search sees only these files).
inline std::vector<VirtualFile> split_files(const uint8_t* data, size_t size,
                                            const std::string& directory) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::vector<VirtualFile> files;
    while (files.size() < kMaximumFuzzFiles) {
        size_t end = rest.find(kFileSeparator);
        std::string_view text = rest.substr(0, end);
        files.push_back({directory + "/" + package_of(text, files.size()) + ".kabi", text});
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + kFileSeparator.size());
    }
    return files;
}

}  // namespace kabi::fuzz
