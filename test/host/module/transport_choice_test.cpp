// Tier and transport selection (nucleus/module/transport_choice.h): the boot manifest's
// request checked against the module's manifest, and the per-binding choice of ring or
// direct, including the real console_service and serial_console manifests.
#include "nucleus/module/transport_choice.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "manifest_builder.h"
#include "umka/kabi/console_service_manifest.hpp"
#include "umka/kabi/serial_console_manifest.hpp"

namespace {

using umka::Errno;
using umka::bundle::Transport;
using umka::modules::BindingChoice;
using umka::modules::BindingQuery;
using umka::modules::BindingTransport;
using umka::modules::Diagnostic;
using umka::modules::InterfaceEntry;
using umka::modules::ManifestView;
using umka::test::ManifestBuilder;

template <typename Manifest>
ManifestView view_of(const Manifest& manifest) {
    Diagnostic diagnostic;
    auto parsed = ManifestView::parse(&manifest, sizeof(manifest), diagnostic);
    EXPECT_TRUE(parsed.is_ok()) << diagnostic.text();
    return parsed.value();
}

ManifestView view_of_bytes(const std::vector<uint8_t>& bytes) {
    Diagnostic diagnostic;
    auto parsed = ManifestView::parse(bytes.data(), bytes.size(), diagnostic);
    EXPECT_TRUE(parsed.is_ok()) << diagnostic.text();
    return parsed.value();
}

const ManifestView& console_service() {
    static const ManifestView view = view_of(umka::kabi::console_service::console_service_manifest);
    return view;
}
const ManifestView& serial_console() {
    static const ManifestView view = view_of(umka::kabi::serial_console::serial_console_manifest);
    return view;
}

InterfaceEntry char_device_requirement() {
    const ManifestView& consumer = console_service();
    for (size_t index = 0; index < consumer.required_count(); ++index) {
        InterfaceEntry entry = consumer.required(index);
        if (std::strcmp(entry.package, "char_device") == 0) return entry;
    }
    ADD_FAILURE() << "console_service does not require char_device.CharDevice";
    return {};
}

BindingQuery console_over_ring() {
    return {1,   Transport::Ring, &console_service(), char_device_requirement(), &serial_console(),
            true};
}

TEST(RequestedPlacement, TheRealManifestsAllowTheConsoleOverARing) {
    Diagnostic diagnostic;
    EXPECT_TRUE(
        umka::modules::check_requested_placement(console_service(), 1, Transport::Ring, diagnostic)
            .is_ok())
        << diagnostic.text();
    EXPECT_TRUE(umka::modules::check_requested_placement(console_service(), 0, Transport::Direct,
                                                         diagnostic)
                    .is_ok());
    EXPECT_NE(serial_console().transport_mask() & UMKA_KABI_TRANSPORT_RING, 0);
}

TEST(RequestedPlacement, ATierOutsideTheRangeIsRefusedWithTheRange) {
    Diagnostic diagnostic;
    umka::Status status = umka::modules::check_requested_placement(serial_console(), 1,
                                                                   Transport::Direct, diagnostic);
    EXPECT_EQ(status, umka::Status(Errno::InvalidArgument));
    EXPECT_EQ(std::string(diagnostic.text()),
              "module 'serial_console': the boot manifest asks for tier 1, its manifest allows "
              "tiers 0..0");
}

TEST(RequestedPlacement, ATransportOutsideTheMaskIsRefusedNamingIt) {
    ManifestBuilder builder("plain");
    builder.header().max_tier = 1;  // transport stays direct only
    std::vector<uint8_t> bytes = builder.build();
    Diagnostic diagnostic;
    umka::Status status = umka::modules::check_requested_placement(view_of_bytes(bytes), 1,
                                                                   Transport::Ring, diagnostic);
    EXPECT_EQ(status, umka::Status(Errno::InvalidArgument));
    EXPECT_NE(std::string(diagnostic.text()).find("asks for transport ring"), std::string::npos)
        << diagnostic.text();
}

// Tier 2 / ipc would otherwise bind as a direct call in ring 0 without a word.
TEST(RequestedPlacement, TierTwoAndIpcAreRefusedUntilTheyExist) {
    ManifestBuilder builder("isolated");
    builder.header().max_tier = 2;
    builder.header().transport_mask =
        UMKA_KABI_TRANSPORT_DIRECT | UMKA_KABI_TRANSPORT_RING | UMKA_KABI_TRANSPORT_IPC;
    std::vector<uint8_t> bytes = builder.build();
    for (auto [tier, transport] : {std::pair{uint8_t(2), Transport::Ipc},
                                   std::pair{uint8_t(2), Transport::Direct},
                                   std::pair{uint8_t(1), Transport::Ipc}}) {
        Diagnostic diagnostic;
        umka::Status status = umka::modules::check_requested_placement(
            view_of_bytes(bytes), tier, transport, diagnostic);
        EXPECT_EQ(status, umka::Status(Errno::NotSupported));
        EXPECT_NE(std::string(diagnostic.text()).find("not implemented yet"), std::string::npos)
            << diagnostic.text();
    }
    Diagnostic diagnostic;
    EXPECT_TRUE(umka::modules::check_requested_placement(view_of_bytes(bytes), 1,
                                                         Transport::Ring, diagnostic)
                    .is_ok());
}

TEST(BindingTransportChoice, ConsoleToSerialAtTierOneIsARing) {
    BindingChoice choice = umka::modules::choose_binding_transport(console_over_ring());
    EXPECT_EQ(choice.transport, BindingTransport::Ring);
    EXPECT_EQ(choice.reason, nullptr);
}

TEST(BindingTransportChoice, TierZeroOrDirectTransportStaysDirectSilently) {
    BindingQuery query = console_over_ring();
    query.consumer_tier = 0;
    query.consumer_transport = Transport::Direct;
    BindingChoice choice = umka::modules::choose_binding_transport(query);
    EXPECT_EQ(choice.transport, BindingTransport::Direct);
    EXPECT_EQ(choice.reason, nullptr);
    query = console_over_ring();
    query.consumer_tier = 0;  // ring asked at tier 0: no ring (tier 1 is the ring tier)
    EXPECT_EQ(umka::modules::choose_binding_transport(query).transport, BindingTransport::Direct);
}

TEST(BindingTransportChoice, EachMissingPermissionKeepsItDirectWithAReason) {
    BindingQuery query = console_over_ring();
    query.adapter_available = false;
    BindingChoice choice = umka::modules::choose_binding_transport(query);
    EXPECT_EQ(choice.transport, BindingTransport::Direct);
    EXPECT_STREQ(choice.reason, "the nucleus has no ring adapter for the interface");

    query = console_over_ring();
    query.provider = nullptr;
    EXPECT_STREQ(umka::modules::choose_binding_transport(query).reason,
                 "the nucleus provides it (called in place)");

    query = console_over_ring();
    query.required.transport_mask = UMKA_KABI_TRANSPORT_DIRECT;
    EXPECT_STREQ(umka::modules::choose_binding_transport(query).reason,
                 "the interface is transport(direct) only");

    query = console_over_ring();
    query.required.max_tier = 0;
    EXPECT_STREQ(umka::modules::choose_binding_transport(query).reason,
                 "the interface's tier range excludes tier 1");

    std::vector<uint8_t> direct_only = ManifestBuilder("direct_provider").build();
    ManifestView direct_provider = view_of_bytes(direct_only);
    query = console_over_ring();
    query.provider = &direct_provider;
    EXPECT_STREQ(umka::modules::choose_binding_transport(query).reason,
                 "the provider's manifest does not allow ring");

    ManifestBuilder consumer_builder("direct_consumer");
    consumer_builder.header().max_tier = 1;
    std::vector<uint8_t> consumer_bytes = consumer_builder.build();
    ManifestView direct_consumer = view_of_bytes(consumer_bytes);
    query = console_over_ring();
    query.consumer = &direct_consumer;
    EXPECT_STREQ(umka::modules::choose_binding_transport(query).reason,
                 "the consumer's manifest does not allow ring");
}

}  // namespace
