// The crash book's restart policy, every path (nucleus/containment/crash_book.h).
#include "nucleus/containment/crash_book.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace umka::containment {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ull;

CrashFacts facts(const char* module, uint64_t time_ns) {
    return CrashFacts{module, time_ns, 14, "#PF page fault", 0xffff800000123456, 0x3456,
                      0,      2,       1,  "serial_write"};
}

TEST(CrashBook, FirstCrashRestartsAndRecordsTheReport) {
    CrashBook book;
    uint64_t sequence = 0;
    EXPECT_EQ(book.record_crash(facts("serial_console", 5 * kSecond), sequence), Decision::Restart);
    EXPECT_EQ(sequence, 1u);
    EXPECT_EQ(book.health_of("serial_console"), Health::Recovering);
    EXPECT_EQ(book.health_of("ext2"), Health::Running);
    ASSERT_EQ(book.kept(), 1u);
    const CrashReport* report = book.report(0);
    ASSERT_NE(report, nullptr);
    EXPECT_STREQ(report->module, "serial_console");
    EXPECT_STREQ(report->fault, "#PF page fault");
    EXPECT_STREQ(report->symbol, "serial_write");
    EXPECT_EQ(report->offset, 0x3456u);
    EXPECT_EQ(report->outcome, Health::Recovering);

    book.restarted("serial_console", sequence, 1234);
    EXPECT_EQ(book.health_of("serial_console"), Health::Running);
    EXPECT_EQ(book.report(0)->recovery_ns, 1234u);
    EXPECT_EQ(book.report(0)->outcome, Health::Running);
    ASSERT_EQ(book.module_count(), 1u);
    EXPECT_EQ(book.module(0)->crashes, 1u);
    EXPECT_EQ(book.module(0)->restarts, 1u);
    EXPECT_EQ(book.module(1), nullptr);
}

TEST(CrashBook, ASecondFaultWhileRecoveringWaitsForTheRestart) {
    CrashBook book;
    uint64_t first = 0;
    uint64_t second = 0;
    EXPECT_EQ(book.record_crash(facts("ext2", kSecond), first), Decision::Restart);
    EXPECT_EQ(book.record_crash(facts("ext2", kSecond + 10), second), Decision::AwaitRestart);
    EXPECT_EQ(second, first + 1);
    EXPECT_EQ(book.report(1)->outcome, Health::Recovering);
    book.restarted("ext2", first, 99);
    EXPECT_EQ(book.module(0)->crashes, 2u);
    EXPECT_EQ(book.module(0)->restarts, 1u);
}

TEST(CrashBook, ThirdCrashWithinTheWindowFails) {
    CrashBook book;
    uint64_t sequence = 0;
    for (uint64_t crash = 0; crash < 2; ++crash) {
        ASSERT_EQ(book.record_crash(facts("vfs_service", (crash + 1) * kSecond), sequence),
                  Decision::Restart);
        book.restarted("vfs_service", sequence, 10);
    }
    EXPECT_EQ(book.record_crash(facts("vfs_service", 59 * kSecond), sequence), Decision::Fail);
    EXPECT_EQ(book.health_of("vfs_service"), Health::Failed);
    EXPECT_EQ(book.report(2)->outcome, Health::Failed);
    // Failed stays failed: a later fault (another binding's thread) is not restarted.
    EXPECT_EQ(book.record_crash(facts("vfs_service", 500 * kSecond), sequence), Decision::Fail);
    EXPECT_EQ(book.module(0)->restarts, 2u);
}

CrashFacts start_up(const char* module, uint64_t time_ns) {
    CrashFacts crash = facts(module, time_ns);
    crash.phase = CrashPhase::StartUp;
    return crash;
}

TEST(CrashBook, AStartUpCrashDuringARestartIsTheRestartersToRetryNotToAwait) {
    CrashBook book;
    uint64_t call = 0;
    uint64_t start = 0;
    ASSERT_EQ(book.record_crash(facts("serial_console", kSecond), call), Decision::Restart);
    // The restarter's own fresh instance crashed in its start: it tries again.
    EXPECT_EQ(book.record_crash(start_up("serial_console", kSecond + 5), start), Decision::Restart);
    EXPECT_EQ(book.health_of("serial_console"), Health::Recovering);
    book.restart_crashed(call);
    EXPECT_EQ(book.report(0)->restart_error, Errno::IoError);
    EXPECT_EQ(book.report(0)->phase, CrashPhase::Call);
    EXPECT_EQ(book.report(1)->phase, CrashPhase::StartUp);
    CrashBook::Decided decided{};
    ASSERT_TRUE(book.decision_of(start, decided));
    EXPECT_EQ(decided.decision, Decision::Restart);
    EXPECT_EQ(decided.time_ns, kSecond + 5);
    EXPECT_STREQ(decided.module, "serial_console");
    // A call's fault meanwhile (another thread) still waits for that restart.
    uint64_t other = 0;
    EXPECT_EQ(book.record_crash(facts("serial_console", kSecond + 6), other),
              Decision::AwaitRestart);
    book.restarted("serial_console", start, 20);
    EXPECT_EQ(book.health_of("serial_console"), Health::Running);
    EXPECT_EQ(book.report(1)->outcome, Health::Running);
    EXPECT_EQ(book.module(0)->crashes, 3u);
    EXPECT_EQ(book.module(0)->restarts, 1u);
}

TEST(CrashBook, StartUpCrashesCountAgainstThePolicyUntilTheModuleFails) {
    CrashBook book;
    uint64_t sequence = 0;
    ASSERT_EQ(book.record_crash(facts("serial_console", kSecond), sequence), Decision::Restart);
    ASSERT_EQ(book.record_crash(start_up("serial_console", 2 * kSecond), sequence),
              Decision::Restart);
    EXPECT_EQ(book.record_crash(start_up("serial_console", 3 * kSecond), sequence), Decision::Fail);
    EXPECT_EQ(book.health_of("serial_console"), Health::Failed);
    CrashBook::Decided decided{};
    ASSERT_TRUE(book.decision_of(sequence, decided));
    EXPECT_EQ(decided.decision, Decision::Fail);
    // A live swap's start-up crash of a running module starts a restart like any crash.
    uint64_t live = 0;
    EXPECT_EQ(book.record_crash(start_up("ext2", 4 * kSecond), live), Decision::Restart);
    EXPECT_EQ(book.health_of("ext2"), Health::Recovering);
    EXPECT_FALSE(book.decision_of(999, decided)) << "no such report";
}

TEST(CrashBook, APolicyFromTheBootManifestSetsCountAndWindow) {
    CrashBook book;
    ASSERT_TRUE(book.set_policy(CrashPolicy{5, 2 * kSecond}).is_ok());
    uint64_t sequence = 0;
    // Four crashes within 2 s restart; the fifth within 2 s of the first fails.
    for (uint64_t crash = 0; crash < 4; ++crash) {
        ASSERT_EQ(book.record_crash(facts("serial_console", kSecond + crash * 100), sequence),
                  Decision::Restart);
        book.restarted("serial_console", sequence, 10);
    }
    EXPECT_EQ(book.record_crash(facts("serial_console", 2 * kSecond), sequence), Decision::Fail);
    // One crash fails at once, whatever the window.
    CrashBook strict;
    ASSERT_TRUE(strict.set_policy(CrashPolicy{1, 1'000'000}).is_ok());
    EXPECT_EQ(strict.record_crash(facts("serial_console", kSecond), sequence), Decision::Fail);
    // Two within 1 ms: crashes 2 ms apart never fail (the bench's policy, in kind).
    CrashBook relaxed;
    ASSERT_TRUE(relaxed.set_policy(CrashPolicy{2, 1'000'000}).is_ok());
    for (uint64_t crash = 0; crash < 100; ++crash) {
        ASSERT_EQ(relaxed.record_crash(facts("serial_console", (crash + 1) * 2'000'000), sequence),
                  Decision::Restart);
        relaxed.restarted("serial_console", sequence, 10);
    }
    EXPECT_EQ(relaxed.module(0)->restarts, 100u);
}

TEST(CrashBook, APolicyOutOfRangeOrAfterACrashIsRefused) {
    CrashBook book;
    EXPECT_EQ(book.set_policy(CrashPolicy{0, kSecond}).error(), Errno::InvalidArgument);
    EXPECT_EQ(book.set_policy(CrashPolicy{kMaximumCrashesToFail + 1, kSecond}).error(),
              Errno::InvalidArgument);
    EXPECT_EQ(book.set_policy(CrashPolicy{3, 999'999}).error(), Errno::InvalidArgument);
    EXPECT_EQ(book.set_policy(CrashPolicy{3, (kMaximumCrashWindowMs + 1) * 1'000'000}).error(),
              Errno::InvalidArgument);
    EXPECT_EQ(book.policy().crashes_to_fail, 3u);
    EXPECT_EQ(book.policy().window_ns, 60 * kSecond);
    uint64_t sequence = 0;
    (void)book.record_crash(facts("ext2", kSecond), sequence);
    EXPECT_EQ(book.set_policy(CrashPolicy{5, kSecond}).error(), Errno::InvalidArgument);
}

TEST(CrashBook, WatchdogLimitsPerModuleReplacedByALaterRecord) {
    CrashBook book;
    EXPECT_EQ(book.watchdog_limit_ns("serial_console"), 0u);
    EXPECT_EQ(book.watchdog_limit_ns(nullptr), 0u);
    ASSERT_TRUE(book.set_watchdog_limit("serial_console", 2 * kSecond));
    ASSERT_TRUE(book.set_watchdog_limit("ext2", 5 * kSecond));
    EXPECT_EQ(book.watchdog_limit_ns("serial_console"), 2 * kSecond);
    ASSERT_TRUE(book.set_watchdog_limit("serial_console", kSecond));  // a swap's new manifest
    EXPECT_EQ(book.watchdog_limit_ns("serial_console"), kSecond);
    EXPECT_EQ(book.watchdog_limit_ns("ext2"), 5 * kSecond);
    EXPECT_EQ(book.watchdog_limit_ns("serial"), 0u);
    for (size_t index = 2; index < kTrackedModules; ++index) {
        ASSERT_TRUE(book.set_watchdog_limit(("m" + std::to_string(index)).c_str(), kSecond));
    }
    EXPECT_FALSE(book.set_watchdog_limit("one_too_many", kSecond));
    EXPECT_EQ(book.watchdog_limit_ns("one_too_many"), 0u);
    EXPECT_TRUE(book.set_watchdog_limit("ext2", 3 * kSecond));  // a known module still updates
}

TEST(CrashBook, CrashesFurtherApartThanTheWindowKeepRestarting) {
    CrashBook book;
    uint64_t sequence = 0;
    for (uint64_t crash = 0; crash < 10; ++crash) {
        ASSERT_EQ(book.record_crash(facts("tmpfs", crash * 31 * kSecond), sequence),
                  Decision::Restart)
            << "crash " << crash;
        book.restarted("tmpfs", sequence, 1);
    }
    EXPECT_EQ(book.health_of("tmpfs"), Health::Running);
    EXPECT_EQ(book.module(0)->crashes, 10u);
    // The last two were at 248 s and 279 s: a third at 290 s makes three within 42 s.
    EXPECT_EQ(book.record_crash(facts("tmpfs", 290 * kSecond), sequence), Decision::Fail);
}

TEST(CrashBook, AFailedRestartFailsTheModule) {
    CrashBook book;
    uint64_t sequence = 0;
    ASSERT_EQ(book.record_crash(facts("workload", kSecond), sequence), Decision::Restart);
    book.restart_failed("workload", sequence, Errno::ExecFormat);
    EXPECT_EQ(book.health_of("workload"), Health::Failed);
    EXPECT_EQ(book.report(0)->restart_error, Errno::ExecFormat);
    EXPECT_EQ(book.report(0)->outcome, Health::Failed);
}

TEST(CrashBook, KeepsTheLatestReportsAndNumbersThemAll) {
    CrashBook book;
    uint64_t sequence = 0;
    for (uint64_t crash = 0; crash < kKeptReports + 5; ++crash) {
        std::string name = "module_" + std::to_string(crash);
        ASSERT_EQ(book.record_crash(facts(name.c_str(), crash), sequence), Decision::Restart);
    }
    EXPECT_EQ(book.total(), kKeptReports + 5);
    EXPECT_EQ(book.kept(), kKeptReports);
    EXPECT_EQ(book.report(0)->sequence, 6u);
    EXPECT_STREQ(book.report(0)->module, "module_5");
    EXPECT_EQ(book.report(kKeptReports - 1)->sequence, kKeptReports + 5);
    EXPECT_EQ(book.report(kKeptReports), nullptr);
    // A report that fell out of the book: the module row still counts the restart.
    book.restarted("module_0", 1, 7);
    EXPECT_EQ(book.module(0)->restarts, 1u);
}

TEST(CrashBook, ModuleTableFullFailsWithoutARow) {
    CrashBook book;
    uint64_t sequence = 0;
    for (size_t index = 0; index < kTrackedModules; ++index) {
        std::string name = "m" + std::to_string(index);
        ASSERT_EQ(book.record_crash(facts(name.c_str(), 1), sequence), Decision::Restart);
    }
    EXPECT_EQ(book.record_crash(facts("one_too_many", 2), sequence), Decision::Fail);
    EXPECT_EQ(book.module_count(), kTrackedModules);
    EXPECT_EQ(book.report(book.kept() - 1)->restart_error, Errno::NoSpace);
}

TEST(CrashBook, LongNamesAreCutNotOverflowed) {
    CrashBook book;
    uint64_t sequence = 0;
    std::string long_name(100, 'x');
    std::string long_symbol(300, 's');
    CrashFacts long_facts = facts(long_name.c_str(), 1);
    long_facts.symbol = long_symbol.c_str();
    long_facts.fault_name = nullptr;
    book.record_crash(long_facts, sequence);
    EXPECT_EQ(std::strlen(book.report(0)->module), kNameBytes - 1);
    EXPECT_EQ(std::strlen(book.report(0)->symbol), kSymbolBytes - 1);
    EXPECT_STREQ(book.report(0)->fault, "");
    EXPECT_EQ(book.module(0)->module[kNameBytes - 1], '\0');
}

}  // namespace
}  // namespace umka::containment
