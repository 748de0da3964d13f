// Behaviour of the generated ring adapter table (kabi-gen --emit ring-table) over the test
// IDL: which interfaces it holds, in which order, and that an entry's adapter vtable and
// dispatch carry a call end to end. tests/golden/ring_adapter_table.hpp pins its text.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "umka/kabi/ring_adapter_table.hpp"

namespace device = umka::kabi::sample_device;
using umka::kabi::Status;

namespace {

using EntryDispatch = void (*)(const void* vtable, void* context,
                               const umka_kabi_ring_request& request,
                               umka_kabi_ring_completion& completion);

struct TableEntry {
    const char* package;
    const char* interface;
    const void* vtable;
    uint32_t interface_version;
    EntryDispatch dispatch;
};

// A ring that runs the request through an entry's dispatch at once, against a provider.
class DispatchRing {
public:
    DispatchRing(const TableEntry& entry, const void* provider_vtable, void* provider_context)
        : entry_(entry), provider_vtable_(provider_vtable), provider_context_(provider_context) {}
    umka_kabi_ring_request* reserve() { return &request_; }
    const umka_kabi_ring_completion* call(umka_kabi_ring_request& entry) {
        entry.request_id = ++calls;
        entry_.dispatch(provider_vtable_, provider_context_, entry, completion_);
        return &completion_;
    }
    void release(const umka_kabi_ring_completion&) {}

    uint64_t calls = 0;

private:
    const TableEntry& entry_;
    const void* provider_vtable_;
    void* provider_context_;
    umka_kabi_ring_request request_{};
    umka_kabi_ring_completion completion_{};
};

struct TestBuilder {
    using Adapter = TableEntry;
    using Caller = DispatchRing;

    template <typename Vtable, auto Dispatch>
    static void run(const void* vtable, void* context, const umka_kabi_ring_request& request,
                    umka_kabi_ring_completion& completion) {
        Dispatch(static_cast<const Vtable*>(vtable), context, request, completion);
    }

    template <typename Vtable, auto Dispatch>
    static constexpr TableEntry entry(const char* package, const char* interface,
                                      const void* adapter_vtable, uint32_t interface_version) {
        return {package, interface, adapter_vtable, interface_version, &run<Vtable, Dispatch>};
    }
};

constexpr const TableEntry* kTable = umka::kabi::kRingAdapters<TestBuilder>;

// A Device provider: counts, and refuses an adjustment past 1000.
struct DeviceImpl {
    static Status configure(void*, const device::Config*, device::Config* previous) {
        *previous = device::Config{};
        return Status::ok();
    }
    static Status fill(void*, uint8_t pattern, void* data, uint64_t length, uint64_t* written) {
        std::memset(data, pattern, length);
        *written = length;
        return Status::ok();
    }
    static uint64_t counter(void* context) { return ++*static_cast<uint64_t*>(context); }
    static Status adjust(void*, uint32_t* value, int32_t delta) {
        int64_t next = static_cast<int64_t>(*value) + delta;
        if (next < 0 || next > 1000) return UMKA_KABI_ERANGE;
        *value = static_cast<uint32_t>(next);
        return Status::ok();
    }
    static uint32_t measure(void*, const char*, uint64_t length, device::Token) {
        return static_cast<uint32_t>(length);
    }
    static void poke(void*, device::Mode) {}
};
constexpr device::DeviceVtable kDeviceVtable = device::make_device_vtable<DeviceImpl>();

// sample_device.Device is in: ring, tiers 0..1, provided by sample_driver (allows ring),
// required by sample_consumer (every transport and tier by default). Left out:
// sample_device.Strict (transport(direct)) and sample_consumer.Consumer (nobody requires it).
TEST(GeneratedRingTable, HoldsOnlyWhatARingCanCarry) {
    ASSERT_EQ(umka::kabi::kRingAdapterCount, 1u);
    EXPECT_STREQ(kTable[0].package, "sample_device");
    EXPECT_STREQ(kTable[0].interface, "Device");
    EXPECT_EQ(kTable[0].interface_version, device::DeviceRef::interface_version);
    const auto* header = static_cast<const umka_kabi_vtable_header*>(kTable[0].vtable);
    EXPECT_EQ(header->vtable_size, sizeof(device::DeviceVtable));
}

// A consumer bound to an entry's adapter vtable reaches the provider through the entry's
// dispatch: the two halves of one entry belong together.
TEST(GeneratedRingTable, AnEntryCarriesACallEndToEnd) {
    const TableEntry& entry = kTable[0];
    uint64_t count = 0;
    DispatchRing ring(entry, &kDeviceVtable, &count);
    device::DeviceRef ref;
    ASSERT_TRUE(
        device::DeviceRef::bind(static_cast<const device::DeviceVtable*>(entry.vtable), &ring, &ref)
            .is_ok());
    EXPECT_EQ(ref.counter(), 1u);
    EXPECT_EQ(ref.counter(), 2u);
    EXPECT_EQ(count, 2u);
    uint32_t value = 10;
    EXPECT_TRUE(ref.adjust(&value, 5).is_ok());
    EXPECT_EQ(value, 15u);
    EXPECT_EQ(ref.adjust(&value, 5000), Status(UMKA_KABI_ERANGE));
    uint8_t buffer[4] = {};
    uint64_t written = 0;
    EXPECT_TRUE(ref.fill(0x7e, buffer, sizeof buffer, &written).is_ok());
    EXPECT_EQ(written, 4u);
    EXPECT_EQ(buffer[3], 0x7e);
    EXPECT_EQ(ring.calls, 5u);
}

}  // namespace
