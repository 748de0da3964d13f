#include "nucleus/bundle/cpio_archive.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace umka::bundle {
namespace {

// Builds a newc archive the way cpio -H newc does.
std::vector<uint8_t> make_archive(const std::vector<std::pair<std::string, std::string>>& files,
                                  bool with_trailer = true) {
    std::vector<uint8_t> archive;
    auto append_entry = [&](const std::string& name, const std::string& data, uint32_t mode) {
        char header[111];
        std::snprintf(header, sizeof header,
                      "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode, 0u,
                      0u, 1u, 0u, unsigned(data.size()), 0u, 0u, 0u, 0u, unsigned(name.size() + 1),
                      0u);
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

struct Collected {
    std::vector<std::string> names;
    std::vector<std::string> contents;
};

void collect(void* context, const Entry& entry) {
    auto* collected = static_cast<Collected*>(context);
    collected->names.emplace_back(entry.name, entry.name_length);
    collected->contents.emplace_back(reinterpret_cast<const char*>(entry.data), entry.size);
}

TEST(CpioArchiveTest, ListsEveryEntryWithItsData) {
    auto archive = make_archive({{"manifest.txt", "load serial\n"}, {"modules/a.ko", "12345"}});
    Collected collected;
    ArchiveError error{};
    ASSERT_TRUE(for_each_entry(archive.data(), archive.size(), collect, &collected, error).is_ok());
    ASSERT_EQ(collected.names.size(), 2u);
    EXPECT_EQ(collected.names[1], "modules/a.ko");
    EXPECT_EQ(collected.contents[0], "load serial\n");
    EXPECT_EQ(collected.contents[1], "12345");
}

TEST(CpioArchiveTest, AnEmptyArchiveWithOnlyATrailerIsValid) {
    auto archive = make_archive({});
    ArchiveError error{};
    Collected collected;
    EXPECT_TRUE(for_each_entry(archive.data(), archive.size(), collect, &collected, error).is_ok());
    EXPECT_TRUE(collected.names.empty());
}

TEST(CpioArchiveTest, BadMagicNamesTheOffset) {
    auto archive = make_archive({{"a", "x"}});
    archive[3] = '9';
    ArchiveError error{};
    EXPECT_EQ(for_each_entry(archive.data(), archive.size(), nullptr, nullptr, error).error(),
              Errno::BadMessage);
    EXPECT_EQ(error.offset, 0u);
    EXPECT_NE(std::string(error.reason).find("magic"), std::string::npos);
}

TEST(CpioArchiveTest, TruncationIsDetected) {
    auto archive = make_archive({{"a", std::string(100, 'x')}});
    ArchiveError error{};
    EXPECT_EQ(for_each_entry(archive.data(), 150, nullptr, nullptr, error).error(),
              Errno::BadMessage);
    EXPECT_NE(std::string(error.reason).find("past the end"), std::string::npos);
}

TEST(CpioArchiveTest, MissingTrailerIsDetected) {
    auto archive = make_archive({{"a", "x"}}, false);
    ArchiveError error{};
    EXPECT_EQ(for_each_entry(archive.data(), archive.size(), nullptr, nullptr, error).error(),
              Errno::BadMessage);
    EXPECT_NE(std::string(error.reason).find("TRAILER"), std::string::npos);
}

TEST(CpioArchiveTest, NonHexHeaderDigitsAreRejected) {
    auto archive = make_archive({{"a", "x"}});
    archive[6 + 8 * 6] = 'G';  // inside the file size field
    ArchiveError error{};
    EXPECT_EQ(for_each_entry(archive.data(), archive.size(), nullptr, nullptr, error).error(),
              Errno::BadMessage);
    EXPECT_EQ(error.offset, 6u + 8u * 6u);
}

TEST(CpioArchiveTest, EmptyInputIsEnoent) {
    ArchiveError error{};
    EXPECT_EQ(for_each_entry(nullptr, 0, nullptr, nullptr, error).error(), Errno::NotFound);
}

}  // namespace
}  // namespace umka::bundle
