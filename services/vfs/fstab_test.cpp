// The fstab line parser (services/vfs/fstab.h): what it takes, and every refusal's reason.
#include "fstab.h"

#include <gtest/gtest.h>

#include <string>

namespace umka::vfs {
namespace {

// What the parser said, copied out of the line while it still exists.
struct Parsed {
    FstabLine kind;
    std::string source, target, type;
    MissingDevice missing_device;
    std::string reason;
};

Parsed parse(const std::string& line) {
    Parsed parsed{};
    FstabEntry entry{};
    const char* reason = nullptr;
    parsed.kind = parse_fstab_line(line.data(), uint32_t(line.size()), &entry, &reason);
    if (parsed.kind == FstabLine::Entry) {
        parsed.source.assign(entry.source, entry.source_length);
        parsed.target.assign(entry.target, entry.target_length);
        parsed.type.assign(entry.type, entry.type_length);
        parsed.missing_device = entry.missing_device;
    }
    parsed.reason = reason == nullptr ? "" : reason;
    return parsed;
}

TEST(FstabLine, ThreeFieldsAreAnEntryThatReportsAMissingDevice) {
    Parsed parsed = parse("vda /mnt ext2");
    ASSERT_EQ(parsed.kind, FstabLine::Entry) << parsed.reason;
    EXPECT_EQ(parsed.source, "vda");
    EXPECT_EQ(parsed.target, "/mnt");
    EXPECT_EQ(parsed.type, "ext2");
    EXPECT_EQ(parsed.missing_device, MissingDevice::Report);
}

TEST(FstabLine, TabsRunsOfBlanksAndATrailingCommentAreSeparators) {
    Parsed parsed = parse("\t vdb\t\t/data   ext2  defaults,nofail # the second disk");
    ASSERT_EQ(parsed.kind, FstabLine::Entry) << parsed.reason;
    EXPECT_EQ(parsed.target, "/data");
    EXPECT_EQ(parsed.missing_device, MissingDevice::Skip);
}

TEST(FstabLine, EmptyBlankAndCommentLinesAreBlank) {
    EXPECT_EQ(parse("").kind, FstabLine::Blank);
    EXPECT_EQ(parse("   \t ").kind, FstabLine::Blank);
    EXPECT_EQ(parse("# vda /mnt ext2").kind, FstabLine::Blank);
    EXPECT_EQ(parse("   #").kind, FstabLine::Blank);
}

TEST(FstabLine, EveryRefusalSaysWhy) {
    EXPECT_EQ(parse("vda /mnt").reason, "expected SOURCE TARGET TYPE [OPTIONS]");
    EXPECT_EQ(parse("vda mnt ext2").reason, "TARGET is not an absolute path");
    EXPECT_EQ(parse("vda /mnt ext2 defaults 0 1").reason,
              "more than 4 fields (SOURCE TARGET TYPE [OPTIONS])");
    EXPECT_EQ(parse("vda /mnt ext2 ro").reason, "an option other than defaults or nofail");
    EXPECT_EQ(parse("vda /mnt ext2 nofail,").reason, "an empty option");
    EXPECT_EQ(parse("vda /mnt ext2 ,nofail").reason, "an option other than defaults or nofail");
    EXPECT_EQ(parse(std::string("vda /m\0t ext2", 13)).reason, "NUL byte in the line");
    EXPECT_EQ(parse("vda /" + std::string(300, 'm') + " ext2").reason,
              "line longer than 256 bytes");
    for (const char* line : {"vda /mnt", "vda /mnt ext2 ro"}) {
        EXPECT_EQ(parse(line).kind, FstabLine::Malformed) << line;
    }
}

}  // namespace
}  // namespace umka::vfs
