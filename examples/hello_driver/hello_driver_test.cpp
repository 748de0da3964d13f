// Host test of the example module: the harness loads the very ELF the build produced with
// the nucleus's loader, binds it, calls umka_module_entry, and the test calls what it
// provides through the generated consumer helpers and the ring transport, exactly as
// another module would.
#include "umka/kabi/hello_driver.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "module_harness.h"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/hello_driver_ring.hpp"
#include "umka/kabi/hello_driver_state.hpp"

namespace hello = umka::kabi::hello_driver;
namespace chardev = umka::kabi::char_device;
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

TEST(HelloDriver, StateMigrationIsGenerated) {
    hello::HelloState saved{3, 40};
    hello::HelloState loaded{};
    ASSERT_TRUE(
        hello::import_hello_state<umka::kabi::NoMigrationHooks>(&saved, sizeof(saved), 1, &loaded)
            .is_ok());
    EXPECT_EQ(loaded.greetings, 3u);
}

}  // namespace
