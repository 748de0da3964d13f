// The evolution state machine against a scripted environment: the phase order, every
// abort path (prepare, validate, swap refuse -> the replacement is abandoned, the old
// module's state is untouched, the log records a refusal), the dry run, parking, the
// busy flag and bad requests.
#include "nucleus/evolution/evolution_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace umka::evolution {
namespace {

struct ScriptedEnvironment final : Environment {
    // Which call fails (if any) and what resume answers.
    std::string fail_at;
    OldImage resume_answer = OldImage::Unloaded;
    size_t parked = 0;
    // What happened, in order.
    std::vector<std::string> calls;
    uint64_t clock = 1000;
    uint8_t old_hash[kHashSize] = {1};
    uint8_t new_hash[kHashSize] = {2};
    PauseWork pause_work = PauseWork::CommitOnly;  // what the pause reports it did
    bool swapped = false;                          // the "system": which module serves
    bool new_bound = false;
    uint64_t start_crash = 0;  // what start_replacement reports as its crash

    uint64_t read_cycles() override { return clock += 10; }
    uint64_t time_microseconds() override { return 42; }
    Status step(const char* name, modules::Diagnostic& diagnostic) {
        calls.push_back(name);
        if (fail_at == name)
            return modules::refuse(diagnostic, Errno::InvalidArgument, "%s failed", name);
        return Status::ok();
    }
    Status prepare(const EvolveRequest&, modules::Diagnostic& diagnostic) override {
        Status status = step("prepare", diagnostic);
        new_bound = status.is_ok();
        return status;
    }
    Status validate(modules::Diagnostic& diagnostic) override {
        return step("validate", diagnostic);
    }
    Status swap(SwapTiming& timing, modules::Diagnostic& diagnostic) override {
        timing = SwapTiming{5, 7, 3, pause_work};
        Status status = step("swap", diagnostic);
        swapped = status.is_ok();
        return status;
    }
    OldImage resume() override {
        calls.push_back("resume");
        if (resume_answer == OldImage::Parked) ++parked;
        return resume_answer;
    }
    Status start_replacement(modules::Diagnostic& diagnostic, uint64_t& crash) override {
        crash = start_crash;
        return step("start", diagnostic);
    }
    void abandon() override {
        calls.push_back("abandon");
        new_bound = false;
    }
    ModuleFacts facts() override { return ModuleFacts{old_version, 2, old_hash, new_hash, 1}; }
    size_t collect_parked() override { return parked; }
    uint32_t old_version = 1;  // the running module's version (above 2: the file is a downgrade)
};

class EvolutionEngineTest : public ::testing::Test {
protected:
    EvolveReport run(EvolveMode mode = EvolveMode::Swap) {
        return engine_.evolve(EvolveRequest{"scheduler", "scheduler-v2.umod", mode});
    }
    std::vector<std::string> calls() const { return environment_.calls; }

    ScriptedEnvironment environment_;
    LogEntry storage_[8]{};
    EvolutionLog log_{storage_, 8};
    EvolutionEngine engine_{environment_, log_};
};

TEST_F(EvolutionEngineTest, ASwapRunsTheFourPhasesInOrderAndIsLogged) {
    EvolveReport report = run();
    ASSERT_TRUE(report.status.is_ok()) << report.reason.text();
    EXPECT_EQ(calls(),
              (std::vector<std::string>{"prepare", "validate", "swap", "resume", "start"}));
    EXPECT_EQ(report.phase, Phase::Resume);
    EXPECT_TRUE(report.start_status.is_ok());
    EXPECT_EQ(report.old_image, OldImage::Unloaded);
    EXPECT_EQ(report.outcome, LogOutcome::Swapped);
    EXPECT_EQ(report.cycles.gather, 5u);
    EXPECT_EQ(report.cycles.pause, 7u);
    EXPECT_EQ(report.cycles.state_transfer, 3u);
    EXPECT_EQ(report.pause_work, PauseWork::CommitOnly);
    EXPECT_GT(report.cycles.total, report.cycles.prepare);
    EXPECT_TRUE(environment_.swapped);
    ASSERT_EQ(log_.count(), 1u);
    EXPECT_EQ(log_.entry(0).outcome, LogOutcome::Swapped);
    EXPECT_EQ(log_.entry(0).sequence, report.log_sequence);
    EXPECT_STREQ(log_.entry(0).service, "scheduler");
    EXPECT_STREQ(log_.entry(0).new_module, "scheduler-v2.umod");
    EXPECT_EQ(log_.entry(0).old_image_hash[0], 1);
    EXPECT_EQ(log_.entry(0).new_image_hash[0], 2);
    EXPECT_TRUE(log_.verify().valid);
}

struct AbortCase {
    const char* failing;
    Phase phase;
    std::vector<std::string> calls;
};

class EvolutionAbort : public EvolutionEngineTest,
                       public ::testing::WithParamInterface<AbortCase> {};

TEST_P(EvolutionAbort, AFailureBeforeTheSwapAbandonsTheReplacementAndKeepsTheOldModule) {
    environment_.fail_at = GetParam().failing;
    EvolveReport report = run();
    EXPECT_EQ(report.status.error(), Errno::InvalidArgument);
    EXPECT_EQ(report.phase, GetParam().phase);
    EXPECT_EQ(calls(), GetParam().calls);
    EXPECT_EQ(report.old_image, OldImage::Kept);
    EXPECT_EQ(report.outcome, LogOutcome::Refused);
    EXPECT_FALSE(environment_.swapped) << "the old module must still serve";
    EXPECT_FALSE(environment_.new_bound) << "the replacement must be abandoned";
    EXPECT_EQ(std::string(report.reason.text()), std::string(GetParam().failing) + " failed");
    ASSERT_EQ(log_.count(), 1u);
    EXPECT_EQ(log_.entry(0).outcome, LogOutcome::Refused);
}

INSTANTIATE_TEST_SUITE_P(
    EveryPhase, EvolutionAbort,
    ::testing::Values(AbortCase{"prepare", Phase::Prepare, {"prepare", "abandon"}},
                      AbortCase{"validate", Phase::Validate, {"prepare", "validate", "abandon"}},
                      AbortCase{"swap", Phase::Swap, {"prepare", "validate", "swap", "abandon"}}),
    [](const auto& info) { return std::string(info.param.failing); });

TEST_F(EvolutionEngineTest, ADowngradeIsRefusedInPrepareUnlessAllowedAndThenLogged) {
    environment_.old_version = 3;  // the file is module version 2
    EvolveReport refused = run();
    EXPECT_EQ(refused.status.error(), Errno::NotPermitted);
    EXPECT_EQ(refused.phase, Phase::Prepare);
    EXPECT_THAT(refused.reason.text(), ::testing::HasSubstr("module version 2 is below the running "
                                                            "version 3: a downgrade needs "
                                                            "--allow-downgrade"));
    EXPECT_EQ(calls(), (std::vector<std::string>{"prepare", "abandon"}));
    EXPECT_FALSE(environment_.swapped);
    ASSERT_EQ(log_.count(), 1u);
    EXPECT_EQ(log_.entry(0).outcome, LogOutcome::Refused);
    EXPECT_EQ(log_.entry(0).downgrade, Downgrade::No);

    EvolveReport allowed = engine_.evolve(
        EvolveRequest{"scheduler", "scheduler-v2.umod", EvolveMode::Swap, DowngradePolicy::Allow});
    ASSERT_TRUE(allowed.status.is_ok()) << allowed.reason.text();
    EXPECT_TRUE(environment_.swapped);
    ASSERT_EQ(log_.count(), 2u);
    EXPECT_EQ(log_.entry(1).downgrade, Downgrade::Allowed);
    EXPECT_TRUE(log_.verify().valid);
}

TEST_F(EvolutionEngineTest, AnUpgradeIsNotADowngrade) {
    ASSERT_TRUE(run().status.is_ok());  // version 1 -> 2
    EXPECT_EQ(log_.entry(0).downgrade, Downgrade::No);
}

TEST_F(EvolutionEngineTest, ADryRunStopsAfterValidateAndChangesNothing) {
    EvolveReport report = run(EvolveMode::DryRun);
    ASSERT_TRUE(report.status.is_ok());
    EXPECT_EQ(calls(), (std::vector<std::string>{"prepare", "validate", "abandon"}));
    EXPECT_EQ(report.phase, Phase::Validate);
    EXPECT_EQ(report.outcome, LogOutcome::DryRunPassed);
    EXPECT_EQ(report.old_image, OldImage::Kept);
    EXPECT_FALSE(environment_.swapped);
    EXPECT_EQ(report.cycles.pause, 0u);
}

TEST_F(EvolutionEngineTest, APauseThatImportedTheStateAgainIsStillOneSwapAndSaysSo) {
    environment_.pause_work = PauseWork::Rebuilt;
    EvolveReport report = run();
    ASSERT_TRUE(report.status.is_ok());
    EXPECT_EQ(report.pause_work, PauseWork::Rebuilt);
    EXPECT_EQ(calls(),
              (std::vector<std::string>{"prepare", "validate", "swap", "resume", "start"}));
    EXPECT_EQ(report.outcome, LogOutcome::Swapped);
    ASSERT_EQ(log_.count(), 1u);
}

TEST_F(EvolutionEngineTest, AFailedStartIsReportedButTheSwapStaysCommitted) {
    environment_.fail_at = "start";
    EvolveReport report = run();
    EXPECT_TRUE(report.status.is_ok()) << "the swap itself happened";
    EXPECT_EQ(report.start_status.error(), Errno::InvalidArgument);
    EXPECT_STREQ(report.start_reason.text(), "start failed");
    EXPECT_EQ(report.outcome, LogOutcome::Swapped);
    EXPECT_TRUE(environment_.swapped);
    EXPECT_EQ(calls(),
              (std::vector<std::string>{"prepare", "validate", "swap", "resume", "start"}));
}

TEST_F(EvolutionEngineTest, AStartThatCrashedCarriesItsCrashReportOut) {
    EvolveReport clean = run();
    EXPECT_EQ(clean.start_crash, 0u) << "no crash unless the start reports one";
    environment_.fail_at = "start";
    environment_.start_crash = 7;
    EvolveReport report = run();
    EXPECT_TRUE(report.status.is_ok()) << "the swap itself happened";
    EXPECT_TRUE(report.start_status.is_error());
    EXPECT_EQ(report.start_crash, 7u) << "the caller owes the module its recovery";
}

TEST_F(EvolutionEngineTest, AnOldImageThatMayStillRunIsParkedAndReported) {
    environment_.resume_answer = OldImage::Parked;
    EvolveReport report = run();
    ASSERT_TRUE(report.status.is_ok());
    EXPECT_EQ(report.old_image, OldImage::Parked);
    EXPECT_EQ(report.outcome, LogOutcome::SwappedParked);
    EXPECT_EQ(report.parked_images, 1u);
}

TEST_F(EvolutionEngineTest, BadRequestsAreRefusedBeforeAnythingRuns) {
    EvolveReport no_service = engine_.evolve(EvolveRequest{"", "x.umod", EvolveMode::Swap});
    EXPECT_EQ(no_service.status.error(), Errno::InvalidArgument);
    EXPECT_NE(std::string(no_service.reason.text()).find("no service"), std::string::npos);
    EvolveReport no_file = engine_.evolve(EvolveRequest{"scheduler", nullptr, EvolveMode::Swap});
    EXPECT_EQ(no_file.status.error(), Errno::InvalidArgument);
    EXPECT_TRUE(calls().empty());
    EXPECT_EQ(log_.count(), 0u);
}

// An environment whose prepare re-enters the engine, as a second CPU would mid-evolution.
struct ReentrantEnvironment final : Environment {
    EvolutionEngine* engine = nullptr;
    EvolveReport inner{};
    uint64_t read_cycles() override { return 0; }
    uint64_t time_microseconds() override { return 0; }
    Status prepare(const EvolveRequest& request, modules::Diagnostic&) override {
        inner = engine->evolve(request);
        return Status::ok();
    }
    Status validate(modules::Diagnostic&) override { return Status::ok(); }
    Status swap(SwapTiming&, modules::Diagnostic&) override { return Status::ok(); }
    OldImage resume() override { return OldImage::Unloaded; }
    Status start_replacement(modules::Diagnostic&, uint64_t&) override { return Status::ok(); }
    void abandon() override {}
    ModuleFacts facts() override { return ModuleFacts{}; }
    size_t collect_parked() override { return 0; }
};

TEST(EvolutionEngineBusy, ASecondEvolutionDuringOneIsRefusedAsBusy) {
    ReentrantEnvironment environment;
    EvolutionLog log;
    EvolutionEngine engine(environment, log);
    environment.engine = &engine;
    EvolveReport outer = engine.evolve(EvolveRequest{"scheduler", "a.umod", EvolveMode::Swap});
    EXPECT_TRUE(outer.status.is_ok());
    EXPECT_EQ(environment.inner.status.error(), Errno::Busy);
    // And the flag is clear again afterwards.
    EXPECT_TRUE(
        engine.evolve(EvolveRequest{"scheduler", "b.umod", EvolveMode::Swap}).status.is_ok());
}

}  // namespace
}  // namespace umka::evolution
