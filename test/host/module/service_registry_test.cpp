// ServiceRegistry: publish/find/bind/swap/retire/unpublish, version rules, the binding
// list, and callers going through a slot while a writer swaps providers under them.
#include "nucleus/module/service_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using ::testing::HasSubstr;
using umka::Errno;
using umka::modules::Diagnostic;
using umka::modules::ServiceBinding;
using umka::modules::ServiceBindingView;
using umka::modules::ServiceEntry;
using umka::modules::ServiceProvider;
using umka::modules::ServiceRecordCell;
using umka::modules::ServiceRegistry;
using umka::modules::ServiceRegistryStorage;

// A provider vtable in the KABI shape: header, then function pointers taking the context.
struct EchoVtable {
    uint32_t vtable_size;
    uint32_t version;
    uint64_t (*identity)(void* context);
};
struct EchoContext {
    uint64_t id;
};
uint64_t identity_of(void* context) {
    return static_cast<EchoContext*>(context)->id;
}

const umka_kabi_vtable_header* header(const EchoVtable& vtable) {
    return reinterpret_cast<const umka_kabi_vtable_header*>(&vtable);
}

struct Registry {
    explicit Registry(size_t services = 8, size_t records = 16, size_t bindings = 16)
        : service_storage(services),
          record_storage(records),
          binding_storage(bindings),
          registry(ServiceRegistryStorage{service_storage.data(), services, record_storage.data(),
                                          records, binding_storage.data(), bindings}) {}
    std::vector<ServiceEntry> service_storage;
    std::vector<ServiceRecordCell> record_storage;
    std::vector<ServiceBinding> binding_storage;
    ServiceRegistry registry;
    Diagnostic diagnostic;

    std::vector<std::string> listing() {
        std::vector<std::string> rows;
        registry.for_each_binding(
            [](void* context, const ServiceBindingView& row) {
                static_cast<std::vector<std::string>*>(context)->push_back(
                    std::string(row.consumer) + " -> " + row.provider + " " + row.package + "." +
                    row.name + " v" + std::to_string(row.provider_version) + " (needs " +
                    std::to_string(row.required_version) + ", transport " +
                    std::to_string(row.transport) + ")");
            },
            &rows);
        return rows;
    }
};

const EchoVtable echo_v1{sizeof(EchoVtable), 1, &identity_of};
const EchoVtable echo_v2{sizeof(EchoVtable), 2, &identity_of};
const EchoVtable echo_v3{sizeof(EchoVtable), 3, &identity_of};
EchoContext first_context{1}, second_context{2};

TEST(ServiceRegistry, PublishFindAndCallThroughTheSlot) {
    Registry r;
    auto slot = r.registry.publish(
        "demo", "Echo", ServiceProvider{"echo", header(echo_v2), &first_context, 2}, r.diagnostic);
    ASSERT_TRUE(slot.is_ok()) << r.diagnostic.text();
    EXPECT_EQ(r.registry.find("demo", "Echo", "echo").value(), slot.value());
    EXPECT_EQ(r.registry.find("demo", "Echo", nullptr).value(), slot.value());
    EXPECT_EQ(r.registry.find("demo", "Echo", "other").error(), Errno::NotFound);
    EXPECT_EQ(r.registry.find("demo", "Missing", nullptr).error(), Errno::NotFound);

    const UmkaServiceRecord* record = umka_service_slot_load(slot.value());
    ASSERT_NE(record, nullptr);
    EXPECT_EQ(record->interface_version, 2u);
    EXPECT_EQ(record->transport, UMKA_KABI_TRANSPORT_DIRECT);
    auto* vtable = reinterpret_cast<const EchoVtable*>(record->vtable);
    EXPECT_EQ(vtable->identity(record->context), 1u);
    EXPECT_EQ(r.registry.service_count(), 1u);
}

TEST(ServiceRegistry, PublishRefusals) {
    Registry r(1, 1);
    EchoVtable malformed = echo_v1;
    malformed.vtable_size = 12;
    EXPECT_EQ(r.registry
                  .publish("demo", "Echo", ServiceProvider{"echo", header(malformed), nullptr, 1},
                           r.diagnostic)
                  .error(),
              Errno::InvalidArgument);
    EXPECT_STREQ(r.diagnostic.text(),
                 "publishing demo.Echo from 'echo': vtable_size is not an 8-byte header plus "
                 "whole pointer slots");
    EXPECT_EQ(r.registry
                  .publish("demo", "Echo", ServiceProvider{"echo", header(echo_v1), nullptr, 2},
                           r.diagnostic)
                  .error(),
              Errno::InvalidArgument);
    EXPECT_THAT(r.diagnostic.text(), HasSubstr("below the version the manifest provides"));
    EXPECT_EQ(
        r.registry
            .publish("demo", "Echo", ServiceProvider{"echo", nullptr, nullptr, 1}, r.diagnostic)
            .error(),
        Errno::InvalidArgument);

    ASSERT_TRUE(r.registry
                    .publish("demo", "Echo", ServiceProvider{"echo", header(echo_v1), nullptr, 1},
                             r.diagnostic)
                    .is_ok());
    EXPECT_EQ(r.registry
                  .publish("demo", "Echo", ServiceProvider{"echo", header(echo_v1), nullptr, 1},
                           r.diagnostic)
                  .error(),
              Errno::Exists);
    EXPECT_STREQ(r.diagnostic.text(), "demo.Echo from 'echo' is already published");
    EXPECT_EQ(r.registry
                  .publish("demo", "Other", ServiceProvider{"echo", header(echo_v1), nullptr, 1},
                           r.diagnostic)
                  .error(),
              Errno::NoSpace);
}

TEST(ServiceRegistry, BindingsAreListedAndVersionChecked) {
    Registry r;
    UmkaServiceSlot* slot =
        r.registry
            .publish("char_device", "CharDevice",
                     ServiceProvider{"serial_console", header(echo_v1), &first_context, 1},
                     r.diagnostic)
            .value();
    EXPECT_EQ(r.registry.bind("console", 5, slot, 2, r.diagnostic).error(), Errno::InvalidArgument);
    EXPECT_STREQ(r.diagnostic.text(),
                 "module 'console' requires char_device.CharDevice >= 2 but 'serial_console' "
                 "provides version 1");
    ASSERT_TRUE(r.registry.bind("console", 5, slot, 1, r.diagnostic).is_ok());
    ASSERT_TRUE(r.registry.bind("login", 6, slot, 1, r.diagnostic).is_ok());
    EXPECT_EQ(r.listing(),
              (std::vector<std::string>{
                  "console -> serial_console char_device.CharDevice v1 (needs 1, transport 1)",
                  "login -> serial_console char_device.CharDevice v1 (needs 1, transport 1)"}));
    EXPECT_EQ(r.registry.binding_count(), 2u);
    UmkaServiceSlot foreign{};
    EXPECT_EQ(r.registry.bind("x", 9, &foreign, 1, r.diagnostic).error(), Errno::NotFound);

    EXPECT_EQ(r.registry.unpublish(slot, r.diagnostic).error(), Errno::Busy);
    EXPECT_STREQ(r.diagnostic.text(),
                 "char_device.CharDevice from 'serial_console' is in use by 'console'");
    r.registry.unbind_consumer(5);
    r.registry.unbind_consumer(6);
    EXPECT_EQ(r.registry.binding_count(), 0u);
    ASSERT_TRUE(r.registry.unpublish(slot, r.diagnostic).is_ok());
    EXPECT_EQ(umka_service_slot_load(slot), nullptr);
    EXPECT_EQ(r.registry.service_count(), 0u);
}

TEST(ServiceRegistry, AReservedSwapStoresLaterAndRechecksConsumersThatBoundSince) {
    Registry r(4, 3);
    UmkaServiceSlot* slot =
        r.registry
            .publish("demo", "Echo", ServiceProvider{"old", header(echo_v2), &first_context, 2},
                     r.diagnostic)
            .value();
    const UmkaServiceRecord* before = umka_service_slot_load(slot);
    // Reserved (every check, the record taken) with nothing stored yet.
    auto reserved = r.registry.reserve_swap(
        slot, ServiceProvider{"older", header(echo_v1), &second_context, 1}, r.diagnostic);
    ASSERT_TRUE(reserved.is_ok()) << r.diagnostic.text();
    EXPECT_EQ(umka_service_slot_load(slot), before);
    EXPECT_EQ(r.registry.free_record_count(), 1u);
    // A consumer needing version 2 binds before the commit: refused, slot untouched.
    ASSERT_TRUE(r.registry.bind("user", 1, slot, 2, r.diagnostic).is_ok());
    EXPECT_EQ(r.registry.commit_swap(slot, reserved.value(), "older", r.diagnostic).error(),
              Errno::InvalidArgument);
    EXPECT_STREQ(r.diagnostic.text(),
                 "swap of demo.Echo to 'older' version 1 refused: 'user' requires >= 2");
    EXPECT_EQ(umka_service_slot_load(slot), before);
    r.registry.retire(reserved.value());  // the unused reservation goes back
    EXPECT_EQ(r.registry.free_record_count(), 2u);
    // A reservation the consumers accept is stored by the commit.
    auto newer = r.registry.reserve_swap(
        slot, ServiceProvider{"new", header(echo_v3), &second_context, 3}, r.diagnostic);
    ASSERT_TRUE(newer.is_ok());
    auto old = r.registry.commit_swap(slot, newer.value(), "new", r.diagnostic);
    ASSERT_TRUE(old.is_ok()) << r.diagnostic.text();
    EXPECT_EQ(old.value(), before);
    EXPECT_EQ(umka_service_slot_load(slot), newer.value());
    EXPECT_STREQ(r.registry.entry_of(slot)->provider, "new");
    UmkaServiceSlot foreign{};
    EXPECT_EQ(r.registry
                  .reserve_swap(&foreign, ServiceProvider{"x", header(echo_v3), &second_context, 3},
                                r.diagnostic)
                  .error(),
              Errno::NotFound);
}

TEST(ServiceRegistry, SwapIsOneStoreAndRespectsConsumers) {
    Registry r(4, 3);
    UmkaServiceSlot* slot =
        r.registry
            .publish("demo", "Echo", ServiceProvider{"old", header(echo_v2), &first_context, 2},
                     r.diagnostic)
            .value();
    ASSERT_TRUE(r.registry.bind("user", 1, slot, 2, r.diagnostic).is_ok());
    const UmkaServiceRecord* before = umka_service_slot_load(slot);

    // Too old for a consumer: refused, slot untouched.
    auto refused = r.registry.swap(
        slot, ServiceProvider{"older", header(echo_v1), &second_context, 1}, r.diagnostic);
    EXPECT_EQ(refused.error(), Errno::InvalidArgument);
    EXPECT_STREQ(r.diagnostic.text(),
                 "swap of demo.Echo to 'older' version 1 refused: 'user' requires >= 2");
    EXPECT_EQ(umka_service_slot_load(slot), before);

    auto old = r.registry.swap(slot, ServiceProvider{"new", header(echo_v3), &second_context, 3},
                               r.diagnostic);
    ASSERT_TRUE(old.is_ok()) << r.diagnostic.text();
    EXPECT_EQ(old.value(), before);
    const UmkaServiceRecord* after = umka_service_slot_load(slot);
    EXPECT_EQ(after->interface_version, 3u);
    EXPECT_EQ(reinterpret_cast<const EchoVtable*>(after->vtable)->identity(after->context), 2u);
    EXPECT_STREQ(r.registry.entry_of(slot)->provider, "new");
    // The old record stays intact until retired (a caller may still hold it).
    EXPECT_EQ(before->interface_version, 2u);
    EXPECT_EQ(before->context, &first_context);
    EXPECT_EQ(r.registry.free_record_count(), 1u);

    // Records run out until the old ones are retired.
    auto third = r.registry.swap(slot, ServiceProvider{"third", header(echo_v3), &first_context, 3},
                                 r.diagnostic);
    ASSERT_TRUE(third.is_ok());
    EXPECT_EQ(
        r.registry
            .swap(slot, ServiceProvider{"fourth", header(echo_v3), &first_context, 3}, r.diagnostic)
            .error(),
        Errno::NoSpace);
    r.registry.retire(old.value());
    r.registry.retire(third.value());
    r.registry.retire(third.value());  // twice: ignored
    int not_a_record = 0;
    r.registry.retire(reinterpret_cast<const UmkaServiceRecord*>(&not_a_record));  // ignored
    EXPECT_EQ(r.registry.free_record_count(), 2u);
    EXPECT_TRUE(
        r.registry
            .swap(slot, ServiceProvider{"fourth", header(echo_v3), &first_context, 3}, r.diagnostic)
            .is_ok());
}

// Callers load the slot and call through it while a writer swaps between two providers. A
// caller must always see a matching (vtable, context) pair: the record is immutable and
// published with one release store. Records are retired only after the callers stopped
// (the host's stand-in for the nucleus's rendezvous).
TEST(ServiceRegistryConcurrency, CallersSeeWholeRecordsDuringSwaps) {
    constexpr int kSwaps = 20000;
    Registry r(2, kSwaps + 2, 2);
    static const EchoVtable first_vtable{sizeof(EchoVtable), 1, [](void* context) -> uint64_t {
                                             return static_cast<EchoContext*>(context)->id * 10 + 1;
                                         }};
    static const EchoVtable second_vtable{
        sizeof(EchoVtable), 1,
        [](void* context) -> uint64_t { return static_cast<EchoContext*>(context)->id * 10 + 2; }};
    UmkaServiceSlot* slot =
        r.registry
            .publish("demo", "Echo",
                     ServiceProvider{"first", header(first_vtable), &first_context, 1},
                     r.diagnostic)
            .value();
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> calls{0}, torn{0};
    std::vector<std::thread> callers;
    for (int caller = 0; caller < 2; ++caller) {
        callers.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                const UmkaServiceRecord* record = umka_service_slot_load(slot);
                uint64_t answer =
                    reinterpret_cast<const EchoVtable*>(record->vtable)->identity(record->context);
                // first_vtable with first_context: 11; second with second: 22.
                if (answer != 11 && answer != 22) torn.fetch_add(1);
                calls.fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    // Every 64 swaps the writer waits (bounded) until a caller has made a call, so swaps
    // and calls interleave even when the machine is busy and the callers start late.
    auto wait_for_a_call = [&](uint64_t seen) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (calls.load() == seen && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    };
    std::vector<const UmkaServiceRecord*> retired;
    uint64_t calls_before = calls.load();
    for (int swap = 0; swap < kSwaps; ++swap) {
        if (swap % 64 == 0) wait_for_a_call(calls.load());
        bool to_second = swap % 2 == 0;
        auto old = r.registry.swap(slot,
                                   ServiceProvider{to_second ? "second" : "first",
                                                   header(to_second ? second_vtable : first_vtable),
                                                   to_second ? &second_context : &first_context, 1},
                                   r.diagnostic);
        ASSERT_TRUE(old.is_ok()) << r.diagnostic.text();
        retired.push_back(old.value());
    }
    stop.store(true);
    for (auto& caller : callers) caller.join();
    for (const UmkaServiceRecord* record : retired) r.registry.retire(record);
    EXPECT_EQ(torn.load(), 0u);
    EXPECT_GT(calls.load(), calls_before);
    EXPECT_EQ(r.registry.free_record_count(), size_t(kSwaps + 2 - 1));
}

}  // namespace
