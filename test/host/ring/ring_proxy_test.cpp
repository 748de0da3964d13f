// End to end through kabi-gen's generated code for char_device.CharDevice: the caller
// calls CharDeviceRingProxy<RingCaller>, which marshals into request entries; a provider
// thread runs run_provider() with the generated char_device_ring::dispatch against a fake
// device. Also: a provider with an older, shorter vtable (ENOSYS), and malformed entries
// through the generated dispatch (ENOSYS for an unknown opcode, EBADMSG for a bad size).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include "nucleus/ring/ring_caller.h"
#include "nucleus/ring/ring_provider.h"
#include "test/host/ring/ring_test_support.h"
#include "umka/kabi/char_device_ring.hpp"

namespace {

using umka::ring::GeneratedDispatch;
using umka::ring::RingCaller;
using umka::ring::RingParty;
using umka::ring::RingProvider;
using umka::ring::testing::Pair;
using umka::ring::testing::ScriptedSignals;
using umka::ring::testing::ThreadSignals;
namespace char_device = umka::kabi::char_device;
using char_device::CharDeviceInfo;
using char_device::CharDeviceRingProxy;
using char_device::CharDeviceVtable;
using char_device::OpenMode;
using char_device::PollEvents;

constexpr uint32_t kTcgets = 0x5401;

// A character device in memory: what is written is kept, reads return `input`.
struct FakeCharDevice {
    std::string written;
    std::string input = "hello through the ring";
    size_t read_offset = 0;
    bool opened = false;
    OpenMode mode{};

    static FakeCharDevice& self(void* context) { return *static_cast<FakeCharDevice*>(context); }

    static int32_t info(void*, CharDeviceInfo* info) {
        *info = CharDeviceInfo{};
        std::memcpy(info->name, "ttyR0", 5);
        info->major = 4;
        info->minor = 64;
        return 0;
    }
    static int32_t open(void* context, OpenMode mode) {
        if (self(context).opened) return UMKA_KABI_EBUSY;
        if (!char_device::any(mode & (OpenMode::Read | OpenMode::Write))) return UMKA_KABI_EACCES;
        self(context).opened = true;
        self(context).mode = mode;
        return 0;
    }
    static int32_t close(void* context) {
        self(context).opened = false;
        return 0;
    }
    static int32_t read(void* context, void* buffer, uint64_t length, uint64_t* transferred) {
        FakeCharDevice& device = self(context);
        size_t left = device.input.size() - device.read_offset;
        if (left == 0 && char_device::any(device.mode & OpenMode::NonBlocking)) {
            return UMKA_KABI_EAGAIN;
        }
        size_t count = std::min<size_t>(left, length);
        std::memcpy(buffer, device.input.data() + device.read_offset, count);
        device.read_offset += count;
        *transferred = count;
        return 0;
    }
    static int32_t write(void* context, const void* data, uint64_t length, uint64_t* transferred) {
        self(context).written.append(static_cast<const char*>(data), length);
        *transferred = length;
        return 0;
    }
    static int32_t control(void*, uint32_t command, void* argument, uint64_t length) {
        if (command != kTcgets) return UMKA_KABI_ENOTTY;
        if (length < 4) return UMKA_KABI_EINVAL;
        std::memset(argument, 0xab, length);
        return 0;
    }
    static int32_t poll(void* context, PollEvents interest, PollEvents* ready) {
        FakeCharDevice& device = self(context);
        PollEvents now = PollEvents::Writable;
        if (device.read_offset < device.input.size()) now = now | PollEvents::Readable;
        *ready = interest & now;
        return 0;
    }
};

using CharDeviceDispatch =
    GeneratedDispatch<CharDeviceVtable, &char_device::char_device_ring::dispatch>;

TEST(RingProxy, EveryCharDeviceMethodCrossesTheRingToAProviderThread) {
    static constexpr CharDeviceVtable vtable =
        char_device::make_char_device_vtable<FakeCharDevice>();
    FakeCharDevice device;
    Pair pair(8);
    ThreadSignals signals(/*spin_polls=*/64);
    RingProvider provider(pair.pair, signals.signals());
    CharDeviceDispatch target(&vtable, &device);
    umka::Status provider_status = umka::Errno::TimedOut;
    std::thread provider_thread(
        [&] { provider_status = run_provider(provider, target.dispatcher(), 16); });

    RingCaller caller(pair.pair, signals.signals());
    CharDeviceRingProxy<RingCaller> proxy(caller);

    CharDeviceInfo info{};
    ASSERT_EQ(proxy.info(&info).code(), 0);
    EXPECT_STREQ(reinterpret_cast<const char*>(info.name), "ttyR0");
    EXPECT_EQ(info.major, 4);
    EXPECT_EQ(info.minor, 64);

    EXPECT_EQ(proxy.open(OpenMode::Read | OpenMode::Write | OpenMode::NonBlocking).code(), 0);
    EXPECT_EQ(proxy.open(OpenMode::Read).code(), UMKA_KABI_EBUSY) << "errors must come back";

    const std::string text = "written through a ring entry";
    uint64_t transferred = 0;
    EXPECT_EQ(proxy.write(text.data(), text.size(), &transferred).code(), 0);
    EXPECT_EQ(transferred, text.size());

    char buffer[64] = {};
    ASSERT_EQ(proxy.read(buffer, 5, &transferred).code(), 0);
    EXPECT_EQ(std::string(buffer, transferred), "hello");
    ASSERT_EQ(proxy.read(buffer, sizeof(buffer), &transferred).code(), 0);
    EXPECT_EQ(std::string(buffer, transferred), " through the ring");
    EXPECT_EQ(proxy.read(buffer, sizeof(buffer), &transferred).code(), UMKA_KABI_EAGAIN);

    uint8_t termios[16] = {};
    EXPECT_EQ(proxy.control(kTcgets, termios, sizeof(termios)).code(), 0);
    EXPECT_EQ(termios[15], 0xab);
    EXPECT_EQ(proxy.control(0x1234, termios, sizeof(termios)).code(), UMKA_KABI_ENOTTY);

    PollEvents ready{};
    EXPECT_EQ(proxy.poll(PollEvents::Readable | PollEvents::Writable, &ready).code(), 0);
    EXPECT_EQ(ready, PollEvents::Writable);
    EXPECT_EQ(proxy.close().code(), 0);

    // Many calls: the proxy and the ring stay in step across wraps.
    for (int i = 0; i < 2000; ++i) {
        ASSERT_EQ(proxy.write("x", 1, &transferred).code(), 0) << "call " << i;
    }
    caller.close();
    provider_thread.join();
    EXPECT_TRUE(provider_status.is_ok()) << umka::errno_name(provider_status.error());
    EXPECT_EQ(device.written, text + std::string(2000, 'x'));
    EXPECT_FALSE(device.opened);
    auto counters = pair.pair.counters();
    EXPECT_EQ(counters.submitted, 2011u);
    EXPECT_EQ(counters.completed, 2011u);
    EXPECT_EQ(caller.misreleases(), 0u);
    EXPECT_EQ(signals.stalls(), 0u) << "a sleeper waited 10 s: a lost wake-up";

    // The binding is gone: the proxy reports EIO, not a hang and not success.
    EXPECT_EQ(proxy.write("y", 1, &transferred).code(), UMKA_KABI_EIO);
}

TEST(RingProxy, AnOlderProviderWithoutAMethodAnswersEnosys) {
    static constexpr CharDeviceVtable full = char_device::make_char_device_vtable<FakeCharDevice>();
    CharDeviceVtable older = full;
    older.vtable_size = offsetof(CharDeviceVtable, read);  // info, open and close only
    FakeCharDevice device;
    Pair pair(4);
    ScriptedSignals scripted;
    RingProvider provider(pair.pair, &scripted.signals);
    CharDeviceDispatch target(&older, &device);
    scripted.on_wait = [&](RingParty) { (void)serve(provider, target.dispatcher(), 8); };
    RingCaller caller(pair.pair, &scripted.signals);
    CharDeviceRingProxy<RingCaller> proxy(caller);
    uint64_t transferred = 99;
    EXPECT_EQ(proxy.open(OpenMode::Read).code(), 0);
    EXPECT_EQ(proxy.write("abc", 3, &transferred).code(), UMKA_KABI_ENOSYS);
    EXPECT_TRUE(device.written.empty());
    EXPECT_EQ(proxy.close().code(), 0);
}

TEST(RingProxy, MalformedEntriesGetGeneratedErrorCompletions) {
    static constexpr CharDeviceVtable vtable =
        char_device::make_char_device_vtable<FakeCharDevice>();
    FakeCharDevice device;
    Pair pair(4);
    ScriptedSignals scripted;
    RingProvider provider(pair.pair, &scripted.signals);
    CharDeviceDispatch target(&vtable, &device);
    scripted.on_wait = [&](RingParty) { (void)serve(provider, target.dispatcher(), 8); };
    RingCaller caller(pair.pair, &scripted.signals);

    auto raw_call = [&](uint32_t opcode, uint32_t payload_size) {
        umka_kabi_ring_request* entry = caller.reserve();
        EXPECT_NE(entry, nullptr);
        std::memset(entry->payload, 0, sizeof(entry->payload));
        entry->opcode = opcode;
        entry->payload_size = payload_size;
        const umka_kabi_ring_completion* completion = caller.call(*entry);
        EXPECT_NE(completion, nullptr);
        int32_t status = completion->status;
        EXPECT_EQ(completion->opcode, opcode);
        caller.release(*completion);
        return status;
    };
    EXPECT_EQ(raw_call(77, 0), UMKA_KABI_ENOSYS) << "unknown opcode";
    EXPECT_EQ(raw_call(static_cast<uint32_t>(char_device::CharDeviceOpcode::write), 3),
              UMKA_KABI_EBADMSG)
        << "write with a 3-byte payload";
    EXPECT_EQ(raw_call(static_cast<uint32_t>(char_device::CharDeviceOpcode::close), 8),
              UMKA_KABI_EBADMSG)
        << "close takes no payload";
    EXPECT_EQ(raw_call(static_cast<uint32_t>(char_device::CharDeviceOpcode::open), 4096),
              UMKA_KABI_EBADMSG)
        << "payload_size beyond the entry";
    EXPECT_TRUE(device.written.empty());
    EXPECT_FALSE(device.opened) << "a malformed entry reached the device";
    // The consumer survived all of it.
    CharDeviceRingProxy<RingCaller> proxy(caller);
    EXPECT_EQ(proxy.open(OpenMode::Write).code(), 0);
    EXPECT_TRUE(device.opened);
}

}  // namespace
