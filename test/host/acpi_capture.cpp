#include "test/host/acpi_capture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace umka::testing {

AcpiCapture load_acpi_capture(const std::string& path) {
    AcpiCapture capture;
    std::ifstream file(path);
    EXPECT_TRUE(file.good()) << "cannot read " << path;
    std::string line;
    uint64_t address = 0;
    std::vector<uint8_t> bytes;
    auto flush = [&] {
        if (!bytes.empty()) capture.memory.place(address, bytes.data(), bytes.size());
        bytes.clear();
    };
    while (std::getline(file, line)) {
        std::istringstream words(line);
        std::string first;
        words >> first;
        if (first == "rsdp" || first == "table") {
            flush();
            std::string word, at;
            if (first == "table") words >> word;  // signature
            words >> at >> std::hex >> address;
            if (first == "rsdp") capture.rsdp = address;
        } else if (!first.empty()) {
            for (size_t index = 0; index + 1 < first.size(); index += 2) {
                bytes.push_back(uint8_t(std::stoul(first.substr(index, 2), nullptr, 16)));
            }
        }
    }
    flush();
    return capture;
}

}  // namespace umka::testing
