// Host test of the example module: the harness loads the very ELF the build produced with
// the nucleus's loader, binds it, calls umka_module_entry, and the test calls what it
// provides through the generated consumer helpers and the ring transport, exactly as
// another module would.
#include "umka/kabi/hello_driver.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "command_line.h"
#include "module_harness.h"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/hello_driver_ring.hpp"
#include "umka/kabi/hello_driver_state.hpp"

namespace hello = umka::kabi::hello_driver;
namespace chardev = umka::kabi::char_device;
namespace commands = umka::kabi::console_command;
using umka::harness::HostModule;
using umka::harness::ModuleHarness;

namespace {

// The module loaded and bound; fails the test with the loader's reason otherwise.
HostModule* load(ModuleHarness& harness) {
    HostModule* module = harness.load(umka::harness::module_under_test());
    EXPECT_NE(module, nullptr) << umka::harness::module_under_test() << ": "
                               << harness.last_reason();
    return module;
}

TEST(HelloDriver, LoadsAsTheNucleusWould) {
    ModuleHarness harness;
    HostModule* module = load(harness);
    ASSERT_NE(module, nullptr);
    EXPECT_STREQ(module->name(), "hello_driver");
    EXPECT_EQ(module->manifest().module_version(), 1u);
}

TEST(HelloDriver, GreetsThroughTheVtable) {
    ModuleHarness harness;
    HostModule* module = load(harness);
    ASSERT_NE(module, nullptr);
    hello::GreeterRef greeter;
    ASSERT_TRUE(harness.bind_provided(*module, "hello_driver", "Greeter", &greeter).is_ok());
    char buffer[32];
    uint64_t written = 0;
    ASSERT_TRUE(greeter.greet("umka", 4, buffer, sizeof(buffer), &written).is_ok());
    EXPECT_EQ(std::string(buffer, written), "hello, umka\n");
    EXPECT_EQ(greeter.greeting_count(), 1u);
    EXPECT_EQ(greeter.greet("umka", 4, buffer, 3, &written), umka::kabi::Status(UMKA_KABI_ENOSPC));
}

TEST(HelloDriver, CharDeviceReadsAGreeting) {
    ModuleHarness harness;
    HostModule* module = load(harness);
    ASSERT_NE(module, nullptr);
    chardev::CharDeviceRef device;
    ASSERT_TRUE(harness.bind_provided(*module, "char_device", "CharDevice", &device).is_ok());
    chardev::CharDeviceInfo info{};
    ASSERT_TRUE(device.info(&info).is_ok());
    EXPECT_STREQ(reinterpret_cast<const char*>(info.name), "hello");
    char buffer[32];
    uint64_t transferred = 0;
    ASSERT_TRUE(device.read(buffer, sizeof(buffer), &transferred).is_ok());
    EXPECT_EQ(std::string(buffer, transferred), "hello, world\n");
    EXPECT_EQ(device.control(0x5401, nullptr, 0), umka::kabi::Status(UMKA_KABI_ENOTTY));
}

// A ring that runs each request synchronously through the generated dispatch, on the
// vtable and context the module published.
struct LoopbackRing {
    const hello::GreeterVtable* vtable;
    void* context;
    umka_kabi_ring_request request{};
    umka_kabi_ring_completion completion{};
    umka_kabi_ring_request* reserve() { return &request; }
    const umka_kabi_ring_completion* call(umka_kabi_ring_request& entry) {
        hello::greeter_ring::dispatch(vtable, context, entry, completion);
        return &completion;
    }
    void release(const umka_kabi_ring_completion&) {}
};

TEST(HelloDriver, GreetsOverTheRingTransport) {
    ModuleHarness harness;
    HostModule* module = load(harness);
    ASSERT_NE(module, nullptr);
    auto slot = harness.registry().find("hello_driver", "Greeter", module->name());
    ASSERT_TRUE(slot.is_ok());
    const UmkaServiceRecord* record = umka_service_slot_load(slot.value());
    LoopbackRing ring{reinterpret_cast<const hello::GreeterVtable*>(record->vtable),
                      record->context};
    hello::GreeterRingProxy<LoopbackRing> greeter(ring);
    char buffer[32];
    uint64_t written = 0;
    ASSERT_TRUE(greeter.greet("ring", 4, buffer, sizeof(buffer), &written).is_ok());
    EXPECT_EQ(std::string(buffer, written), "hello, ring\n");
    EXPECT_EQ(greeter.greeting_count(), 1u);
}

// Runs one console command line through the module's CommandSet, as the console does.
std::string run_command(const commands::CommandSetRef& set, const std::string& line,
                        int32_t* status) {
    return umka::harness::run_command_line(set, line, status, 256);
}

TEST(HelloDriver, StartRunsOnceCommittedAndLogs) {
    ModuleHarness harness;
    HostModule* module = load(harness);
    ASSERT_NE(module, nullptr);
    ASSERT_EQ(harness.log().lines().size(), 1u);
    EXPECT_EQ(harness.log().lines()[0], "hello_driver version 1 started, 0 greeting(s) so far");
}

TEST(HelloDriver, TheHelloCommandGreetsAndCounts) {
    ModuleHarness harness;
    HostModule* module = load(harness);
    ASSERT_NE(module, nullptr);
    commands::CommandSetRef set;
    ASSERT_TRUE(harness.bind_provided(*module, "console_command", "CommandSet", &set).is_ok());
    char description[128];
    uint64_t written = 0;
    ASSERT_TRUE(set.describe(description, sizeof description, &written).is_ok());
    EXPECT_EQ(std::string(description, 13), "hello [name] ");
    int32_t status = -1;
    EXPECT_EQ(run_command(set, "hello", &status),
              "hello, world\ngreeting 1 from hello_driver version 1\n");
    EXPECT_EQ(status, UMKA_KABI_OK);
    EXPECT_EQ(run_command(set, "hello ada", &status),
              "hello, ada\ngreeting 2 from hello_driver version 1\n");
    EXPECT_EQ(run_command(set, "hello a b", &status), "hello: takes at most one name\n");
    EXPECT_EQ(status, UMKA_KABI_EINVAL);
    EXPECT_EQ(run_command(set, "goodbye", &status), "");
    EXPECT_EQ(status, UMKA_KABI_ENOENT) << "another module's command must stay unclaimed";
}

TEST(HelloDriver, ALiveSwapToVersion2AndBackKeepsTheCount) {
    ModuleHarness harness;
    HostModule* module = load(harness);
    ASSERT_NE(module, nullptr);
    commands::CommandSetRef set;
    int32_t status = -1;
    ASSERT_TRUE(harness.bind_provided(*module, "console_command", "CommandSet", &set).is_ok());
    run_command(set, "hello", &status);
    HostModule* second = harness.evolve(module, HELLO_DRIVER_V2);
    ASSERT_NE(second, nullptr) << harness.last_reason();
    EXPECT_EQ(second->manifest().module_version(), 2u);
    ASSERT_TRUE(harness.bind_provided(*second, "console_command", "CommandSet", &set).is_ok());
    EXPECT_EQ(run_command(set, "hello", &status),
              "hello, world\ngreeting 2 from hello_driver version 2\n");
    HostModule* third = harness.evolve(second, umka::harness::module_under_test());
    ASSERT_NE(third, nullptr) << harness.last_reason();
    ASSERT_TRUE(harness.bind_provided(*third, "console_command", "CommandSet", &set).is_ok());
    EXPECT_EQ(run_command(set, "hello", &status),
              "hello, world\ngreeting 3 from hello_driver version 1\n");
    EXPECT_EQ(harness.log().lines().back(), "hello_driver version 1 started, 2 greeting(s) so far");
}

TEST(HelloDriver, StateMigrationIsGenerated) {
    hello::HelloState saved{3, 40};
    hello::HelloState loaded{};
    ASSERT_TRUE(
        hello::import_hello_state<umka::kabi::NoMigrationHooks>(&saved, sizeof(saved), 1, &loaded)
            .is_ok());
    EXPECT_EQ(loaded.greetings, 3u);
}

}  // namespace
