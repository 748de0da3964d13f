// The pieces of a kernel ring binding that do not need the scheduler (nucleus/ring/
// ring_adapters.h), with host threads: a consumer calling through the generated
// CharDeviceRingVtable adapter over a SerialisedRingCaller<std::mutex>, several consumer
// threads sharing one binding, and a provider whose SlotDispatch loads the shared service
// slot per request, so requests queued before a swap are answered by the new provider.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nucleus/ring/ring_adapters.h"
#include "test/host/ring/ring_test_support.h"
#include "umka/kabi/char_device.hpp"

namespace {

using umka::ring::RingProvider;
using umka::ring::SlotDispatch;
using umka::ring::testing::Pair;
using umka::ring::testing::ThreadSignals;
namespace char_device = umka::kabi::char_device;

using HostCaller = umka::ring::SerialisedRingCaller<std::mutex>;
using HostAdapters = umka::ring::RingAdapterTable<std::mutex>;

// A provider that names itself in info() and counts its calls.
struct NamedDevice {
    char name[8];
    std::atomic<uint64_t> calls{0};

    static int32_t info(void* context, char_device::CharDeviceInfo* info) {
        auto* self = static_cast<NamedDevice*>(context);
        self->calls.fetch_add(1);
        *info = char_device::CharDeviceInfo{};
        std::memcpy(info->name, self->name, sizeof self->name);
        return 0;
    }
    static int32_t open(void*, char_device::OpenMode) { return 0; }
    static int32_t close(void*) { return 0; }
    static int32_t read(void*, void*, uint64_t, uint64_t* transferred) {
        *transferred = 0;
        return 0;
    }
    static int32_t write(void*, const void*, uint64_t length, uint64_t* transferred) {
        *transferred = length;
        return 0;
    }
    static int32_t control(void*, uint32_t, void*, uint64_t) { return UMKA_KABI_ENOTTY; }
    static int32_t poll(void*, char_device::PollEvents, char_device::PollEvents* ready) {
        *ready = char_device::PollEvents{};
        return 0;
    }
};

constexpr char_device::CharDeviceVtable kNamedVtable =
    char_device::make_char_device_vtable<NamedDevice>();

UmkaServiceRecord record_of(NamedDevice& device) {
    return {reinterpret_cast<const umka_kabi_vtable_header*>(&kNamedVtable), &device,
            kNamedVtable.version, UMKA_KABI_TRANSPORT_DIRECT};
}

const umka::ring::RingAdapter& char_device_adapter() {
    const umka::ring::RingAdapter* adapter = HostAdapters::find("char_device", "CharDevice");
    EXPECT_NE(adapter, nullptr);
    return *adapter;
}

// What a consumer module does per call: bind a Ref to the record its slot holds.
std::string info_name(const UmkaServiceSlot* slot, umka::kabi::Status* status = nullptr) {
    char_device::CharDeviceRef device;
    EXPECT_TRUE(umka::kabi::bind_service(slot, &device).is_ok());
    char_device::CharDeviceInfo info{};
    umka::kabi::Status result = device.info(&info);
    if (status != nullptr) *status = result;
    return std::string(reinterpret_cast<const char*>(info.name));
}

// A ring binding as the kernel builds one, on host threads.
struct HostBinding {
    explicit HostBinding(const UmkaServiceSlot* provider_slot)
        : pair(64),
          caller(pair.pair, signals.signals()),
          provider(pair.pair, signals.signals()),
          dispatch(provider_slot, char_device_adapter().dispatch) {
        const umka::ring::RingAdapter& adapter = char_device_adapter();
        record = {static_cast<const umka_kabi_vtable_header*>(adapter.vtable), &caller,
                  adapter.interface_version, UMKA_KABI_TRANSPORT_RING};
        slot.record = &record;
    }

    void start_provider() {
        thread = std::thread([this] {
            EXPECT_TRUE(umka::ring::run_provider(provider, dispatch.dispatcher(), 64).is_ok());
        });
    }
    ~HostBinding() {
        caller.close();
        if (thread.joinable()) thread.join();
    }

    ThreadSignals signals{200};
    Pair pair;
    HostCaller caller;
    RingProvider provider;
    SlotDispatch dispatch;
    UmkaServiceRecord record{};
    UmkaServiceSlot slot{};
    std::thread thread;
};

// The table is generated from kabi-idl/ (kabi-gen --emit ring-table): the interfaces a ring
// can carry are in it, the ones that never travel over a ring are not.
TEST(RingAdapterTable, HoldsEveryRingCapableInterfaceAndNoOther) {
    const umka::ring::RingAdapter& adapter = char_device_adapter();
    EXPECT_STREQ(adapter.package, "char_device");
    EXPECT_EQ(adapter.interface_version, char_device::CharDeviceRef::interface_version);
    // virtio_blk (ring, tiers 0..1) requires it from a ring-capable provider: no nucleus edit.
    EXPECT_NE(HostAdapters::find("pci_bus", "PciBus"), nullptr);
    // Found through the service directory (virtio_blk, block_console), never required: no
    // adapter.
    EXPECT_EQ(HostAdapters::find("block_device", "BlockCompletion"), nullptr);
    EXPECT_EQ(HostAdapters::find("block_device", "BlockDevice"), nullptr);
    // memory_service allows ring, but no module that could sit on a ring requires it.
    EXPECT_EQ(HostAdapters::find("memory", "FramePolicy"), nullptr);
    EXPECT_EQ(HostAdapters::find("char_device", "Nothing"), nullptr);
    EXPECT_EQ(HostAdapters::find("nucleus_shell", "Shell"), nullptr);  // transport(direct)
    EXPECT_EQ(HostAdapters::find("memory", "Heap"), nullptr);          // transport(direct)
    EXPECT_EQ(HostAdapters::find("kernel_services", "Log"), nullptr);  // the nucleus provides it
    EXPECT_EQ(HostAdapters::find("net_device", "NetStack"), nullptr);  // no module provides it
    for (const umka::ring::RingAdapter* entry = HostAdapters::begin(); entry != HostAdapters::end();
         ++entry) {
        SCOPED_TRACE(std::string(entry->package) + "." + entry->interface);
        EXPECT_EQ(HostAdapters::find(entry->package, entry->interface), entry);  // no duplicate
        const auto* header = static_cast<const umka_kabi_vtable_header*>(entry->vtable);
        EXPECT_EQ(header->version, entry->interface_version);
        EXPECT_GT(header->vtable_size, UMKA_KABI_VTABLE_HEADER_SIZE);
        EXPECT_NE(entry->dispatch, nullptr);
    }
}

TEST(RingAdapter, ConsumerCallsTheRingThroughItsSlotLikeADirectProvider) {
    NamedDevice device{"ttyA"};
    UmkaServiceRecord direct = record_of(device);
    UmkaServiceSlot shared{&direct};
    HostBinding binding(&shared);
    binding.start_provider();

    umka::kabi::Status status;
    EXPECT_EQ(info_name(&binding.slot, &status), "ttyA");
    EXPECT_TRUE(status.is_ok());
    char_device::CharDeviceRef ref;
    ASSERT_TRUE(umka::kabi::bind_service(&binding.slot, &ref).is_ok());
    uint64_t written = 0;
    EXPECT_TRUE(ref.write("hello", 5, &written).is_ok());
    EXPECT_EQ(written, 5u);
    EXPECT_EQ(ref.control(1, nullptr, 0), umka::kabi::Status(UMKA_KABI_ENOTTY));
    umka::ring::RingCounters counters = binding.caller.caller().pair().counters();
    EXPECT_EQ(counters.submitted, 3u);
    EXPECT_EQ(counters.completed, 3u);
    EXPECT_EQ(device.calls.load(), 1u);  // info ran in the provider, once
}

TEST(RingAdapter, ThreadsSharingOneBindingAreSerialised) {
    NamedDevice device{"ttyS"};
    UmkaServiceRecord direct = record_of(device);
    UmkaServiceSlot shared{&direct};
    HostBinding binding(&shared);
    binding.start_provider();

    constexpr int kThreads = 4;
    constexpr int kCalls = 300;
    std::atomic<int> failures{0};
    std::vector<std::thread> callers;
    for (int thread = 0; thread < kThreads; ++thread) {
        callers.emplace_back([&] {
            for (int call = 0; call < kCalls; ++call) {
                umka::kabi::Status status;
                if (info_name(&binding.slot, &status) != "ttyS" || status.is_error()) ++failures;
            }
        });
    }
    for (std::thread& caller : callers) caller.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(device.calls.load(), uint64_t(kThreads * kCalls));
    EXPECT_EQ(binding.caller.caller().misreleases(), 0u);
    EXPECT_EQ(binding.signals.stalls(), 0u);
}

TEST(RingAdapter, ARequestQueuedBeforeASwapIsAnsweredByTheNewProvider) {
    NamedDevice old_device{"old"};
    NamedDevice new_device{"new"};
    UmkaServiceRecord old_record = record_of(old_device);
    UmkaServiceRecord new_record = record_of(new_device);
    UmkaServiceSlot shared{&old_record};
    HostBinding binding(&shared);  // no provider thread: this test serves by hand

    std::string answer;
    std::thread consumer([&] { answer = info_name(&binding.slot); });
    while (binding.caller.caller().pair().counters().submitted == 0) std::this_thread::yield();
    // The live swap: one release store into the provider's shared slot.
    __atomic_store_n(&shared.record, &new_record, __ATOMIC_RELEASE);
    umka::Result<uint32_t> served =
        umka::ring::serve(binding.provider, binding.dispatch.dispatcher(), 1);
    consumer.join();
    ASSERT_TRUE(served.is_ok());
    EXPECT_EQ(served.value(), 1u);
    EXPECT_EQ(answer, "new");
    EXPECT_EQ(old_device.calls.load(), 0u);
    EXPECT_EQ(new_device.calls.load(), 1u);
}

TEST(RingAdapter, AnEmptyProviderSlotAnswersEnoent) {
    UmkaServiceSlot shared{nullptr};
    HostBinding binding(&shared);
    binding.start_provider();
    umka::kabi::Status status;
    (void)info_name(&binding.slot, &status);
    EXPECT_EQ(status, umka::kabi::Status(UMKA_KABI_ENOENT));
}

TEST(RingAdapter, CallsOnAClosedBindingFailWithEio) {
    NamedDevice device{"ttyC"};
    UmkaServiceRecord direct = record_of(device);
    UmkaServiceSlot shared{&direct};
    HostBinding binding(&shared);
    binding.start_provider();
    binding.caller.close();
    umka::kabi::Status status;
    (void)info_name(&binding.slot, &status);
    EXPECT_EQ(status, umka::kabi::Status(UMKA_KABI_EIO));
    // The lock was dropped on the failure path: a second call does not deadlock.
    (void)info_name(&binding.slot, &status);
    EXPECT_EQ(status, umka::kabi::Status(UMKA_KABI_EIO));
}

}  // namespace
