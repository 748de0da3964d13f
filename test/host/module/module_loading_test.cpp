// The one load-and-bind sequence (nucleus/module/module_loading.h) on real fixture modules,
// signed here with a fresh key: every step refuses cleanly, and with a failure injected at
// every allocation and reservation in turn nothing leaks and nothing stays registered.
#include "nucleus/module/module_loading.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "module_harness.h"
#include "nucleus/crypto/module_signature.h"
#include "test/host/cpio_builder.h"

namespace umka::modules {
namespace {

std::string fixture(const char* name) {
    return std::string(UMKA_MODULE_FIXTURE_DIR) + "/" + name + ".so";
}

struct SigningKey {
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t secret_key[crypto_sign_SECRETKEYBYTES];
    SigningKey() {
        EXPECT_GE(sodium_init(), 0);
        crypto_sign_keypair(public_key, secret_key);
    }
    // The UMKASIG1 format (module_signature.h): image, signature, magic, length.
    std::string sign(const std::vector<uint8_t>& image) const {
        uint8_t signature[crypto_sign_BYTES];
        crypto_sign_detached(signature, nullptr, image.data(), image.size(), secret_key);
        std::string file(image.begin(), image.end());
        file.append(reinterpret_cast<const char*>(signature), sizeof signature);
        file.append(crypto::kModuleSignatureMagic, sizeof crypto::kModuleSignatureMagic);
        uint64_t length = image.size();
        for (int byte = 0; byte < 8; ++byte) file.push_back(char(length >> (8 * byte)));
        return file;
    }
};

// Allocations and module pages through the environment, each failing on demand.
class FakeEnvironment final : public LoadEnvironment {
public:
    explicit FakeEnvironment(harness::ModuleHarness& harness) : harness_(harness) {}

    Result<void*> allocate_zeroed(size_t bytes) override {
        if (allocations_++ == fail_allocation_at_) return Errno::OutOfMemory;
        void* memory = std::aligned_alloc(16, (bytes + 15) & ~size_t(15));
        std::memset(memory, 0, bytes);
        live_.insert(memory);
        return memory;
    }
    void free_zeroed(void* memory) override {
        if (memory == nullptr) return;
        EXPECT_EQ(live_.erase(memory), 1u) << "freed memory it did not allocate";
        std::free(memory);
    }
    const ModuleMemory& image_memory() override { return harness_.memory().memory(); }
    ServiceRegistry& registry() override { return harness_.registry(); }
    CapabilityTable& capabilities() override { return harness_.capabilities(); }
    void lock_tables() override { ++lock_depth_; }
    void unlock_tables() override {
        ASSERT_GT(lock_depth_, 0);
        --lock_depth_;
    }
    uint64_t read_cycles() override { return ++cycles_; }

    void fail_allocation_at(size_t index) {
        fail_allocation_at_ = index;
        allocations_ = 0;
    }
    size_t live_allocations() const { return live_.size(); }
    size_t allocations() const { return allocations_; }
    int lock_depth() const { return lock_depth_; }

private:
    harness::ModuleHarness& harness_;
    std::set<void*> live_;
    size_t allocations_ = 0;
    size_t fail_allocation_at_ = SIZE_MAX;
    int lock_depth_ = 0;
    uint64_t cycles_ = 0;
};

struct TableCounts {
    size_t services, bindings, free_records, capabilities;
    bool operator==(const TableCounts&) const = default;
};

class ModuleLoadingTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::vector<uint8_t> image;
        std::string error;
        ASSERT_TRUE(harness::read_file(fixture("counter_module"), image, &error)) << error;
        signed_counter_ = key_.sign(image);
        ASSERT_TRUE(harness::read_file(fixture("failing_entry_module"), image, &error)) << error;
        signed_failing_ = key_.sign(image);
        std::string tampered = signed_counter_;
        tampered[tampered.size() / 2] ^= 0x40;
        archive_ = ::umka::testing::make_archive({{"manifest.txt", "module counter.umod\n"},
                                                  {"counter.umod", signed_counter_},
                                                  {"failing.umod", signed_failing_},
                                                  {"tampered.umod", tampered}});
        inventory_ = bundle::build_inventory(
            archive_.data(), archive_.size(),
            bundle::InventoryStorage{entries_, bundle::kMaximumBundleEntries, requests_,
                                     bundle::kMaximumModuleRequests});
        ASSERT_TRUE(inventory_.usable());
        before_ = counts();
    }

    TableCounts counts() {
        return {harness_.registry().service_count(), harness_.registry().binding_count(),
                harness_.registry().free_record_count(), harness_.capabilities().live_count()};
    }

    // Nothing the sequence did is left behind.
    void expect_clean() {
        EXPECT_EQ(environment_.live_allocations(), 0u);
        EXPECT_EQ(harness_.memory().live_reservations(), 0u);
        EXPECT_EQ(environment_.lock_depth(), 0);
        EXPECT_EQ(counts(), before_);
    }

    // load_image then bind_image as boot does; on success everything is undone again the
    // way an unload does. Returns the step that refused (Done on success).
    LoadStep load_and_bind(const char* file, Errno* error = nullptr,
                           const SignatureCheck* checked = nullptr,
                           LoadProgress* progress_out = nullptr) {
        LoadProgress local_progress;
        LoadProgress& progress = progress_out != nullptr ? *progress_out : local_progress;
        Diagnostic diagnostic;
        ImageRequest request{&inventory_, file, key_.public_key, checked};
        Result<LoadedModule> image = load_image(environment_, request, progress, diagnostic);
        if (image.is_error()) {
            if (error != nullptr) *error = image.error();
            EXPECT_STRNE(diagnostic.text(), "");
            return progress.step;
        }
        ModuleBindingBlock* block = nullptr;
        BindOptions options;
        options.owner = 7;
        Status bound =
            bind_image(environment_, image.value(), options, block, progress, diagnostic);
        if (bound.is_error()) {
            if (error != nullptr) *error = bound.error();
            EXPECT_EQ(block, nullptr);
            EXPECT_STRNE(diagnostic.text(), "");
            unload_image(environment_, image.value());
            return progress.step;
        }
        EXPECT_NE(block, nullptr);
        EXPECT_EQ(progress.step, LoadStep::Done);
        EXPECT_GT(counts().services, before_.services);
        Diagnostic ignored;
        EXPECT_TRUE(
            unbind_instance(environment_, *block, image.value().manifest_view.name(), ignored)
                .is_ok());
        free_binding(environment_, block, image.value().manifest_view.state_count());
        EXPECT_EQ(block, nullptr);
        unload_image(environment_, image.value());
        return LoadStep::Done;
    }

    SigningKey key_;
    std::string signed_counter_;
    std::string signed_failing_;
    std::vector<uint8_t> archive_;
    bundle::Entry entries_[bundle::kMaximumBundleEntries];
    bundle::InventoryRequest requests_[bundle::kMaximumModuleRequests];
    bundle::Inventory inventory_;
    harness::ModuleHarness harness_;
    FakeEnvironment environment_{harness_};
    TableCounts before_{};
};

TEST_F(ModuleLoadingTest, LoadsBindsAndUndoesCompletely) {
    EXPECT_EQ(load_and_bind("counter.umod"), LoadStep::Done);
    expect_clean();
}

TEST_F(ModuleLoadingTest, FindRefusesANameNotInTheBundle) {
    Errno error = Errno::Ok;
    EXPECT_EQ(load_and_bind("counter.um", &error), LoadStep::Find);
    EXPECT_EQ(error, Errno::NotFound);
    expect_clean();
}

TEST_F(ModuleLoadingTest, SignatureRefusesATamperedFile) {
    Errno error = Errno::Ok;
    EXPECT_EQ(load_and_bind("tampered.umod", &error), LoadStep::Signature);
    EXPECT_EQ(error, Errno::ExecFormat);
    expect_clean();
}

const bundle::Entry& entry_named(const bundle::Inventory& inventory, const char* name) {
    const bundle::Entry* entry = inventory.find(name);
    EXPECT_NE(entry, nullptr) << name;
    return *entry;
}

uint64_t fixed_cycles() {
    static uint64_t now = 0;
    return now += 1000;
}

// A signature checked ahead (boot checks every file on every CPU at once) stands in for
// load_image's own check only for the very bytes and key it was made for.
TEST_F(ModuleLoadingTest, SignatureCheckedAheadIsUsedForTheSameFileAndKey) {
    const bundle::Entry& counter = entry_named(inventory_, "counter.umod");
    SignatureCheck check =
        check_signature(counter.data, counter.size, key_.public_key, fixed_cycles);
    ASSERT_EQ(check.error, Errno::Ok);
    EXPECT_EQ(check.cycles, 1000u);
    LoadProgress progress;
    EXPECT_EQ(load_and_bind("counter.umod", nullptr, &check, &progress), LoadStep::Done);
    EXPECT_EQ(progress.verify_cycles, 1000u);  // its figure, not a second check's
    expect_clean();

    const bundle::Entry& tampered = entry_named(inventory_, "tampered.umod");
    SignatureCheck refused =
        check_signature(tampered.data, tampered.size, key_.public_key, fixed_cycles);
    EXPECT_EQ(refused.error, Errno::ExecFormat);
    EXPECT_NE(refused.reason, nullptr);
    Errno error = Errno::Ok;
    EXPECT_EQ(load_and_bind("tampered.umod", &error, &refused), LoadStep::Signature);
    EXPECT_EQ(error, Errno::ExecFormat);
    expect_clean();
}

TEST_F(ModuleLoadingTest, SignatureCheckedAheadForOtherBytesOrKeyIsIgnored) {
    const bundle::Entry& counter = entry_named(inventory_, "counter.umod");
    SignatureCheck valid = check_signature(counter.data, counter.size, key_.public_key, nullptr);
    ASSERT_EQ(valid.error, Errno::Ok);
    // The counter's good verdict handed in for the tampered file: checked again, refused.
    Errno error = Errno::Ok;
    EXPECT_EQ(load_and_bind("tampered.umod", &error, &valid), LoadStep::Signature);
    EXPECT_EQ(error, Errno::ExecFormat);
    expect_clean();
    // A verdict made with another key (it refuses the counter) is not taken for this key.
    SigningKey other;
    SignatureCheck other_key =
        check_signature(counter.data, counter.size, other.public_key, nullptr);
    EXPECT_EQ(other_key.error, Errno::ExecFormat);
    EXPECT_EQ(load_and_bind("counter.umod", nullptr, &other_key), LoadStep::Done);
    expect_clean();
}

TEST_F(ModuleLoadingTest, ImageStepRefusesWhenNoPagesAreLeft) {
    harness_.memory().fail_next_reserve();
    EXPECT_EQ(load_and_bind("counter.umod"), LoadStep::Image);
    expect_clean();
    harness_.memory().fail_protect_after(1);
    EXPECT_EQ(load_and_bind("counter.umod"), LoadStep::Image);
    expect_clean();
}

TEST_F(ModuleLoadingTest, BindRefusalFromTheModuleLeavesNothing) {
    Errno error = Errno::Ok;
    EXPECT_EQ(load_and_bind("failing.umod", &error), LoadStep::Bind);
    expect_clean();
}

// Every allocation of the sequence fails in turn: each failure names its step and leaves
// nothing allocated, mapped or registered; past the last allocation the load succeeds.
TEST_F(ModuleLoadingTest, AllocationFailureAtEveryStepLeaksNothing) {
    std::vector<LoadStep> steps;
    for (size_t fail_at = 0;; ++fail_at) {
        ASSERT_LT(fail_at, 64u) << "the sequence never succeeded";
        environment_.fail_allocation_at(fail_at);
        Errno error = Errno::Ok;
        LoadStep step = load_and_bind("counter.umod", &error);
        expect_clean();
        if (step == LoadStep::Done) break;
        EXPECT_EQ(error, Errno::OutOfMemory) << load_step_name(step);
        steps.push_back(step);
    }
    // counter_module has one state region: its allocation, then the binding block's.
    EXPECT_EQ(steps, (std::vector<LoadStep>{LoadStep::StateRegions, LoadStep::BindingBlock}));
}

// A full capability table makes bind_module itself refuse midway (after some bindings).
TEST(ModuleLoadingTableTest, FullTablesRefuseAtBindAndLeaveNothing) {
    for (size_t capacity = 0; capacity < 4; ++capacity) {
        harness::ModuleHarness harness(capacity);
        FakeEnvironment environment(harness);
        SigningKey key;
        std::vector<uint8_t> image;
        std::string error;
        ASSERT_TRUE(harness::read_file(fixture("counter_module"), image, &error)) << error;
        auto archive = ::umka::testing::make_archive(
            {{"manifest.txt", "module c.umod\n"}, {"c.umod", key.sign(image)}});
        std::vector<bundle::Entry> entries(4);
        std::vector<bundle::InventoryRequest> requests(4);
        bundle::Inventory inventory =
            bundle::build_inventory(archive.data(), archive.size(),
                                    bundle::InventoryStorage{entries.data(), entries.size(),
                                                             requests.data(), requests.size()});
        size_t capabilities_before = harness.capabilities().live_count();
        size_t bindings_before = harness.registry().binding_count();
        LoadProgress progress;
        Diagnostic diagnostic;
        Result<LoadedModule> loaded = load_image(
            environment, ImageRequest{&inventory, "c.umod", key.public_key}, progress, diagnostic);
        ASSERT_TRUE(loaded.is_ok()) << diagnostic.text();
        ModuleBindingBlock* block = nullptr;
        BindOptions options;
        options.owner = 3;
        Status bound =
            bind_image(environment, loaded.value(), options, block, progress, diagnostic);
        if (bound.is_ok()) {
            Diagnostic ignored;
            ASSERT_TRUE(unbind_instance(environment, *block, "counter_module", ignored).is_ok());
            free_binding(environment, block, loaded.value().manifest_view.state_count());
        } else {
            EXPECT_EQ(progress.step, LoadStep::Bind) << capacity;
            EXPECT_EQ(block, nullptr);
        }
        unload_image(environment, loaded.value());
        EXPECT_EQ(environment.live_allocations(), 0u) << capacity;
        EXPECT_EQ(harness.memory().live_reservations(), 0u) << capacity;
        EXPECT_EQ(harness.capabilities().live_count(), capabilities_before) << capacity;
        EXPECT_EQ(harness.registry().binding_count(), bindings_before) << capacity;
        if (capacity == 0) {
            EXPECT_TRUE(bound.is_error());
        }
    }
}

// Live evolution binds a replacement next to the running instance: states the running
// instance has are handed over marked carried, withheld from the registry.
TEST_F(ModuleLoadingTest, PredecessorStatesAreMarkedCarriedAndWithheld) {
    LoadProgress progress;
    Diagnostic diagnostic;
    Result<LoadedModule> image =
        load_image(environment_, ImageRequest{&inventory_, "counter.umod", key_.public_key},
                   progress, diagnostic);
    ASSERT_TRUE(image.is_ok()) << diagnostic.text();
    ModuleBindingBlock* block = nullptr;
    BindOptions options;
    options.owner = 9;
    options.publication = Publication::Withhold;
    options.predecessor = &image.value().manifest_view;
    ASSERT_TRUE(
        bind_image(environment_, image.value(), options, block, progress, diagnostic).is_ok())
        << diagnostic.text();
    ASSERT_EQ(image.value().manifest_view.state_count(), 1u);
    EXPECT_EQ(block->states[0].origin, uint32_t(UMKA_STATE_ORIGIN_CARRIED));
    EXPECT_EQ(harness_.registry().service_count(), before_.services);  // withheld
    Diagnostic ignored;
    EXPECT_TRUE(unbind_instance(environment_, *block, "counter_module", ignored).is_ok());
    free_binding(environment_, block, 1);
    unload_image(environment_, image.value());
    expect_clean();
}

}  // namespace
}  // namespace umka::modules
