// Builds cpio "newc" archives in memory the way `cpio -H newc` does, for bundle tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace umka::testing {

inline std::vector<uint8_t> make_archive(
    const std::vector<std::pair<std::string, std::string>>& files, bool with_trailer = true) {
    std::vector<uint8_t> archive;
    auto append_entry = [&](const std::string& name, const std::string& data, uint32_t mode) {
        char header[111];
        std::snprintf(header, sizeof header,
                      "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode, 0u,
                      0u, 1u, 0u, unsigned(data.size()), 0u, 0u, 0u, 0u,
                      unsigned(name.size() + 1), 0u);
        archive.insert(archive.end(), header, header + 110);
        archive.insert(archive.end(), name.begin(), name.end());
        archive.push_back(0);
        while (archive.size() % 4) archive.push_back(0);
        archive.insert(archive.end(), data.begin(), data.end());
        while (archive.size() % 4) archive.push_back(0);
    };
    for (auto& [name, data] : files) append_entry(name, data, 0100644);
    if (with_trailer) append_entry("TRAILER!!!", "", 0);
    return archive;
}

}  // namespace umka::testing
