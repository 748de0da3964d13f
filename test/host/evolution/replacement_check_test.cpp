// The Prepare rule: a replacement provides the same interfaces, at a version the current
// consumers can use; fewer, more or different interfaces and too old versions are refused
// with the interface named. A version below the running one is fine while the consumers
// accept it (A -> B -> A).
#include "nucleus/evolution/replacement_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test/host/module/manifest_builder.h"

namespace umka::evolution {
namespace {

using test::ManifestBuilder;

struct ParsedManifest {
    std::vector<uint8_t> bytes;
    modules::ManifestView view;
};

ParsedManifest parse(const ManifestBuilder& builder) {
    ParsedManifest parsed{builder.build(), {}};
    modules::Diagnostic diagnostic;
    Result<modules::ManifestView> view =
        modules::ManifestView::parse(parsed.bytes.data(), parsed.bytes.size(), diagnostic);
    EXPECT_TRUE(view.is_ok()) << diagnostic.text();
    if (view.is_ok()) parsed.view = view.value();
    return parsed;
}

struct Vtable {
    umka_kabi_vtable_header header;
    void* slot;
};

class ReplacementCheckTest : public ::testing::Test {
protected:
    void SetUp() override {
        // The running scheduler publishes scheduler_policy.SchedulerPolicy v3; a consumer
        // bound it needing >= 2.
        vtable_.header = umka_kabi_vtable_header{sizeof(Vtable), 3};
        modules::Diagnostic diagnostic;
        modules::ServiceProvider provider{"scheduler", &vtable_.header, nullptr, 3};
        Result<UmkaServiceSlot*> slot =
            registry_.publish("scheduler_policy", "SchedulerPolicy", provider, diagnostic);
        ASSERT_TRUE(slot.is_ok()) << diagnostic.text();
        slot_ = slot.value();
        ASSERT_TRUE(registry_.bind("nucleus", 0, slot_, 2, diagnostic).is_ok())
            << diagnostic.text();
    }

    Status check(const ManifestBuilder& replacement) {
        ParsedManifest current =
            parse(ManifestBuilder("scheduler").provides("scheduler_policy.SchedulerPolicy", 3));
        ParsedManifest offered = parse(replacement);
        const UmkaServiceSlot* published[1] = {slot_};
        return check_replacement(current.view, offered.view, published, registry_, diagnostic_);
    }

    Vtable vtable_{};
    modules::ServiceEntry services_[4]{};
    modules::ServiceRecordCell records_[8]{};
    modules::ServiceBinding bindings_[4]{};
    modules::ServiceRegistry registry_{
        modules::ServiceRegistryStorage{services_, 4, records_, 8, bindings_, 4}};
    UmkaServiceSlot* slot_ = nullptr;
    modules::Diagnostic diagnostic_;
};

TEST_F(ReplacementCheckTest, TheSameInterfaceAtTheSameOrANewerVersionIsAccepted) {
    EXPECT_TRUE(
        check(ManifestBuilder("scheduler", 2).provides("scheduler_policy.SchedulerPolicy", 3))
            .is_ok());
    EXPECT_TRUE(
        check(ManifestBuilder("scheduler", 2).provides("scheduler_policy.SchedulerPolicy", 4))
            .is_ok());
}

TEST_F(ReplacementCheckTest, AnOlderVersionTheConsumersAcceptIsAccepted) {
    EXPECT_TRUE(
        check(ManifestBuilder("scheduler").provides("scheduler_policy.SchedulerPolicy", 2)).is_ok())
        << diagnostic_.text();
}

TEST_F(ReplacementCheckTest, AVersionBelowWhatAConsumerNeedsIsRefused) {
    Status status =
        check(ManifestBuilder("scheduler").provides("scheduler_policy.SchedulerPolicy", 1));
    EXPECT_EQ(status.error(), Errno::InvalidArgument);
    EXPECT_NE(std::string(diagnostic_.text()).find("version 1 but its consumers need >= 2"),
              std::string::npos)
        << diagnostic_.text();
}

TEST_F(ReplacementCheckTest, ADifferentInterfaceIsRefused) {
    Status status = check(ManifestBuilder("kernel_heap").provides("memory.Heap", 1));
    EXPECT_EQ(status.error(), Errno::InvalidArgument);
    EXPECT_NE(
        std::string(diagnostic_.text()).find("does not provide scheduler_policy.SchedulerPolicy"),
        std::string::npos)
        << diagnostic_.text();
}

TEST_F(ReplacementCheckTest, MoreInterfacesThanTheRunningModuleAreRefused) {
    Status status = check(ManifestBuilder("scheduler")
                              .provides("scheduler_policy.SchedulerPolicy", 3)
                              .provides("memory.Heap", 1));
    EXPECT_EQ(status.error(), Errno::InvalidArgument);
    EXPECT_NE(std::string(diagnostic_.text()).find("provides exactly what it replaces"),
              std::string::npos);
}

}  // namespace
}  // namespace umka::evolution
