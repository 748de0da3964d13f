#include "nucleus/bundle/bundle_inventory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/host/cpio_builder.h"

namespace umka::bundle {
namespace {

using testing::make_archive;

struct Read {
    std::vector<uint8_t> archive;
    std::vector<Entry> entries;
    std::vector<InventoryRequest> requests;
    Inventory inventory;

    explicit Read(std::vector<uint8_t> bytes, size_t entry_capacity = kMaximumBundleEntries,
                  size_t request_capacity = kMaximumModuleRequests)
        : archive(std::move(bytes)), entries(entry_capacity), requests(request_capacity) {
        inventory = build_inventory(
            archive.data(), archive.size(),
            InventoryStorage{entries.data(), entries.size(), requests.data(), requests.size()});
    }

    std::string file(uint32_t index) const {
        const TextSpan& name = inventory.requests[index].request.file;
        return std::string(name.text, name.length);
    }
    std::string data(const char* name) const {
        const Entry* entry = inventory.find(name);
        return entry == nullptr
                   ? "<none>"
                   : std::string(reinterpret_cast<const char*>(entry->data), entry->size);
    }
};

TEST(BundleInventoryTest, EntriesAndRequestsInOrder) {
    Read read(make_archive({{"manifest.txt", "module b.umod\nmodule a.umod tier=1\n"},
                            {"a.umod", "A"},
                            {"b.umod", "B"}}));
    const Inventory& inventory = read.inventory;
    EXPECT_EQ(inventory.problem, InventoryProblem::None);
    EXPECT_TRUE(inventory.usable());
    EXPECT_EQ(inventory.entry_count, 3u);
    ASSERT_EQ(inventory.request_count, 2u);
    EXPECT_EQ(read.file(0), "b.umod");
    EXPECT_EQ(read.file(1), "a.umod");
    EXPECT_EQ(inventory.requests[1].request.tier, 1);
    EXPECT_EQ(inventory.requests[0].entry, inventory.find("b.umod"));
    EXPECT_EQ(read.data("a.umod"), "A");
    EXPECT_EQ(inventory.find("c.umod"), nullptr);
    // Exact names only: no prefix, no longer name.
    EXPECT_EQ(inventory.find("a.umo"), nullptr);
    EXPECT_EQ(inventory.find("a.umod2"), nullptr);
}

TEST(BundleInventoryTest, MissingModuleIsRefusedByNameAndOthersStay) {
    Read read(
        make_archive({{"manifest.txt", "module gone.umod\nmodule a.umod\n"}, {"a.umod", "A"}}));
    const Inventory& inventory = read.inventory;
    EXPECT_TRUE(inventory.usable());
    ASSERT_EQ(inventory.request_count, 2u);
    EXPECT_EQ(inventory.requests[0].problem, RequestProblem::FileMissing);
    EXPECT_EQ(read.file(0), "gone.umod");
    EXPECT_EQ(inventory.requests[1].problem, RequestProblem::None);
    EXPECT_EQ(inventory.missing_count, 1u);
}

// Alternative module versions ride along for live evolution: not loaded, not a problem,
// reachable by name.
TEST(BundleInventoryTest, FilesTheManifestDoesNotNameAreCarriedNotLoaded) {
    Read read(make_archive({{"manifest.txt", "module a.umod\n"},
                            {"a.umod", "A"},
                            {"a-v2.umod", "A2"},
                            {"notes.bin", "\x7f"}}));
    EXPECT_EQ(read.inventory.problem, InventoryProblem::None);
    EXPECT_EQ(read.inventory.entry_count, 4u);
    EXPECT_EQ(read.inventory.request_count, 1u);
    EXPECT_EQ(read.data("a-v2.umod"), "A2");
}

// The documented policy: a bad line refuses only what it names; the others still load.
TEST(BundleInventoryTest, MalformedLineRefusesOnlyItselfAndSaysWhere) {
    Read read(make_archive(
        {{"manifest.txt", "module a.umod\nmodule b.umod tier=9 critical\nparam x\nmodule c.umod\n"},
         {"a.umod", "A"},
         {"b.umod", "B"},
         {"c.umod", "C"}}));
    const Inventory& inventory = read.inventory;
    EXPECT_TRUE(inventory.usable());
    ASSERT_EQ(inventory.request_count, 3u);
    EXPECT_EQ(inventory.requests[0].problem, RequestProblem::None);
    const InventoryRequest& bad = inventory.requests[1];
    EXPECT_EQ(bad.problem, RequestProblem::MalformedLine);
    EXPECT_EQ(read.file(1), "b.umod");
    EXPECT_EQ(bad.request.criticality, Criticality::Critical);  // seen after the bad option
    EXPECT_EQ(bad.error.line, 2u);
    EXPECT_EQ(bad.error.column, 15u);
    EXPECT_NE(std::string(bad.error.reason).find("tier must be"), std::string::npos);
    EXPECT_EQ(inventory.requests[2].problem, RequestProblem::None);
    EXPECT_EQ(read.file(2), "c.umod");
    ASSERT_EQ(inventory.manifest_error_count, 2u);
    EXPECT_EQ(inventory.manifest_errors[0].line, 2u);
    EXPECT_EQ(inventory.manifest_errors[1].line, 3u);  // the param line: reported, no request
}

TEST(BundleInventoryTest, ParametersAreKeptAndTheLastOfAKeyWins) {
    std::string manifest =
        "param containment.crashes=5\nmodule a.umod\nparam x.y=1\n"
        "param containment.crashes=7\n";
    for (size_t extra = 0; extra < kMaximumBootParameters; ++extra) {
        manifest += "param filler" + std::to_string(extra) + "=1\n";
    }
    Read read(make_archive({{"manifest.txt", manifest}, {"a.umod", "A"}}));
    const Inventory& inventory = read.inventory;
    ASSERT_EQ(inventory.parameter_count, kMaximumBootParameters);
    EXPECT_EQ(inventory.dropped_parameters, 3u);
    const TextSpan* crashes = inventory.parameter("containment.crashes");
    ASSERT_NE(crashes, nullptr);
    EXPECT_EQ(std::string(crashes->text, crashes->length), "7");
    EXPECT_NE(inventory.parameter("x.y"), nullptr);
    EXPECT_EQ(inventory.parameter("x"), nullptr);
    EXPECT_EQ(inventory.parameter("containment.crashes2"), nullptr);
    EXPECT_EQ(inventory.request_count, 1u);
}

TEST(BundleInventoryTest, ASecondManifestRefusesTheBundle) {
    Read read(make_archive({{"manifest.txt", "module a.umod\n"},
                            {"a.umod", "A"},
                            {"manifest.txt", "module evil.umod\n"}}));
    EXPECT_EQ(read.inventory.problem, InventoryProblem::DuplicateEntry);
    EXPECT_FALSE(read.inventory.usable());
    EXPECT_EQ(std::string(read.inventory.duplicate_name.text, read.inventory.duplicate_name.length),
              "manifest.txt");
    EXPECT_EQ(read.inventory.request_count, 0u);
}

TEST(BundleInventoryTest, DuplicateModuleNameRefusesTheBundle) {
    Read read(
        make_archive({{"manifest.txt", "module a.umod\n"}, {"a.umod", "A"}, {"a.umod", "B"}}));
    EXPECT_EQ(read.inventory.problem, InventoryProblem::DuplicateEntry);
}

TEST(BundleInventoryTest, LimitsAreRefusals) {
    Read entries(make_archive({{"manifest.txt", ""}, {"a", "A"}, {"b", "B"}}), 2);
    EXPECT_EQ(entries.inventory.problem, InventoryProblem::TooManyEntries);
    Read requests(make_archive({{"manifest.txt", "module a\nmodule a\nmodule a\n"}, {"a", "A"}}),
                  kMaximumBundleEntries, 2);
    EXPECT_EQ(requests.inventory.problem, InventoryProblem::TooManyRequests);
    EXPECT_EQ(requests.inventory.request_count, 2u);
}

TEST(BundleInventoryTest, MissingManifest) {
    Read read(make_archive({{"a.umod", "A"}}));
    EXPECT_EQ(read.inventory.problem, InventoryProblem::ManifestMissing);
}

TEST(BundleInventoryTest, ManyBadLinesAreCountedBeyondThoseKept) {
    std::string manifest;
    for (int line = 0; line < 12; ++line) manifest += "bogus\n";
    Read read(make_archive({{"manifest.txt", manifest}}));
    EXPECT_EQ(read.inventory.manifest_error_count, 12u);
    EXPECT_EQ(read.inventory.manifest_errors[kMaximumReportedManifestErrors - 1].line,
              uint32_t(kMaximumReportedManifestErrors));
}

TEST(BundleInventoryTest, CorruptArchiveIsReportedBeforeAnythingElse) {
    auto archive = make_archive({{"manifest.txt", "module a.umod\n"}});
    archive[0] = 'X';
    Read read(archive);
    EXPECT_EQ(read.inventory.problem, InventoryProblem::Archive);
    EXPECT_EQ(read.inventory.archive_error.offset, 0u);
    EXPECT_EQ(read.inventory.entry_count, 0u);
    EXPECT_EQ(read.inventory.request_count, 0u);
}

}  // namespace
}  // namespace umka::bundle
