#include "nucleus/evolution/pause_hooks.h"

#include <gtest/gtest.h>

#include "test/host/module/manifest_builder.h"

namespace umka::evolution {
namespace {

Status prepare(const UmkaProvidedInterface&, modules::Diagnostic&) {
    return Status::ok();
}
Status dry_run(modules::Diagnostic&) {
    return Status::ok();
}
Status refresh(PauseWork, modules::Diagnostic&) {
    return Status::ok();
}
Status commit(StateCheck, PauseWork, SinceRefresh, modules::Diagnostic&) {
    return Status::ok();
}
void nothing() {}

constexpr PauseHook hook(const char* package, const char* interface) {
    return PauseHook{package, interface, prepare, dry_run, refresh,
                     commit,  nothing,   nothing, nothing, nullptr};
}

constexpr PauseHook kQueues = hook("sched_like", "Policy");
constexpr PauseHook kOther = hook("other", "Thing");
constexpr PauseHook kQueuesAgain = hook("sched_like", "Policy");

class PauseHooksTest : public ::testing::Test {
protected:
    void SetUp() override { clear_pause_hooks(); }
    void TearDown() override { clear_pause_hooks(); }

    modules::ManifestView parse(const std::vector<uint8_t>& bytes) {
        modules::Diagnostic diagnostic;
        Result<modules::ManifestView> view =
            modules::ManifestView::parse(bytes.data(), bytes.size(), diagnostic);
        EXPECT_TRUE(view.is_ok()) << diagnostic.text();
        return view.value();
    }
};

// The hook is found through what the replacement provides, by package and interface.
TEST_F(PauseHooksTest, FoundByTheProvidedInterface) {
    ASSERT_TRUE(register_pause_hook(kQueues).is_ok());
    ASSERT_TRUE(register_pause_hook(kOther).is_ok());
    auto bytes = test::ManifestBuilder("anything")
                     .provides("pkg.Unhooked", 1)
                     .provides("sched_like.Policy", 2)
                     .build();
    modules::ManifestView manifest = parse(bytes);
    EXPECT_EQ(pause_hook_for(manifest, 0), nullptr);
    EXPECT_EQ(pause_hook_for(manifest, 1), &kQueues);
}

TEST_F(PauseHooksTest, RefusesDuplicatesIncompleteHooksAndOverflow) {
    ASSERT_TRUE(register_pause_hook(kQueues).is_ok());
    EXPECT_EQ(register_pause_hook(kQueuesAgain).error(), Errno::Exists);
    PauseHook incomplete = hook("x", "Y");
    incomplete.commit = nullptr;
    EXPECT_EQ(register_pause_hook(incomplete).error(), Errno::InvalidArgument);
    static const PauseHook kMore[] = {hook("a", "A"), hook("b", "B"), hook("c", "C"),
                                      hook("d", "D")};
    EXPECT_TRUE(register_pause_hook(kMore[0]).is_ok());
    EXPECT_TRUE(register_pause_hook(kMore[1]).is_ok());
    EXPECT_TRUE(register_pause_hook(kMore[2]).is_ok());
    EXPECT_EQ(register_pause_hook(kMore[3]).error(), Errno::NoSpace);
}

}  // namespace
}  // namespace umka::evolution
