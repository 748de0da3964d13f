// Pre-built state (state_snapshot.h): a state built in Validate from a snapshot equals what
// an import inside the pause would build as long as the old bytes did not change; any
// changed byte (in any region, at any offset, the tail after the last whole word included)
// is seen, and importing again then gives the state of the final bytes.
#include "nucleus/evolution/state_snapshot.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace umka::evolution {
namespace {

// A migration that depends on every old byte: the new region holds a running sum.
int32_t summing_import(const UmkaStateImport* import) {
    const auto* in = static_cast<const uint8_t*>(import->old_base);
    auto* out = static_cast<uint8_t*>(import->new_base);
    uint8_t sum = 0;
    for (uint64_t index = 0; index < import->old_size; ++index) out[index] = sum += in[index];
    return 0;
}

struct alignas(16) Region {
    uint8_t bytes[77];  // not a whole number of words: the tail is compared too
};

class StateSnapshotTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (size_t index = 0; index < sizeof old_[0].bytes; ++index) {
            old_[0].bytes[index] = uint8_t(index * 7 + 1);
            old_[1].bytes[index] = uint8_t(index * 13 + 5);
        }
        live_[0] = StateSource{"first", 1, old_[0].bytes, sizeof old_[0].bytes};
        live_[1] = StateSource{"second", 1, old_[1].bytes, sizeof old_[1].bytes};
        targets_[0] = StateTarget{"first", 2, built_[0].bytes, sizeof built_[0].bytes};
        targets_[1] = StateTarget{"second", 2, built_[1].bytes, sizeof built_[1].bytes};
    }

    // Validate: snapshot, then build the targets from the copies.
    void prebuild() {
        void* const snapshots[2] = {copy_[0].bytes, copy_[1].bytes};
        take_snapshots(live_, 2, snapshots, copies_);
        ASSERT_TRUE(transfer_states(copies_, 2, targets_, 2, summing_import, TransferMode::Commit,
                                    SwapCause::Evolve, "m", diagnostic_)
                        .is_ok());
    }

    // What the old protocol built inside the pause: an import of the live bytes.
    std::vector<uint8_t> imported_now(size_t index) {
        Region fresh{};
        StateTarget target{targets_[index].name, 2, fresh.bytes, sizeof fresh.bytes};
        EXPECT_TRUE(transfer_states(&live_[index], 1, &target, 1, summing_import,
                                    TransferMode::Commit, SwapCause::Evolve, "m", diagnostic_)
                        .is_ok());
        return {fresh.bytes, fresh.bytes + sizeof fresh.bytes};
    }
    std::vector<uint8_t> built(size_t index) const {
        return {built_[index].bytes, built_[index].bytes + sizeof built_[index].bytes};
    }

    Region old_[2]{};
    Region copy_[2]{};
    Region built_[2]{};
    StateSource live_[2]{};
    StateSource copies_[2]{};
    StateTarget targets_[2]{};
    modules::Diagnostic diagnostic_;
};

TEST_F(StateSnapshotTest, AnUnchangedStateNeedsNoImportInThePause) {
    prebuild();
    EXPECT_STREQ(copies_[1].name, "second");
    EXPECT_EQ(copies_[1].base, copy_[1].bytes);
    EXPECT_TRUE(snapshots_current(live_, copies_, 2));
    EXPECT_EQ(built(0), imported_now(0));
    EXPECT_EQ(built(1), imported_now(1));
}

TEST_F(StateSnapshotTest, AnyChangedByteIsSeenAndImportingAgainGivesTheFinalState) {
    prebuild();
    for (size_t region = 0; region < 2; ++region) {
        for (size_t offset = 0; offset < sizeof old_[region].bytes; ++offset) {
            old_[region].bytes[offset] ^= 0x40;
            EXPECT_FALSE(snapshots_current(live_, copies_, 2))
                << "region " << region << " offset " << offset;
            old_[region].bytes[offset] ^= 0x40;
        }
    }
    old_[1].bytes[76] = 0;  // the last byte, past the last whole word
    ASSERT_FALSE(snapshots_current(live_, copies_, 2));
    EXPECT_NE(built(1), imported_now(1)) << "the pre-built state is stale";
    // The pause's path: import the live bytes again.
    ASSERT_TRUE(transfer_states(live_, 2, targets_, 2, summing_import, TransferMode::Commit,
                                SwapCause::Evolve, "m", diagnostic_)
                    .is_ok());
    EXPECT_EQ(built(1), imported_now(1));
}

TEST_F(StateSnapshotTest, ASizeOrVersionChangeIsAChange) {
    prebuild();
    StateSource shorter[2] = {live_[0], live_[1]};
    shorter[0].size -= 1;
    EXPECT_FALSE(snapshots_current(shorter, copies_, 2));
    StateSource newer[2] = {live_[0], live_[1]};
    newer[1].schema_version = 2;
    EXPECT_FALSE(snapshots_current(newer, copies_, 2));
}

TEST(SameBytes, ComparesEveryLengthAndOffset) {
    uint8_t left[70];
    uint8_t right[70];
    for (size_t index = 0; index < sizeof left; ++index)
        left[index] = right[index] = uint8_t(index);
    for (size_t length = 0; length <= sizeof left; ++length) {
        EXPECT_TRUE(same_bytes(left, right, length)) << length;
        for (size_t offset = 0; offset < length; ++offset) {
            right[offset] ^= 1;
            EXPECT_FALSE(same_bytes(left, right, length)) << length << " " << offset;
            // Past the length a difference does not count.
            EXPECT_TRUE(same_bytes(left, right, offset)) << length << " " << offset;
            right[offset] ^= 1;
        }
    }
    // Unaligned starts.
    EXPECT_TRUE(same_bytes(left + 3, right + 3, 60));
}

}  // namespace
}  // namespace umka::evolution
