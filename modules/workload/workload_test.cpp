// Host test of the workload module: the harness loads the very ELF the build signs, binds
// it to host Threads and Directory vtables, and the tests run command lines through its
// CommandSet as the console service does: arguments past their documented limits (or
// past 2^64) are refused with a message, a missing provider is named, and a long command
// stops on Ctrl-C (console_command.Interrupt) with ECANCELED and "interrupted".
#include <gtest/gtest.h>

#include <string>

#include "command_line.h"
#include "module_harness.h"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/service_directory.hpp"

namespace commands = umka::kabi::console_command;
namespace services = umka::kabi::kernel_services;
namespace directory = umka::kabi::service_directory;
using umka::harness::HostModule;
using umka::harness::ModuleHarness;
using KabiStatus = umka::kabi::Status;

namespace {

// Threads with no scheduler behind them: every spawn is refused (EAGAIN, "every task slot
// is in use"), so `load start` reports the thread it could not start.
struct HostThreads {
    static KabiStatus join(void*, services::Thread, int32_t*) { return UMKA_KABI_EINVAL; }
    static KabiStatus sleep_ns(void*, uint64_t) { return KabiStatus::ok(); }
    static void yield_now(void*) {}
    static services::Thread current(void*) { return services::Thread{0}; }
    static KabiStatus spawn_thread(void*, uint64_t, uint64_t, services::ThreadPriority,
                                   services::ThreadPlacement, uint32_t, const char*, uint64_t,
                                   services::Thread*) {
        return UMKA_KABI_EAGAIN;
    }
    static uint32_t cpu_count(void*) { return 2; }
    static uint32_t current_cpu(void*) { return 0; }
    static KabiStatus queue_create(void*, services::WaitQueue*) { return UMKA_KABI_EAGAIN; }
    static KabiStatus queue_wait(void*, services::WaitQueue, uint64_t, uint32_t, uint64_t) {
        return UMKA_KABI_EINVAL;
    }
    static KabiStatus queue_wake(void*, services::WaitQueue, uint32_t, uint32_t*) {
        return UMKA_KABI_EINVAL;
    }
    static KabiStatus queue_destroy(void*, services::WaitQueue) { return UMKA_KABI_EINVAL; }
};

// What the test's directory and interrupt see; the context of both host vtables.
struct World {
    ModuleHarness* harness = nullptr;
    bool offer_interrupt = false;
    // Ctrl-C arrives at this poll (0: never).
    uint32_t interrupt_at_poll = 0;
    uint32_t polls = 0;
    uint32_t lookups = 0;
};

// The registry's own providers (the host Log, Clock, the Interrupt below when offered);
// every lookup moves the clock 1 ms on, so a loop of lookups lasts long enough to poll.
struct HostDirectory {
    static KabiStatus provider(void* context, const char* package, uint64_t package_length,
                               const char* interface, uint64_t interface_length, uint32_t index,
                               uint32_t, uint64_t* slot) {
        auto* world = static_cast<World*>(context);
        world->lookups += 1;
        umka::harness::ManualClock& clock = world->harness->clock();
        clock.set_ns(clock.now_ns() + 1000000);
        std::string wanted_package(package, package_length);
        std::string wanted_interface(interface, interface_length);
        if (index != 0) return UMKA_KABI_ENOENT;
        if (wanted_package == "console_command" && wanted_interface == "Interrupt" &&
            !world->offer_interrupt) {
            return UMKA_KABI_ENOENT;
        }
        auto found = world->harness->registry().find(wanted_package.c_str(),
                                                     wanted_interface.c_str(), nullptr);
        if (found.is_error()) return UMKA_KABI_ENOENT;
        *slot = reinterpret_cast<uint64_t>(found.value());
        return KabiStatus::ok();
    }
    // The module under test hands no callback slot to a provider: it never asks.
    static KabiStatus own_provision(void*, const char*, uint64_t, const char*, uint64_t,
                                    uint64_t*) {
        return UMKA_KABI_ENOENT;
    }
};

struct HostInterrupt {
    static KabiStatus poll(void* context, uint8_t* interrupted) {
        auto* world = static_cast<World*>(context);
        world->polls += 1;
        *interrupted = world->interrupt_at_poll != 0 && world->polls >= world->interrupt_at_poll;
        return KabiStatus::ok();
    }
};

constexpr services::ThreadsVtable kThreads = services::make_threads_vtable<HostThreads>();
constexpr directory::DirectoryVtable kDirectory = directory::make_directory_vtable<HostDirectory>();
constexpr commands::InterruptVtable kInterrupt = commands::make_interrupt_vtable<HostInterrupt>();

class Workload : public ::testing::Test {
protected:
    void SetUp() override {
        world_.harness = &harness_;
        ASSERT_TRUE(harness_.provide("kernel_services", "Threads", &kThreads, &world_).is_ok());
        ASSERT_TRUE(
            harness_.provide("service_directory", "Directory", &kDirectory, &world_).is_ok());
        ASSERT_TRUE(harness_.provide("console_command", "Interrupt", &kInterrupt, &world_).is_ok());
        module_ = harness_.load(umka::harness::module_under_test());
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "console_command", "CommandSet", &set_).is_ok());
    }

    // One command line, as the console hands it over.
    std::string run(const std::string& line, int32_t* status) {
        return umka::harness::run_command_line(set_, line, status, 4096);
    }

    ModuleHarness harness_;
    World world_;
    HostModule* module_ = nullptr;
    commands::CommandSetRef set_;
};

TEST_F(Workload, DescribesItsCommandsWithTheirLimits) {
    char output[1024];
    uint64_t written = 0;
    ASSERT_TRUE(set_.describe(output, sizeof output, &written).is_ok());
    std::string text(output, written);
    for (const char* expected :
         {"load start cpu|alloc|sleep N (N <= 256)", "ring|serial N (N <= 32)",
          "heap exercise N (N <= 1000000)", "probe threads N (N <= 32)", "ROUNDS <= 10000000"}) {
        EXPECT_NE(text.find(expected), std::string::npos) << expected << " in\n" << text;
    }
}

TEST_F(Workload, LeavesOtherCommandsToOtherSets) {
    int32_t status = 0;
    EXPECT_EQ(run("threads", &status), "");
    EXPECT_EQ(status, UMKA_KABI_ENOENT);
}

TEST_F(Workload, HeapExerciseRefusesCountsPastItsLimitWithoutWrapping) {
    int32_t status = 0;
    // 2^64 + 1 wrapped to 1 pair before; 999999999 ran for hours.
    EXPECT_EQ(run("heap exercise 18446744073709551617", &status),
              "heap exercise: N must be 1 to 1000000; '18446744073709551617' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("heap exercise 999999999", &status),
              "heap exercise: N must be 1 to 1000000; '999999999' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("heap exercise 0", &status),
              "heap exercise: N must be 1 to 1000000; '0' is too small\n");
    EXPECT_EQ(run("heap exercise 12x", &status),
              "heap exercise: N must be 1 to 1000000; '12x' is not a number\n");
    EXPECT_EQ(run("heap exercise", &status), "usage: heap | heap exercise N   (N: 1 to 1000000)\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    // In range, but no heap module in this world: named, not run.
    EXPECT_EQ(run("heap exercise 1000000", &status),
              "heap: no module provides memory.Heap (see 'mods')\n");
    EXPECT_EQ(status, UMKA_KABI_ENODEV);
}

TEST_F(Workload, LoadStartRefusesThreadCountsPastItsLimit) {
    int32_t status = 0;
    // 2^32 + 2 wrapped to 2 threads before.
    EXPECT_EQ(run("load start cpu 4294967298", &status),
              "load: N must be 1 to 256; '4294967298' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("load start sleep 257", &status),
              "load: N must be 1 to 256; '257' is too large\n");
    EXPECT_EQ(run("load start ring 33", &status), "load: N must be 1 to 32; '33' is too large\n");
    EXPECT_EQ(run("load start serial 0", &status), "load: N must be 1 to 32; '0' is too small\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_NE(run("load start disk 4", &status).find("usage: load start cpu N"), std::string::npos);
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("load stats", &status), "load: no workload has run\n");
    EXPECT_EQ(run("load stop", &status), "load: nothing running\n");
}

TEST_F(Workload, LoadStartReportsAThreadItCouldNotStart) {
    int32_t status = 0;
    EXPECT_EQ(run("load start cpu 256", &status),
              "load: thread 0 not started (EAGAIN)\nload: 0 counting threads started\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
    EXPECT_EQ(run("load stop", &status), "load: nothing running\n");
    EXPECT_EQ(run("load start alloc 4", &status), "load: no module provides memory.Heap\n");
    EXPECT_EQ(status, UMKA_KABI_ENODEV);
}

TEST_F(Workload, ProbeAndMeasureCheckTheirArguments) {
    int32_t status = 0;
    EXPECT_EQ(run("probe threads 33", &status), "probe: N must be 1 to 32; '33' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("probe threads 8", &status),
              "probe: no module provides thread_probe.ThreadProbe (boot a bundle with "
              "thread_probe.umod)\n");
    EXPECT_EQ(status, UMKA_KABI_ENODEV);
    EXPECT_EQ(run("measure switch 10000001", &status),
              "measure: ROUNDS must be 1 to 10000000; '10000001' is too large\n");
    EXPECT_EQ(run("measure ring 0x10000000000000000", &status),
              "measure: ROUNDS must be 1 to 10000000; '0x10000000000000000' is too large\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run("measure ring 5", &status),
              "measure: the nucleus publishes no nucleus_mechanism.Rings\n");
    EXPECT_EQ(status, UMKA_KABI_ENODEV);
}

TEST_F(Workload, MeasureCapsComparesADirectoryLookupWithABaseline) {
    int32_t status = 0;
    std::string output = run("measure caps", &status);
    EXPECT_EQ(status, UMKA_KABI_OK) << output;
    EXPECT_EQ(output.rfind("capability lookup (service_directory.Directory.provider of "
                           "kernel_services.Log): ",
                           0),
              0u)
        << output;
    EXPECT_NE(output.find("baseline call (kernel_services.Log.level)"), std::string::npos);
    // Every lookup went through the directory (the interrupt was looked up once too).
    EXPECT_EQ(world_.lookups, 100001u);
}

// `measure direct` times console_command.Interrupt.poll on a thread of its own (the host's
// Threads refuses it: the error is named); without a provider it says so.
TEST_F(Workload, MeasureDirectNeedsAProviderAndAThread) {
    world_.offer_interrupt = true;
    int32_t status = 0;
    EXPECT_EQ(run("measure direct 1000", &status),
              "measure: could not start direct-caller on cpu 0 (EAGAIN)\n");
    EXPECT_EQ(status, UMKA_KABI_EAGAIN);
    world_.offer_interrupt = false;
    EXPECT_EQ(run("measure direct 10", &status),
              "measure: no console_command.Interrupt provider\n");
    EXPECT_EQ(status, UMKA_KABI_ENODEV);
}

TEST_F(Workload, MeasureSwitchNamesTheSpawnErrorOfItsPartner) {
    int32_t status = 0;
    // The yields alone run (the host's yield returns at once); the partner is refused.
    EXPECT_EQ(run("measure switch 10", &status),
              "measure: could not start yield-partner on cpu 0 (EAGAIN)\n");
    EXPECT_EQ(status, UMKA_KABI_EAGAIN);
}

TEST_F(Workload, ALongCommandStopsOnCtrlC) {
    world_.offer_interrupt = true;
    world_.interrupt_at_poll = 3;
    int32_t status = 0;
    std::string output = run("measure caps", &status);
    EXPECT_EQ(status, UMKA_KABI_ECANCELED);
    EXPECT_EQ(output, "interrupted\n");
    // Polled once 20 ms of (host) clock passed, not once per lookup; stopped at the third.
    EXPECT_EQ(world_.polls, 3u);
    EXPECT_LT(world_.lookups, 100001u / 10);
}

TEST_F(Workload, WithoutAnInterruptProviderALongCommandStillRunsToItsEnd) {
    world_.offer_interrupt = false;
    world_.interrupt_at_poll = 1;
    int32_t status = 0;
    std::string output = run("measure caps", &status);
    EXPECT_EQ(status, UMKA_KABI_OK) << output;
    EXPECT_EQ(world_.polls, 0u);
}

}  // namespace
