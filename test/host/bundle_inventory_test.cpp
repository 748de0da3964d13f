#include "nucleus/bundle/bundle_inventory.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/host/cpio_builder.h"

namespace umka::bundle {
namespace {

using testing::make_archive;

std::vector<std::string> requested_files(const std::vector<uint8_t>& archive, Inventory& inventory) {
    std::vector<std::string> files;
    ManifestVisitor visitor;
    visitor.context = &files;
    visitor.module = [](void* context, const ModuleRequest& request) {
        static_cast<std::vector<std::string>*>(context)->emplace_back(request.file.text,
                                                                      request.file.length);
    };
    inventory = inspect_bundle(archive.data(), archive.size(), visitor);
    return files;
}

TEST(BundleInventoryTest, ManifestModulesThatExistAreVisitedInOrder) {
    auto archive = make_archive({{"manifest.txt", "module b.umod\nmodule a.umod tier=1\n"},
                                 {"a.umod", "A"},
                                 {"b.umod", "B"}});
    Inventory inventory;
    auto files = requested_files(archive, inventory);
    EXPECT_EQ(inventory.problem, InventoryProblem::None);
    EXPECT_EQ(inventory.entries, 3u);
    EXPECT_EQ(inventory.modules_requested, 2u);
    EXPECT_EQ(files, (std::vector<std::string>{"b.umod", "a.umod"}));
    Entry entry{};
    ASSERT_TRUE(find_entry(archive.data(), archive.size(), "a.umod", entry));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(entry.data), entry.size), "A");
    EXPECT_FALSE(find_entry(archive.data(), archive.size(), "c.umod", entry));
}

TEST(BundleInventoryTest, MissingModuleIsNamedAndOthersStillLoad) {
    auto archive = make_archive({{"manifest.txt", "module gone.umod\nmodule a.umod\n"}, {"a.umod", "A"}});
    Inventory inventory;
    auto files = requested_files(archive, inventory);
    EXPECT_EQ(inventory.problem, InventoryProblem::ModuleMissing);
    EXPECT_EQ(std::string(inventory.missing_module.text, inventory.missing_module.length), "gone.umod");
    EXPECT_EQ(files, (std::vector<std::string>{"a.umod"}));
}

// A bundle carries alternative module versions for live evolution (scheduler-v2.umod next
// to scheduler.umod): files no manifest line names are neither loaded nor a problem, and
// stay reachable by name for `evolve`.
TEST(BundleInventoryTest, FilesTheManifestDoesNotNameAreCarriedNotLoaded) {
    auto archive = make_archive({{"manifest.txt", "module a.umod\n"},
                                 {"a.umod", "A"},
                                 {"a-v2.umod", "A2"},
                                 {"notes.bin", "\x7f"}});
    Inventory inventory;
    auto files = requested_files(archive, inventory);
    EXPECT_EQ(inventory.problem, InventoryProblem::None);
    EXPECT_EQ(inventory.entries, 4u);
    EXPECT_EQ(inventory.modules_requested, 1u);
    EXPECT_EQ(files, (std::vector<std::string>{"a.umod"}));
    Entry entry{};
    ASSERT_TRUE(find_entry(archive.data(), archive.size(), "a-v2.umod", entry));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(entry.data), entry.size), "A2");
}

TEST(BundleInventoryTest, MissingAndMalformedManifests) {
    Inventory inventory;
    requested_files(make_archive({{"a.umod", "A"}}), inventory);
    EXPECT_EQ(inventory.problem, InventoryProblem::ManifestMissing);

    requested_files(make_archive({{"manifest.txt", "module a.umod tier=9\n"}, {"a.umod", "A"}}), inventory);
    EXPECT_EQ(inventory.problem, InventoryProblem::Manifest);
    EXPECT_EQ(inventory.manifest_error.line, 1u);
    EXPECT_EQ(inventory.manifest_error.column, 15u);
}

TEST(BundleInventoryTest, CorruptArchiveIsReportedBeforeAnythingElse) {
    auto archive = make_archive({{"manifest.txt", "module a.umod\n"}});
    archive[0] = 'X';
    Inventory inventory;
    auto files = requested_files(archive, inventory);
    EXPECT_EQ(inventory.problem, InventoryProblem::Archive);
    EXPECT_EQ(inventory.archive_error.offset, 0u);
    EXPECT_TRUE(files.empty());
}

}  // namespace
}  // namespace umka::bundle
