// Taking over state regions: identical versions are copied, a version change without an
// import function is refused, the module's import function sees the right arguments in
// both modes and its refusal stops the transfer, regions without a predecessor are left
// alone, and each target is zero-filled before its import.
#include "nucleus/evolution/state_transfer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace umka::evolution {
namespace {

struct alignas(16) Region {
    uint8_t bytes[64];
};

std::vector<UmkaStateImport> seen_imports;
int32_t import_answer = 0;

int32_t recording_import(const UmkaStateImport* import) {
    seen_imports.push_back(*import);
    if (import_answer != 0) return import_answer;
    // A migration: version 1's first byte doubled into version 2's second byte.
    auto* out = static_cast<uint8_t*>(import->new_base);
    out[1] = uint8_t(static_cast<const uint8_t*>(import->old_base)[0] * 2);
    return 0;
}

class StateTransferTest : public ::testing::Test {
protected:
    void SetUp() override {
        seen_imports.clear();
        import_answer = 0;
        std::memset(&old_, 0x11, sizeof old_);
        std::memset(&new_, 0xee, sizeof new_);  // what an entry point might have left
    }
    Region old_{};
    Region new_{};
    Region other_{};
    modules::Diagnostic diagnostic_;
};

TEST_F(StateTransferTest, TheSameVersionWithoutAnImportFunctionIsCopied) {
    StateSource source{"HeapState", 1, &old_, 48};
    StateTarget target{"HeapState", 1, &new_, sizeof new_};
    Result<size_t> carried = transfer_states(&source, 1, &target, 1, nullptr, TransferMode::Commit,
                                             SwapCause::Evolve, "kernel_heap", diagnostic_);
    ASSERT_TRUE(carried.is_ok()) << diagnostic_.text();
    EXPECT_EQ(carried.value(), 1u);
    EXPECT_EQ(std::memcmp(new_.bytes, old_.bytes, 48), 0);
    EXPECT_EQ(new_.bytes[48], 0) << "beyond the old size the region is zero-filled";
}

TEST_F(StateTransferTest, AVersionChangeWithoutAnImportFunctionIsRefused) {
    StateSource source{"HeapState", 1, &old_, 48};
    StateTarget target{"HeapState", 2, &new_, sizeof new_};
    Result<size_t> carried = transfer_states(&source, 1, &target, 1, nullptr, TransferMode::DryRun,
                                             SwapCause::Evolve, "kernel_heap", diagnostic_);
    ASSERT_TRUE(carried.is_error());
    EXPECT_EQ(carried.error(), Errno::InvalidArgument);
    EXPECT_NE(std::string(diagnostic_.text()).find("version 1 -> 2 needs an import function"),
              std::string::npos)
        << diagnostic_.text();
    EXPECT_EQ(new_.bytes[0], 0xee) << "a refused region is not touched";
}

TEST_F(StateTransferTest, TheImportFunctionGetsBothRegionsAndTheMode) {
    StateSource source{"SchedulerGlobals", 1, &old_, 32};
    StateTarget targets[2] = {{"Fresh", 1, &other_, sizeof other_},
                              {"SchedulerGlobals", 2, &new_, sizeof new_}};
    for (TransferMode mode : {TransferMode::DryRun, TransferMode::Prebuild, TransferMode::Commit}) {
        seen_imports.clear();
        Result<size_t> carried = transfer_states(&source, 1, targets, 2, recording_import, mode,
                                                 SwapCause::Evolve, "scheduler", diagnostic_);
        ASSERT_TRUE(carried.is_ok()) << diagnostic_.text();
        EXPECT_EQ(carried.value(), 1u);
        ASSERT_EQ(seen_imports.size(), 1u);
        const UmkaStateImport& import = seen_imports[0];
        EXPECT_EQ(import.state_index, 1u);
        EXPECT_EQ(import.old_schema_version, 1u);
        EXPECT_EQ(import.old_base, &old_);
        EXPECT_EQ(import.old_size, 32u);
        EXPECT_EQ(import.new_base, &new_);
        EXPECT_EQ(import.mode, mode == TransferMode::DryRun ? UMKA_STATE_IMPORT_DRY_RUN
                                                            : UMKA_STATE_IMPORT_COMMIT);
        EXPECT_EQ(import.cause, UMKA_STATE_IMPORT_CAUSE_EVOLVE);
        EXPECT_EQ(new_.bytes[0], 0) << "zero-filled before the import";
        EXPECT_EQ(new_.bytes[1], 0x22);
    }
    EXPECT_EQ(other_.bytes[0], 0) << "a region without a predecessor is left alone";
}

// A restart after a crash tells the import, which may then take over what the crashed
// instance held (a device, its handles) where a live swap would be refused.
TEST_F(StateTransferTest, ARestartAfterACrashTellsTheImport) {
    StateSource source{"VirtioBlkState", 3, &old_, 32};
    StateTarget target{"VirtioBlkState", 3, &new_, sizeof new_};
    seen_imports.clear();
    Result<size_t> carried =
        transfer_states(&source, 1, &target, 1, recording_import, TransferMode::Commit,
                        SwapCause::CrashRestart, "virtio_blk", diagnostic_);
    ASSERT_TRUE(carried.is_ok()) << diagnostic_.text();
    ASSERT_EQ(seen_imports.size(), 1u);
    EXPECT_EQ(seen_imports[0].cause, UMKA_STATE_IMPORT_CAUSE_CRASH);
}

TEST_F(StateTransferTest, AnImportRefusalStopsWithTheModulesErrno) {
    import_answer = int32_t(Errno::BadMessage);
    StateSource source{"SerialState", 1, &old_, 16};
    StateTarget target{"SerialState", 1, &new_, sizeof new_};
    Result<size_t> carried =
        transfer_states(&source, 1, &target, 1, recording_import, TransferMode::DryRun,
                        SwapCause::Evolve, "serial_console", diagnostic_);
    ASSERT_TRUE(carried.is_error());
    EXPECT_EQ(carried.error(), Errno::BadMessage);
    EXPECT_NE(std::string(diagnostic_.text()).find("'serial_console' refused state 'SerialState'"),
              std::string::npos)
        << diagnostic_.text();
    // Before the pause the refusal names that phase (the module still saw a commit).
    Result<size_t> prebuilt =
        transfer_states(&source, 1, &target, 1, recording_import, TransferMode::Prebuild,
                        SwapCause::Evolve, "serial_console", diagnostic_);
    ASSERT_TRUE(prebuilt.is_error());
    EXPECT_NE(std::string(diagnostic_.text()).find("in the build before the pause: EBADMSG"),
              std::string::npos)
        << diagnostic_.text();
    EXPECT_EQ(seen_imports.back().mode, UMKA_STATE_IMPORT_COMMIT);
}

TEST_F(StateTransferTest, ATooSmallTargetForACopyIsRefused) {
    StateSource source{"HeapState", 1, &old_, 64};
    StateTarget target{"HeapState", 1, &new_, 32};
    Result<size_t> carried = transfer_states(&source, 1, &target, 1, nullptr, TransferMode::DryRun,
                                             SwapCause::Evolve, "kernel_heap", diagnostic_);
    EXPECT_EQ(carried.error(), Errno::InvalidArgument);
}

}  // namespace
}  // namespace umka::evolution
