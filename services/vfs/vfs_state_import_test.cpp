// The VFS's state import (vfs_state_import.cpp) across the descriptor-table change: a
// VfsState from before version 4 (one table) becomes table 0 with every descriptor number
// kept; a newer one (vfs_service-v2.umod's) is taken by its prefix; bytes of the wrong size
// are refused.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "vfs_versions.h"

namespace {

namespace schema = umka::kabi::vfs_service;

int32_t run_import(const void* old_state, uint64_t old_size, uint32_t old_version,
                   schema::VfsState* state) {
    UmkaStateImport import{};
    import.state_index = 0;
    import.old_schema_version = old_version;
    import.old_base = old_state;
    import.old_size = old_size;
    import.new_base = state;
    import.new_size = sizeof *state;
    import.mode = UMKA_STATE_IMPORT_COMMIT;
    return umka::vfs::import_vfs_state(&import);
}

TEST(VfsStateImport, OneTableBecomesTheConsolesWithItsNumbers) {
    auto old_state = std::make_unique<schema::VfsStateV3>();
    std::memset(old_state.get(), 0, sizeof *old_state);
    for (uint32_t number : {0u, 5u, 63u}) {
        old_state->descriptors[number].in_use = 1;
        old_state->descriptors[number].inode = 100 + number;
        old_state->descriptors[number].offset = 7 * number;
    }
    old_state->lock = 1;  // a snapshot taken with a call inside
    old_state->calls_served = 42;
    auto state = std::make_unique<schema::VfsState>();
    ASSERT_EQ(run_import(old_state.get(), sizeof *old_state, 3, state.get()), UMKA_KABI_OK);
    EXPECT_EQ(state->lock, 0u);
    EXPECT_EQ(state->calls_served, 42u);
    EXPECT_EQ(state->tables[0].in_use, 1u);
    EXPECT_EQ(state->tables[0].generation, 0u);
    EXPECT_EQ(state->tables[0].directory_inode, 0u) << "the root";
    for (uint32_t number = 0; number < 64; ++number) {
        bool open = number == 0 || number == 5 || number == 63;
        EXPECT_EQ(state->tables[0].descriptions[number], open ? number + 1 : 0u) << number;
        EXPECT_EQ(state->descriptors[number].in_use, open ? 1u : 0u) << number;
        if (open) EXPECT_EQ(state->descriptors[number].offset, 7u * number);
    }
    for (uint32_t table = 1; table < 16; ++table) EXPECT_EQ(state->tables[table].in_use, 0u);
}

TEST(VfsStateImport, VersionOneAndTwoGoThroughTheSameStep) {
    auto old_state = std::make_unique<schema::VfsStateV1>();
    std::memset(old_state.get(), 0, sizeof *old_state);
    old_state->descriptors[2].in_use = 1;
    auto state = std::make_unique<schema::VfsState>();
    ASSERT_EQ(run_import(old_state.get(), sizeof *old_state, 1, state.get()), UMKA_KABI_OK);
    EXPECT_EQ(state->tables[0].descriptions[2], 3u);
    EXPECT_EQ(state->tables[0].descriptions[1], 0u);
}

TEST(VfsStateImport, ANewerStateKeepsItsTablesByPrefix) {
    // vfs_service-v2.umod's VfsState version 5: this version's fields, then files_opened.
    std::vector<uint8_t> newer(sizeof(schema::VfsState) + 8, 0);
    auto* prefix = reinterpret_cast<schema::VfsState*>(newer.data());
    prefix->tables[3].in_use = 1;
    prefix->tables[3].generation = 9;
    prefix->tables[3].descriptions[0] = 4;
    prefix->descriptors[3].in_use = 2;
    auto state = std::make_unique<schema::VfsState>();
    ASSERT_EQ(run_import(newer.data(), newer.size(), 5, state.get()), UMKA_KABI_OK);
    EXPECT_EQ(state->tables[3].generation, 9u);
    EXPECT_EQ(state->tables[3].descriptions[0], 4u);
    EXPECT_EQ(state->descriptors[3].in_use, 2u);
}

TEST(VfsStateImport, WrongSizesAreRefused) {
    std::vector<uint8_t> bytes(sizeof(schema::VfsStateV3) - 8, 0);
    auto state = std::make_unique<schema::VfsState>();
    EXPECT_EQ(run_import(bytes.data(), bytes.size(), 3, state.get()), UMKA_KABI_EINVAL);
    EXPECT_EQ(run_import(bytes.data(), bytes.size(), 0, state.get()), UMKA_KABI_EINVAL);
}

}  // namespace
