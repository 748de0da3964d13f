#include "nucleus/bundle/cpio_archive.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/host/cpio_builder.h"

namespace umka::bundle {
namespace {

using testing::make_archive;

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
