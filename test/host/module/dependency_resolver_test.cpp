// DependencyResolver: provider index, topological order, refusals (missing, too old,
// cycle), deferral when a provider fails, and re-resolution when a provider appears.
#include "nucleus/module/dependency_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "manifest_builder.h"

namespace {

using umka::Errno;
using umka::modules::DependencyResolver;
using umka::modules::Diagnostic;
using umka::modules::ManifestView;
using umka::modules::ModuleOutcome;
using umka::modules::ProviderChoice;
using umka::modules::ResolverModule;
using umka::modules::ResolverStorage;
using umka::test::ManifestBuilder;

// Owns manifests, storage and the resolver for one test.
class Bundle {
public:
    explicit Bundle(size_t capacity = 32, size_t choices = 128)
        : modules_(capacity), choices_(choices), order_(capacity) {
        nucleus_bytes_ = ManifestBuilder("nucleus")
                             .provides("kernel_services.Log", 1)
                             .provides("bus_access.PortIo", 1)
                             .build();
        Diagnostic diagnostic;
        nucleus_ =
            ManifestView::parse(nucleus_bytes_.data(), nucleus_bytes_.size(), diagnostic).value();
        resolver_.emplace(ResolverStorage{modules_.data(), modules_.size(), choices_.data(),
                                          choices_.size(), order_.data()},
                          &nucleus_);
    }

    size_t add(const ManifestBuilder& builder) {
        bytes_.push_back(builder.build());
        Diagnostic diagnostic;
        auto view = ManifestView::parse(bytes_.back().data(), bytes_.back().size(), diagnostic);
        EXPECT_TRUE(view.is_ok()) << diagnostic.text();
        auto index = resolver_->add(view.value(), diagnostic);
        EXPECT_TRUE(index.is_ok()) << diagnostic.text();
        return index.value();
    }

    DependencyResolver& resolver() { return *resolver_; }

    std::vector<std::string> order() {
        std::vector<std::string> names;
        for (size_t position = 0; position < resolver_->order_size(); ++position) {
            names.push_back(resolver_->manifest(resolver_->order_at(position)).name());
        }
        return names;
    }

    // Runs the load loop; `failing` modules fail. Returns the names in load order.
    std::vector<std::string> load_all(const std::vector<std::string>& failing = {}) {
        std::vector<std::string> loaded;
        for (size_t module; (module = resolver_->next_to_load()) != DependencyResolver::kNone;) {
            std::string name = resolver_->manifest(module).name();
            if (std::find(failing.begin(), failing.end(), name) != failing.end()) {
                resolver_->mark_failed(module,
                                       ("signature of '" + name + "' does not verify").c_str());
            } else {
                resolver_->mark_loaded(module);
                loaded.push_back(name);
            }
        }
        return loaded;
    }

private:
    std::vector<ResolverModule> modules_;
    std::vector<ProviderChoice> choices_;
    std::vector<uint16_t> order_;
    std::vector<uint8_t> nucleus_bytes_;
    ManifestView nucleus_;
    std::deque<std::vector<uint8_t>> bytes_;  // stable addresses for the views
    std::optional<DependencyResolver> resolver_;
};

ManifestBuilder module(const std::string& name) {
    return ManifestBuilder(name);
}

TEST(DependencyResolver, ProvidersLoadBeforeConsumers) {
    Bundle bundle;
    size_t console = bundle.add(module("console")
                                    .requires_("char_device.CharDevice", 1)
                                    .requires_("kernel_services.Log", 1));
    size_t vfs = bundle.add(module("vfs").provides("vfs.Filesystem", 1));
    size_t serial = bundle.add(
        module("serial").provides("char_device.CharDevice", 1).requires_("bus_access.PortIo", 1));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.order(), (std::vector<std::string>{"serial", "console", "vfs"}));
    EXPECT_STREQ(bundle.resolver().provider_name(console, 0), "serial");
    EXPECT_STREQ(bundle.resolver().provider_name(console, 1), "nucleus");
    EXPECT_EQ(bundle.resolver().provider_of(console, 1).module, ProviderChoice::kNucleus);
    EXPECT_EQ(bundle.resolver().provider_of(console, 0).module, serial);
    EXPECT_EQ(bundle.load_all(), (std::vector<std::string>{"serial", "console", "vfs"}));
    for (size_t index : {console, vfs, serial}) {
        EXPECT_EQ(bundle.resolver().outcome(index), ModuleOutcome::Loaded);
    }
}

TEST(DependencyResolver, LongChainInReverseBundleOrder) {
    Bundle bundle;
    bundle.add(module("d").requires_("p.C", 1));
    bundle.add(module("c").provides("p.C", 1).requires_("p.B", 1));
    bundle.add(module("b").provides("p.B", 1).requires_("p.A", 1));
    bundle.add(module("a").provides("p.A", 1));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.order(), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(DependencyResolver, MissingProviderIsRefusedByName) {
    Bundle bundle;
    size_t console = bundle.add(module("console").requires_("char_device.CharDevice", 2));
    size_t other = bundle.add(module("other"));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.resolver().outcome(console), ModuleOutcome::MissingProvider);
    EXPECT_STREQ(bundle.resolver().reason(console),
                 "module 'console' requires char_device.CharDevice >= 2 but no module provides it");
    EXPECT_EQ(bundle.order(), (std::vector<std::string>{"other"}));
    EXPECT_EQ(bundle.resolver().outcome(other), ModuleOutcome::Pending);
}

TEST(DependencyResolver, TooOldProviderIsRefusedNamingBoth) {
    Bundle bundle;
    size_t console = bundle.add(module("console").requires_("char_device.CharDevice", 2));
    bundle.add(module("serial_console").provides("char_device.CharDevice", 1));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.resolver().outcome(console), ModuleOutcome::VersionTooOld);
    EXPECT_STREQ(bundle.resolver().reason(console),
                 "module 'console' requires char_device.CharDevice >= 2 but 'serial_console' "
                 "provides version 1");
    // The nucleus's own too-old interface is named the same way.
    Bundle second;
    size_t driver = second.add(module("driver").requires_("kernel_services.Log", 3));
    second.resolver().resolve();
    EXPECT_STREQ(
        second.resolver().reason(driver),
        "module 'driver' requires kernel_services.Log >= 3 but 'nucleus' provides version 1");
}

TEST(DependencyResolver, NewestSatisfyingProviderWinsTiesGoToBundleOrder) {
    Bundle bundle;
    size_t consumer = bundle.add(module("consumer").requires_("p.X", 2));
    bundle.add(module("old").provides("p.X", 1));
    size_t first = bundle.add(module("first").provides("p.X", 3));
    bundle.add(module("second").provides("p.X", 3));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.resolver().provider_of(consumer, 0).module, first);
}

TEST(DependencyResolver, CycleIsRefusedNamingItsModules) {
    Bundle bundle;
    size_t a = bundle.add(module("a").provides("p.A", 1).requires_("p.B", 1));
    size_t b = bundle.add(module("b").provides("p.B", 1).requires_("p.A", 1));
    size_t user = bundle.add(module("user").requires_("p.A", 1));
    size_t free_module = bundle.add(module("free").provides("p.F", 1));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.resolver().outcome(a), ModuleOutcome::Cycle);
    EXPECT_EQ(bundle.resolver().outcome(b), ModuleOutcome::Cycle);
    EXPECT_STREQ(bundle.resolver().reason(a), "cycle: a -> b -> a");
    EXPECT_STREQ(bundle.resolver().reason(b), "cycle: a -> b -> a");
    EXPECT_EQ(bundle.resolver().outcome(user), ModuleOutcome::Deferred);
    EXPECT_STREQ(bundle.resolver().reason(user),
                 "deferred: requires p.A from 'a', which is on a dependency cycle");
    EXPECT_EQ(bundle.resolver().outcome(free_module), ModuleOutcome::Pending);
    EXPECT_EQ(bundle.load_all(), (std::vector<std::string>{"free"}));
}

TEST(DependencyResolver, ThreeModuleCycleBehindAnEntryModule) {
    Bundle bundle;
    size_t entry = bundle.add(module("entry").requires_("p.X", 1));
    size_t x = bundle.add(module("x").provides("p.X", 1).requires_("p.Y", 1));
    size_t y = bundle.add(module("y").provides("p.Y", 1).requires_("p.Z", 1));
    size_t z = bundle.add(module("z").provides("p.Z", 1).requires_("p.X", 1));
    bundle.resolver().resolve();
    for (size_t member : {x, y, z}) {
        EXPECT_EQ(bundle.resolver().outcome(member), ModuleOutcome::Cycle);
        EXPECT_STREQ(bundle.resolver().reason(member), "cycle: x -> y -> z -> x");
    }
    EXPECT_EQ(bundle.resolver().outcome(entry), ModuleOutcome::Deferred);
    EXPECT_EQ(bundle.resolver().order_size(), 0u);
}

TEST(DependencyResolver, FailedProviderDefersDependentsOnly) {
    Bundle bundle;
    size_t serial = bundle.add(module("serial").provides("char_device.CharDevice", 1));
    size_t console = bundle.add(
        module("console").provides("console.Shell", 1).requires_("char_device.CharDevice", 1));
    size_t login = bundle.add(module("login").requires_("console.Shell", 1));
    size_t timer = bundle.add(module("timer").provides("time.Timer", 1));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.load_all({"serial"}), (std::vector<std::string>{"timer"}));
    EXPECT_EQ(bundle.resolver().outcome(serial), ModuleOutcome::LoadFailed);
    EXPECT_STREQ(bundle.resolver().reason(serial), "signature of 'serial' does not verify");
    EXPECT_EQ(bundle.resolver().outcome(console), ModuleOutcome::Deferred);
    EXPECT_STREQ(bundle.resolver().reason(console),
                 "deferred: requires char_device.CharDevice from 'serial', which failed to load");
    EXPECT_EQ(bundle.resolver().outcome(login), ModuleOutcome::Deferred);
    EXPECT_STREQ(bundle.resolver().reason(login),
                 "deferred: requires console.Shell from 'console', which is deferred");
    EXPECT_EQ(bundle.resolver().outcome(timer), ModuleOutcome::Loaded);
}

TEST(DependencyResolver, DeferredModulesLoadWhenAProviderAppears) {
    Bundle bundle;
    bundle.add(module("serial").provides("char_device.CharDevice", 1));
    size_t console = bundle.add(module("console").requires_("char_device.CharDevice", 1));
    size_t later = bundle.add(module("needs_net").requires_("net.Device", 1));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.load_all({"serial"}), std::vector<std::string>{});
    EXPECT_EQ(bundle.resolver().outcome(console), ModuleOutcome::Deferred);
    EXPECT_EQ(bundle.resolver().outcome(later), ModuleOutcome::MissingProvider);

    // A replacement serial driver and a network driver arrive (say, a second bundle).
    size_t fallback = bundle.add(module("serial_fallback").provides("char_device.CharDevice", 1));
    bundle.add(module("net").provides("net.Device", 1));
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.resolver().provider_of(console, 0).module, fallback);
    EXPECT_EQ(bundle.load_all(),
              (std::vector<std::string>{"serial_fallback", "console", "net", "needs_net"}));
    EXPECT_EQ(bundle.resolver().outcome(console), ModuleOutcome::Loaded);
    EXPECT_EQ(bundle.resolver().outcome(later), ModuleOutcome::Loaded);
}

TEST(DependencyResolver, DuplicateNamesAndFullStorage) {
    Bundle bundle(2, 1);
    size_t first = bundle.add(module("same").provides("p.X", 1));
    size_t second = bundle.add(module("same").provides("p.Y", 1));
    EXPECT_EQ(bundle.resolver().outcome(second), ModuleOutcome::DuplicateName);
    EXPECT_STREQ(bundle.resolver().reason(second),
                 "module name 'same' is already used by bundle module #0");
    std::vector<uint8_t> third = ManifestBuilder("third").build();
    Diagnostic diagnostic;
    auto view = ManifestView::parse(third.data(), third.size(), diagnostic).value();
    auto added = bundle.resolver().add(view, diagnostic);
    EXPECT_EQ(added.error(), Errno::NoSpace);
    EXPECT_STREQ(diagnostic.text(), "resolver holds 2 modules; 'third' does not fit");
    bundle.resolver().resolve();
    EXPECT_EQ(bundle.order(), (std::vector<std::string>{"same"}));
    EXPECT_EQ(bundle.resolver().outcome(first), ModuleOutcome::Pending);

    Bundle small(4, 1);
    std::vector<uint8_t> greedy =
        ManifestBuilder("greedy").requires_("p.A", 1).requires_("p.B", 1).build();
    auto greedy_view = ManifestView::parse(greedy.data(), greedy.size(), diagnostic).value();
    EXPECT_EQ(small.resolver().add(greedy_view, diagnostic).error(), Errno::NoSpace);
    EXPECT_STREQ(diagnostic.text(),
                 "resolver holds 1 requires entries; the 2 of 'greedy' do not fit");
}

TEST(DependencyResolver, NextToLoadWaitsForTheCallerToMark) {
    Bundle bundle;
    bundle.add(module("a").provides("p.A", 1));
    bundle.add(module("b").requires_("p.A", 1));
    bundle.resolver().resolve();
    size_t first = bundle.resolver().next_to_load();
    EXPECT_EQ(bundle.resolver().next_to_load(), first);  // not marked yet: same answer
    bundle.resolver().mark_loaded(first);
    EXPECT_STREQ(bundle.resolver().manifest(bundle.resolver().next_to_load()).name(), "b");
}

// Randomised: acyclic bundles (module i only requires interfaces of modules j > i, listed
// in shuffled order) always load completely, each module after all its providers.
TEST(DependencyResolverProperty, RandomAcyclicBundlesLoadInDependencyOrder) {
    std::mt19937 random(4242);
    for (int round = 0; round < 200; ++round) {
        size_t count = 2 + random() % 20;
        std::vector<ManifestBuilder> builders;
        std::map<std::string, std::vector<std::string>> needs;
        for (size_t index = 0; index < count; ++index) {
            std::string name = "m" + std::to_string(index);
            builders.emplace_back(name);
            builders.back().provides("p.I" + std::to_string(index), 1);
        }
        for (size_t index = 0; index < count; ++index) {
            for (size_t other = index + 1; other < count; ++other) {
                if (random() % 4 == 0) {
                    builders[index].requires_("p.I" + std::to_string(other), 1);
                    needs["m" + std::to_string(index)].push_back("m" + std::to_string(other));
                }
            }
        }
        std::shuffle(builders.begin(), builders.end(), random);
        Bundle bundle(32, 512);
        for (const auto& builder : builders) bundle.add(builder);
        bundle.resolver().resolve();
        std::vector<std::string> loaded = bundle.load_all();
        ASSERT_EQ(loaded.size(), count) << "round " << round;
        for (const auto& [consumer, providers] : needs) {
            auto consumer_at = std::find(loaded.begin(), loaded.end(), consumer);
            for (const std::string& provider : providers) {
                EXPECT_LT(std::find(loaded.begin(), loaded.end(), provider), consumer_at)
                    << provider << " must load before " << consumer;
            }
        }
    }
}

}  // namespace
