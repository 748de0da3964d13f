// Host test of the example module's code through the generated consumer helpers and the
// ring transport, exactly as another module would call it.
#include "umka/kabi/hello_driver.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "umka/kabi/char_device.hpp"
#include "umka/kabi/hello_driver_ring.hpp"
#include "umka/kabi/hello_driver_state.hpp"

namespace hello = umka::kabi::hello_driver;
namespace chardev = umka::kabi::char_device;

extern "C" const hello::GreeterVtable hello_driver_greeter;
extern "C" const chardev::CharDeviceVtable hello_driver_char_device;

namespace {

TEST(HelloDriver, GreetsThroughTheVtable) {
    hello::HelloState state{};
    hello::GreeterRef greeter;
    ASSERT_TRUE(hello::GreeterRef::bind(&hello_driver_greeter, &state, &greeter).is_ok());
    char buffer[32];
    uint64_t written = 0;
    ASSERT_TRUE(greeter.greet("umka", 4, buffer, sizeof(buffer), &written).is_ok());
    EXPECT_EQ(std::string(buffer, written), "hello, umka\n");
    EXPECT_EQ(greeter.greeting_count(), 1u);
    EXPECT_EQ(greeter.greet("umka", 4, buffer, 3, &written), umka::kabi::Status(UMKA_KABI_ENOSPC));
}

TEST(HelloDriver, CharDeviceReadsAGreeting) {
    hello::HelloState state{};
    chardev::CharDeviceRef device;
    ASSERT_TRUE(chardev::CharDeviceRef::bind(&hello_driver_char_device, &state, &device).is_ok());
    chardev::CharDeviceInfo info{};
    ASSERT_TRUE(device.info(&info).is_ok());
    EXPECT_STREQ(reinterpret_cast<const char*>(info.name), "hello");
    char buffer[32];
    uint64_t transferred = 0;
    ASSERT_TRUE(device.read(buffer, sizeof(buffer), &transferred).is_ok());
    EXPECT_EQ(std::string(buffer, transferred), "hello, world\n");
    EXPECT_EQ(device.control(0x5401, nullptr, 0), umka::kabi::Status(UMKA_KABI_ENOTTY));
}

// A ring that runs each request synchronously through the generated dispatch.
struct LoopbackRing {
    void* context;
    umka_kabi_ring_request request{};
    umka_kabi_ring_completion completion{};
    umka_kabi_ring_request* reserve() { return &request; }
    const umka_kabi_ring_completion* call(umka_kabi_ring_request& entry) {
        hello::greeter_ring::dispatch(&hello_driver_greeter, context, entry, completion);
        return &completion;
    }
    void release(const umka_kabi_ring_completion&) {}
};

TEST(HelloDriver, GreetsOverTheRingTransport) {
    hello::HelloState state{};
    LoopbackRing ring{&state};
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
