// Behaviour of the generated ring adapter table (kabi-gen --emit ring-table) over the test
// IDL: which interfaces it holds, in which order, and that an entry's adapter vtable and
// dispatch carry a call end to end. tests/golden/ring_adapter_table.hpp pins its text.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "umka/kabi/ring_adapter_table.hpp"

namespace consumer = umka::kabi::sample_consumer;
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

// The one Consumer provider: refuses a pair whose token is zero, records the last limit.
struct ConsumerImpl {
    static Status use_pair(void* context, const consumer::Pair* pair) {
        if (pair->token == umka::kabi::sample_device::Token{0}) return UMKA_KABI_EBUSY;
        *static_cast<uint64_t*>(context) = pair->first.limit;
        return Status::ok();
    }
};
constexpr consumer::ConsumerVtable kConsumerVtable = consumer::make_consumer_vtable<ConsumerImpl>();

// sample_device.Device (ring, tier 0..1, provided by sample_driver which allows ring) and
// sample_consumer.Consumer (default transport and tiers, its module allows every
// transport) are in; sample_device.Strict (transport(direct)) is not. Sorted by package.
TEST(GeneratedRingTable, HoldsTheRingCapableInterfacesSorted) {
    ASSERT_EQ(umka::kabi::kRingAdapterCount, 2u);
    EXPECT_STREQ(kTable[0].package, "sample_consumer");
    EXPECT_STREQ(kTable[0].interface, "Consumer");
    EXPECT_EQ(kTable[0].interface_version, consumer::ConsumerRef::interface_version);
    EXPECT_STREQ(kTable[1].package, "sample_device");
    EXPECT_STREQ(kTable[1].interface, "Device");
    EXPECT_EQ(kTable[1].interface_version, umka::kabi::sample_device::DeviceRef::interface_version);
    for (size_t index = 0; index < umka::kabi::kRingAdapterCount; ++index)
        EXPECT_STRNE(kTable[index].interface, "Strict");
}

// A consumer bound to an entry's adapter vtable reaches the provider through the entry's
// dispatch: the two halves of one entry belong together.
TEST(GeneratedRingTable, AnEntryCarriesACallEndToEnd) {
    const TableEntry& entry = kTable[0];
    uint64_t last_limit = 0;
    DispatchRing ring(entry, &kConsumerVtable, &last_limit);
    consumer::ConsumerRef ref;
    ASSERT_TRUE(consumer::ConsumerRef::bind(
                    static_cast<const consumer::ConsumerVtable*>(entry.vtable), &ring, &ref)
                    .is_ok());
    consumer::Pair pair{};
    pair.first.limit = 42;
    pair.token = umka::kabi::sample_device::Token{7};
    EXPECT_TRUE(ref.use_pair(&pair).is_ok());
    EXPECT_EQ(last_limit, 42u);
    pair.token = umka::kabi::sample_device::Token{0};
    EXPECT_EQ(ref.use_pair(&pair), Status(UMKA_KABI_EBUSY));
    EXPECT_EQ(ring.calls, 2u);
}

}  // namespace
