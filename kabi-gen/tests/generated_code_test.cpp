// Behaviour of generated code: vtable_size checks, strict binding, tombstones, ring
// marshal/dispatch/complete and the proxy, state migration, the manifest section.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "umka/kabi/sample_consumer.hpp"
#include "umka/kabi/sample_consumer_manifest.hpp"
#include "umka/kabi/sample_device.h"
#include "umka/kabi/sample_device.hpp"
#include "umka/kabi/sample_device_manifest.hpp"
#include "umka/kabi/sample_device_ring.hpp"
#include "umka/kabi/sample_device_state.hpp"

namespace device = umka::kabi::sample_device;
using umka::kabi::Status;

extern "C" const umka_sample_device_device_vtable* c_version1_provider(void);

namespace {

struct DeviceContext {
    device::Config config{};
    uint64_t counter = 0;
    uint32_t last_measure_length = 0;
    device::Mode poked = device::Mode::Idle;
};

DeviceContext& state_of(void* context) {
    return *static_cast<DeviceContext*>(context);
}

// Stateless, as modules must be: everything lives behind the context pointer.
struct DeviceImpl {
    static Status configure(void* context, const device::Config* config, device::Config* previous) {
        if (config->limit == 0) return UMKA_KABI_EINVAL;
        *previous = state_of(context).config;
        state_of(context).config = *config;
        return Status::ok();
    }
    static int32_t fill(void*, uint8_t pattern, void* data, uint64_t length, uint64_t* written) {
        std::memset(data, pattern, length);
        *written = length;
        return 0;
    }
    static uint64_t counter(void* context) { return ++state_of(context).counter; }
    static Status adjust(void*, uint32_t* value, int32_t delta) {
        int64_t next = static_cast<int64_t>(*value) + delta;
        if (next < 0 || next > 1000) return UMKA_KABI_ERANGE;
        *value = static_cast<uint32_t>(next);
        return Status::ok();
    }
    static uint32_t measure(void* context, const char* text, uint64_t length, device::Token token) {
        state_of(context).last_measure_length = static_cast<uint32_t>(length);
        return static_cast<uint32_t>(length + token.value + (text[0] == 'x' ? 1000 : 0));
    }
    static void poke(void* context, device::Mode mode) { state_of(context).poked = mode; }
};
static_assert(std::is_empty_v<DeviceImpl>);

constexpr device::DeviceVtable device_vtable = device::make_device_vtable<DeviceImpl>();

TEST(GeneratedVtable, HeaderCarriesSizeAndVersion) {
    EXPECT_EQ(device_vtable.vtable_size, sizeof(device::DeviceVtable));
    EXPECT_EQ(device_vtable.vtable_size, 8u + 7u * 8u);
    EXPECT_EQ(device_vtable.version, 3u);
    EXPECT_EQ(offsetof(device::DeviceVtable, configure), 8u);
    EXPECT_EQ(offsetof(device::DeviceVtable, poke), 56u);
}

TEST(GeneratedVtable, CallsReachTheImplementation) {
    DeviceContext context;
    device::DeviceRef ref;
    ASSERT_TRUE(device::DeviceRef::bind(&device_vtable, &context, &ref).is_ok());
    device::Config config{42, device::Mode::Active, {}, device::Caps::Read | device::Caps::Write};
    device::Config previous{};
    EXPECT_TRUE(ref.configure(&config, &previous).is_ok());
    EXPECT_EQ(context.config.limit, 42u);
    config.limit = 0;
    EXPECT_EQ(ref.configure(&config, &previous), Status(UMKA_KABI_EINVAL));
    EXPECT_EQ(ref.counter(), 1u);
    uint32_t value = 10;
    EXPECT_TRUE(ref.adjust(&value, 5).is_ok());
    EXPECT_EQ(value, 15u);
    EXPECT_EQ(ref.adjust(&value, -100), Status(UMKA_KABI_ERANGE));
    EXPECT_EQ(ref.measure("abc", 3, device::Token{4}), 7u);
    ref.poke(device::Mode::Active);
    EXPECT_EQ(context.poked, device::Mode::Active);
}

TEST(GeneratedVtable, OlderProviderGetsEnosysOrZeroForNewerMethods) {
    // A provider built against version 1 of the IDL, written in C.
    DeviceContext context;
    device::DeviceRef ref;
    const auto* vtable = reinterpret_cast<const device::DeviceVtable*>(c_version1_provider());
    ASSERT_TRUE(device::DeviceRef::bind(vtable, &context, &ref).is_ok());
    EXPECT_EQ(ref.provider_version(), 1u);
    EXPECT_TRUE(ref.has_fill());
    EXPECT_FALSE(ref.has_counter());
    EXPECT_FALSE(ref.has_poke());
    uint8_t buffer[4] = {};
    uint64_t written = 0;
    EXPECT_TRUE(ref.fill(0xab, buffer, sizeof(buffer), &written).is_ok());
    EXPECT_EQ(written, 4u);
    EXPECT_EQ(buffer[3], 0xab);
    EXPECT_EQ(ref.counter(), 0u);  // value method the provider lacks: zero
    uint32_t value = 1;
    EXPECT_EQ(ref.adjust(&value, 1), Status(UMKA_KABI_ENOSYS));
    EXPECT_EQ(value, 1u);
    ref.poke(device::Mode::Active);  // void method the provider lacks: no call
    // The tombstone slot an old consumer might still call answers ENOSYS.
    EXPECT_EQ(vtable->removed_reset(), UMKA_KABI_ENOSYS);
}

TEST(GeneratedVtable, BindRejectsMalformedHeaders) {
    device::DeviceRef ref;
    EXPECT_EQ(device::DeviceRef::bind(nullptr, nullptr, &ref), Status(UMKA_KABI_EINVAL));
    device::DeviceVtable broken = device_vtable;
    broken.vtable_size = 4;
    EXPECT_EQ(device::DeviceRef::bind(&broken, nullptr, &ref), Status(UMKA_KABI_EINVAL));
    broken.vtable_size = 12;  // not a whole number of slots
    EXPECT_EQ(device::DeviceRef::bind(&broken, nullptr, &ref), Status(UMKA_KABI_EINVAL));
    broken = device_vtable;
    broken.version = 0;
    EXPECT_EQ(device::DeviceRef::bind(&broken, nullptr, &ref), Status(UMKA_KABI_EINVAL));
    EXPECT_FALSE(ref.is_bound());
}

struct StrictImpl {
    static Status ping(void*) { return Status::ok(); }
    static Status pong(void*) { return UMKA_KABI_EIO; }
};

TEST(GeneratedVtable, StrictPolicyRefusesOlderProviders) {
    device::StrictVtable current = device::make_strict_vtable<StrictImpl>();
    device::StrictRef ref;
    ASSERT_TRUE(device::StrictRef::bind(&current, nullptr, &ref).is_ok());
    EXPECT_TRUE(ref.ping().is_ok());
    EXPECT_EQ(ref.pong(), Status(UMKA_KABI_EIO));
    device::StrictVtable older = current;
    older.vtable_size = 16;  // only ping
    older.version = 1;
    device::StrictRef refused;
    EXPECT_EQ(device::StrictRef::bind(&older, nullptr, &refused), Status(UMKA_KABI_ENOSYS));
    EXPECT_FALSE(refused.is_bound());
}

namespace ring = device::device_ring;

// A ring that dispatches synchronously on call(): enough to run proxy and dispatch
// end to end without the module system's real rings.
class LoopbackRing {
public:
    LoopbackRing(const device::DeviceVtable* vtable, void* context)
        : vtable_(vtable), context_(context) {}
    umka_kabi_ring_request* reserve() { return full ? nullptr : &request_; }
    const umka_kabi_ring_completion* call(umka_kabi_ring_request& entry) {
        entry.request_id = ++next_id_;
        if (torn_down) return nullptr;
        ring::dispatch(vtable_, context_, entry, completion_);
        EXPECT_EQ(completion_.request_id, entry.request_id);
        return &completion_;
    }
    void release(const umka_kabi_ring_completion&) { ++released; }

    bool full = false;
    bool torn_down = false;
    int released = 0;

private:
    const device::DeviceVtable* vtable_;
    void* context_;
    umka_kabi_ring_request request_{};
    umka_kabi_ring_completion completion_{};
    uint64_t next_id_ = 0;
};

TEST(GeneratedRing, ProxyRoundTripsEveryParameterKind) {
    DeviceContext context;
    LoopbackRing loopback(&device_vtable, &context);
    device::DeviceRingProxy<LoopbackRing> proxy(loopback);
    device::Config config{7, device::Mode::Active, {}, device::Caps::Read};
    device::Config previous{};
    EXPECT_TRUE(proxy.configure(&config, &previous).is_ok());  // in struct + out struct
    EXPECT_EQ(context.config.limit, 7u);
    EXPECT_EQ(proxy.configure(&config, &previous).is_ok(), true);
    EXPECT_EQ(previous.limit, 7u);
    EXPECT_EQ(previous.mode, device::Mode::Active);
    uint8_t buffer[16] = {};
    uint64_t written = 0;
    EXPECT_TRUE(proxy.fill(0x5a, buffer, sizeof(buffer), &written).is_ok());  // span + out scalar
    EXPECT_EQ(written, 16u);
    EXPECT_EQ(buffer[15], 0x5a);
    EXPECT_EQ(proxy.counter(), 1u);  // value result
    uint32_t value = 100;
    EXPECT_TRUE(proxy.adjust(&value, -1).is_ok());  // inout
    EXPECT_EQ(value, 99u);
    EXPECT_EQ(proxy.adjust(&value, 5000), Status(UMKA_KABI_ERANGE));
    EXPECT_EQ(value, 99u);                                        // not written back on error
    EXPECT_EQ(proxy.measure("xyz", 3, device::Token{1}), 1004u);  // string span + handle
    proxy.poke(device::Mode::Active);
    EXPECT_EQ(context.poked, device::Mode::Active);
    EXPECT_EQ(loopback.released, 8);
}

TEST(GeneratedRing, ProxyReportsTransportFailures) {
    DeviceContext context;
    LoopbackRing loopback(&device_vtable, &context);
    device::DeviceRingProxy<LoopbackRing> proxy(loopback);
    loopback.full = true;
    uint32_t value = 1;
    EXPECT_EQ(proxy.adjust(&value, 1), Status(UMKA_KABI_EAGAIN));
    EXPECT_EQ(proxy.counter(), 0u);
    loopback.full = false;
    loopback.torn_down = true;
    EXPECT_EQ(proxy.adjust(&value, 1), Status(UMKA_KABI_EIO));
}

// The adapter vtable: a consumer bound to (&DeviceRingVtable<Ring>::vtable, &ring) through
// the ordinary DeviceRef reaches the provider over the ring, every method and parameter
// kind, and sees transport failures as the proxy reports them.
TEST(GeneratedRing, AdapterVtableMakesARingLookLikeADirectProvider) {
    DeviceContext context;
    LoopbackRing loopback(&device_vtable, &context);
    const device::DeviceVtable* adapter = &device::DeviceRingVtable<LoopbackRing>::vtable;
    EXPECT_EQ(adapter->vtable_size, sizeof(device::DeviceVtable));
    EXPECT_EQ(adapter->version, device::DeviceRef::interface_version);
    device::DeviceRef ref;
    ASSERT_TRUE(device::DeviceRef::bind(adapter, &loopback, &ref).is_ok());
    device::Config config{11, device::Mode::Active, {}, device::Caps::Write};
    device::Config previous{};
    EXPECT_TRUE(ref.configure(&config, &previous).is_ok());
    EXPECT_EQ(context.config.limit, 11u);
    uint8_t buffer[8] = {};
    uint64_t written = 0;
    EXPECT_TRUE(ref.fill(0x3c, buffer, sizeof(buffer), &written).is_ok());
    EXPECT_EQ(written, 8u);
    EXPECT_EQ(buffer[7], 0x3c);
    EXPECT_EQ(ref.counter(), 1u);
    uint32_t value = 10;
    EXPECT_TRUE(ref.adjust(&value, 2).is_ok());
    EXPECT_EQ(value, 12u);
    EXPECT_EQ(ref.adjust(&value, 5000), Status(UMKA_KABI_ERANGE));
    EXPECT_EQ(ref.measure("abcd", 4, device::Token{2}), 6u);
    ref.poke(device::Mode::Active);
    EXPECT_EQ(context.poked, device::Mode::Active);
    EXPECT_EQ(loopback.released, 7);  // every completion handed back
    EXPECT_EQ(adapter->removed_reset(), UMKA_KABI_ENOSYS);  // the tombstone stays one
    loopback.full = true;
    EXPECT_EQ(ref.adjust(&value, 1), Status(UMKA_KABI_EAGAIN));
    loopback.full = false;
    loopback.torn_down = true;
    EXPECT_EQ(ref.adjust(&value, 1), Status(UMKA_KABI_EIO));
    EXPECT_EQ(ref.counter(), 0u);
}

TEST(GeneratedRing, DispatchRejectsBadEntries) {
    DeviceContext context;
    umka_kabi_ring_request request{};
    umka_kabi_ring_completion completion{};
    request.request_id = 9;
    request.opcode = 99;  // no such method
    ring::dispatch(&device_vtable, &context, request, completion);
    EXPECT_EQ(completion.request_id, 9u);
    EXPECT_EQ(completion.status, UMKA_KABI_ENOSYS);
    request.opcode = 2;  // the tombstone
    ring::dispatch(&device_vtable, &context, request, completion);
    EXPECT_EQ(completion.status, UMKA_KABI_ENOSYS);
    uint32_t adjust_value = 3;
    ring::marshal_adjust(request, &adjust_value, 1);
    request.payload_size += 1;  // corrupt size
    ring::dispatch(&device_vtable, &context, request, completion);
    EXPECT_EQ(completion.status, UMKA_KABI_EBADMSG);
    // A completion for another opcode is refused by the caller side.
    completion.opcode = 0;
    completion.status = 0;
    uint32_t value = 0;
    EXPECT_EQ(ring::complete_adjust(completion, &value), Status(UMKA_KABI_EBADMSG));
}

TEST(GeneratedRing, DispatchAgainstOlderProviderAnswersEnosys) {
    DeviceContext context;
    const auto* old_vtable = reinterpret_cast<const device::DeviceVtable*>(c_version1_provider());
    umka_kabi_ring_request request{};
    umka_kabi_ring_completion completion{};
    ring::marshal_counter(request);
    ring::dispatch(old_vtable, &context, request, completion);
    EXPECT_EQ(completion.status, UMKA_KABI_ENOSYS);
}

// --- State migration ---------------------------------------------------------------

struct Hooks {
    static int hook_calls;
    static Status migrate_device_state_from_v2(const device::DeviceStateV2& old_state,
                                               device::DeviceStateV3& next) {
        ++hook_calls;
        next.count = old_state.count;
        next.level = old_state.level + old_state.old_flags;  // fold the retired field in
        next.threshold = 77;
        return Status::ok();
    }
};
int Hooks::hook_calls = 0;

struct FailingHooks {
    static Status migrate_device_state_from_v2(const device::DeviceStateV2&,
                                               device::DeviceStateV3&) {
        return UMKA_KABI_EINVAL;
    }
};

TEST(GeneratedState, VersionLayouts) {
    EXPECT_EQ(sizeof(device::DeviceStateV1), 16u);
    EXPECT_EQ(sizeof(device::DeviceStateV2), 24u);
    EXPECT_EQ(sizeof(device::DeviceStateV3), 24u);
    EXPECT_EQ(device::device_state_version, 3u);
}

TEST(GeneratedState, ImportsCurrentVersionAsIs) {
    device::DeviceState saved{5, 6, 7};
    device::DeviceState loaded{};
    EXPECT_TRUE(device::import_device_state<Hooks>(&saved, sizeof(saved), 3, &loaded).is_ok());
    EXPECT_EQ(loaded.count, 5u);
    EXPECT_EQ(loaded.threshold, 7u);
}

TEST(GeneratedState, AppendOnlyStepZeroExtendsThenHookRuns) {
    Hooks::hook_calls = 0;
    device::DeviceStateV1 saved{11, 3, 0};
    device::DeviceState loaded{1, 1, 1};
    ASSERT_TRUE(device::import_device_state<Hooks>(&saved, sizeof(saved), 1, &loaded).is_ok());
    // v1 -> v2 zero-extends level; v2 -> v3 runs the hook: level = 0 + old_flags.
    EXPECT_EQ(Hooks::hook_calls, 1);
    EXPECT_EQ(loaded.count, 11u);
    EXPECT_EQ(loaded.level, 3u);
    EXPECT_EQ(loaded.threshold, 77u);
}

TEST(GeneratedState, RejectsWrongSizesAndFailingHooks) {
    device::DeviceStateV2 saved{1, 2, 3, 4};
    device::DeviceState loaded{};
    EXPECT_EQ(device::import_device_state<Hooks>(&saved, sizeof(saved) - 1, 2, &loaded),
              Status(UMKA_KABI_EINVAL));
    EXPECT_EQ(device::import_device_state<Hooks>(&saved, sizeof(saved), 0, &loaded),
              Status(UMKA_KABI_EINVAL));
    EXPECT_EQ(device::import_device_state<FailingHooks>(&saved, sizeof(saved), 2, &loaded),
              Status(UMKA_KABI_EINVAL));
}

TEST(GeneratedState, NewerStateFollowsThePolicy) {
    // Flexible: a newer (longer) state keeps the known prefix.
    uint64_t newer[4] = {1, 2, 3, 4};
    device::DeviceState loaded{};
    EXPECT_TRUE(device::import_device_state<Hooks>(newer, sizeof(newer), 4, &loaded).is_ok());
    EXPECT_EQ(loaded.threshold, 3u);
    // Strict: refused.
    device::StrictState strict{};
    EXPECT_EQ(
        device::import_strict_state<umka::kabi::NoMigrationHooks>(newer, sizeof(newer), 2, &strict),
        Status(UMKA_KABI_EINVAL));
    EXPECT_TRUE(
        device::import_strict_state<umka::kabi::NoMigrationHooks>(newer, 8, 1, &strict).is_ok());
    EXPECT_EQ(strict.value, 1u);
}

}  // namespace

// --- Manifest ------------------------------------------------------------------------

// At namespace scope, as a module would: places the manifest in .kabi_manifest.
UMKA_KABI_DEFINE_MANIFEST_SAMPLE_DRIVER();

namespace {

TEST(GeneratedManifest, DescribesTheModule) {
    const auto& manifest = umka_kabi_manifest_sample_driver;
    EXPECT_EQ(manifest.header.magic, UMKA_KABI_MANIFEST_MAGIC);
    EXPECT_STREQ(manifest.header.name, "sample_driver");
    EXPECT_EQ(manifest.header.module_version, 4u);
    EXPECT_EQ(manifest.header.transport_mask,
              UMKA_KABI_TRANSPORT_DIRECT | UMKA_KABI_TRANSPORT_RING);
    EXPECT_EQ(manifest.header.min_tier, 0);
    EXPECT_EQ(manifest.header.max_tier, 1);
    EXPECT_EQ(manifest.header.provides_count, 2);
    EXPECT_EQ(manifest.header.requires_count, 0);
    EXPECT_EQ(manifest.header.total_size, sizeof(manifest));
    EXPECT_STREQ(manifest.provides[0].package, "sample_device");
    EXPECT_STREQ(manifest.provides[0].name, "Device");
    EXPECT_EQ(manifest.provides[0].version, 3u);
    EXPECT_STREQ(manifest.states[0].name, "DeviceState");
    EXPECT_EQ(manifest.states[0].version, 3u);
    EXPECT_EQ(manifest.states[0].size, sizeof(device::DeviceState));
}

TEST(GeneratedManifest, RequiresCarryMinimumVersions) {
    const auto& manifest = umka::kabi::sample_consumer::sample_consumer_manifest;
    ASSERT_EQ(manifest.header.requires_count, 1);
    EXPECT_STREQ(manifest.requires_[0].package, "sample_device");
    EXPECT_EQ(manifest.requires_[0].version, 2u);
}

TEST(GeneratedTypes, FlagsAndHandles) {
    device::Caps caps = device::Caps::Read | device::Caps::Write;
    EXPECT_TRUE(device::any(caps & device::Caps::Write));
    EXPECT_FALSE(device::any(caps & ~caps));
    EXPECT_EQ(device::Token{3}, device::Token{3});
    EXPECT_EQ(alignof(device::Line), 64u);
    EXPECT_EQ(sizeof(umka::kabi::sample_consumer::Pair), 32u);
}

}  // namespace
