// console_service.umod (ConsoleState version 1) and console_service-v2.umod (version 2)
// swapped both ways as the nucleus's evolve does it (ModuleHarness::evolve): the
// replacement is bound withheld on a fresh state region, its import function takes the
// predecessor's ConsoleState (dry run, then commit), the slots switch, the predecessor is
// unloaded. The line being typed, the editor's state and the counters survive each swap;
// version 2's new counter starts at 0 and counts refused lines.
#include "console_test_fixture.h"

namespace {

using namespace umka::console_test;
namespace schema = umka::kabi::console_service;

static_assert(schema::console_state_version == 2, "compiled against version 2's headers");

class ConsoleVersions : public ConsoleService {
protected:
    void SetUp() override {
        ASSERT_NO_FATAL_FAILURE(provide_fakes());
        ASSERT_NO_FATAL_FAILURE(load_file(UMKA_CONSOLE_V1_MODULE));
    }
    // `evolve console_service <path>`; the import's errno when refused, else 0.
    int32_t evolve(const char* path) {
        HostModule* replacement = harness_.evolve(module_, path);
        if (replacement == nullptr) return static_cast<int32_t>(harness_.last_error());
        module_ = replacement;
        EXPECT_TRUE(harness_.bind_provided(*module_, "console", "Console", &console_).is_ok());
        return 0;
    }
    template <typename State>
    State& state_as() {
        return *static_cast<State*>(module_->states[0].base);
    }
};

TEST_F(ConsoleVersions, VersionsShareTheNameAndDifferInVersion) {
    EXPECT_STREQ(module_->manifest().name(), "console_service");
    EXPECT_EQ(module_->manifest().module_version(), 1u);
    EXPECT_EQ(module_->manifest().state(0).size, sizeof(schema::ConsoleStateV1));
    ASSERT_EQ(evolve(umka::harness::module_under_test()), 0) << harness_.last_reason();
    EXPECT_EQ(module_->manifest().module_version(), 2u);
    EXPECT_EQ(module_->manifest().state(0).size, sizeof(schema::ConsoleStateV2));
}

TEST_F(ConsoleVersions, TheLineBeingTypedAndTheCountersCrossBothWays) {
    shell_.answers["part"] = {UMKA_KABI_OK, "done\n"};
    // One command run, then an escape sequence left open and half a line typed.
    EXPECT_EQ(run("part\rpa\x1b["), UMKA_KABI_EIO);
    ASSERT_EQ(evolve(umka::harness::module_under_test()), 0) << harness_.last_reason();
    auto& v2 = state_as<schema::ConsoleStateV2>();
    EXPECT_EQ(std::string(reinterpret_cast<char*>(v2.line), v2.line_length), "pa");
    EXPECT_EQ(v2.lines_executed, 1u);
    EXPECT_EQ(v2.lines_refused, 0u);

    device_.output.clear();
    // 'A' ends the carried CSI (swallowed), "rt" completes the line, then an over-long one.
    EXPECT_EQ(run("Art\r" + std::string(300, 'x') + "\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output.rfind("umka> part\r\ndone\r\numka> ", 0), 0u) << device_.output;
    EXPECT_EQ(state_as<schema::ConsoleStateV2>().lines_refused, 1u);
    EXPECT_EQ(state_as<schema::ConsoleStateV2>().lines_executed, 2u);

    EXPECT_EQ(run("pa"), UMKA_KABI_EIO);
    ASSERT_EQ(evolve(UMKA_CONSOLE_V1_MODULE), 0) << harness_.last_reason();
    EXPECT_EQ(module_->manifest().module_version(), 1u);
    auto& v1 = state_as<schema::ConsoleStateV1>();
    EXPECT_EQ(std::string(reinterpret_cast<char*>(v1.line), v1.line_length), "pa");
    EXPECT_EQ(v1.lines_executed, 2u);
    EXPECT_EQ(run("rt\r"), UMKA_KABI_EIO);
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"part", "part", "part"}));
}

}  // namespace
