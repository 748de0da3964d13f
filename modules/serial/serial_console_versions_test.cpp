// serial_console.umod (SerialState version 1) and serial_console-v2.umod (version 2) on one
// 16550 model, swapped both ways as the nucleus's evolve does it: the replacement is bound
// withheld on a fresh state region, its registered import function takes the
// predecessor's SerialState (dry run into scratch, then commit), the service slots switch
// and the predecessor is unloaded. Buffered bytes and counters survive every swap; version
// 2's new counter is derived on the way up and its TIOCGICOUNT answer is what changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "module_harness.h"
#include "uart16550_model.h"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/serial_console_state.hpp"

namespace {

using umka::harness::HostModule;
using umka::harness::LoadOptions;
using umka::harness::ModuleHarness;
using umka::test::HostPortIo;
using umka::test::Uart16550Model;
namespace chardev = umka::kabi::char_device;
namespace bus = umka::kabi::bus_access;
namespace schema = umka::kabi::serial_console;

static_assert(schema::serial_state_version == 2, "compiled against version 2's headers");

constexpr auto kNonBlocking =
    chardev::OpenMode::Read | chardev::OpenMode::Write | chardev::OpenMode::NonBlocking;
constexpr uint32_t kTiocGetInterruptCounts = 0x545D;

class SerialVersions : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(port_io_.publish().is_ok()) << harness_.last_reason();
        module_ = harness_.load(UMKA_SERIAL_V1_MODULE);
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        port_io_.grant(*module_);
        ASSERT_NO_FATAL_FAILURE(bind());
    }
    void bind() {
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "char_device", "CharDevice", &device_).is_ok());
        ASSERT_TRUE(harness_.bind_provided(*module_, "bus_access", "IrqHandler", &irq_).is_ok());
    }

    // The nucleus's part of `evolve serial_console <path>` for a replacement whose manifest
    // declares SerialState `new_version` of `new_size` bytes; the import's status (the old
    // module keeps serving when it is not 0).
    int32_t evolve(const char* path, uint32_t new_version, uint64_t new_size) {
        const UmkaStateRegion& old_region = module_->states[0];
        uint64_t old_size = module_->manifest().state(0).size;
        std::shared_ptr<void> fresh(aligned_alloc(64, (new_size + 63) & ~uint64_t(63)), &::free);
        memset(fresh.get(), 0, new_size);
        LoadOptions options;
        options.carried_states = {UmkaStateRegion{fresh.get(), new_size, new_version,
                                                  UMKA_STATE_ORIGIN_FRESH}};
        options.carried_memory = {fresh};
        options.publication = umka::modules::Publication::Withhold;
        HostModule* replacement = harness_.load(path, options);
        EXPECT_NE(replacement, nullptr) << harness_.last_reason();
        if (replacement == nullptr) return -1;
        UmkaStateImportFunction import = replacement->block->binding.import_state;
        EXPECT_NE(import, nullptr);
        if (import == nullptr) return -1;

        std::vector<uint8_t> scratch(new_size + 64);
        UmkaStateImport request{0, old_region.schema_version, old_region.base, old_size,
                                scratch.data(), new_size, UMKA_STATE_IMPORT_DRY_RUN, 0};
        if (int32_t status = import(&request); status != 0) {
            EXPECT_TRUE(harness_.unload(replacement).is_ok());
            return status;
        }
        request.new_base = fresh.get();
        request.mode = UMKA_STATE_IMPORT_COMMIT;
        EXPECT_EQ(import(&request), 0);
        EXPECT_TRUE(harness_.swap(module_, replacement).is_ok()) << harness_.last_reason();
        EXPECT_TRUE(harness_.unload(module_).is_ok()) << harness_.last_reason();
        module_ = replacement;
        port_io_.grant(*module_);
        bind();
        return 0;
    }

    template <typename State>
    State& state() {
        return *static_cast<State*>(module_->states[0].base);
    }
    std::string read() {
        char buffer[512];
        uint64_t transferred = 0;
        umka::kabi::Status status = device_.read(buffer, sizeof(buffer), &transferred);
        EXPECT_TRUE(status.is_ok() || status.code() == UMKA_KABI_EAGAIN) << status.code();
        return std::string(buffer, transferred);
    }
    void write(const std::string& text) {
        uint64_t transferred = 0;
        ASSERT_TRUE(device_.write(text.data(), text.size(), &transferred).is_ok());
        ASSERT_EQ(transferred, text.size());
    }
    // TIOCGICOUNT's status, and its rx/tx counts.
    int32_t interrupt_counts(int32_t* received, int32_t* sent) {
        int32_t counts[20] = {};
        int32_t status = device_.control(kTiocGetInterruptCounts, counts, sizeof(counts)).code();
        *received = counts[4];
        *sent = counts[5];
        return status;
    }

    ModuleHarness harness_;
    Uart16550Model uart_;
    HostPortIo port_io_{harness_, uart_};
    HostModule* module_ = nullptr;
    chardev::CharDeviceRef device_;
    bus::IrqHandlerRef irq_;
};

TEST_F(SerialVersions, VersionsShareTheNameAndDifferInVersion) {
    EXPECT_STREQ(module_->manifest().name(), "serial_console");
    EXPECT_EQ(module_->manifest().module_version(), 1u);
    EXPECT_EQ(module_->manifest().state(0).version, 1u);
    EXPECT_EQ(module_->manifest().state(0).size, sizeof(schema::SerialStateV1));
    ASSERT_EQ(evolve(umka::harness::module_under_test(), 2, sizeof(schema::SerialStateV2)), 0);
    EXPECT_STREQ(module_->manifest().name(), "serial_console");
    EXPECT_EQ(module_->manifest().module_version(), 2u);
    EXPECT_EQ(module_->manifest().state(0).version, 2u);
    EXPECT_EQ(module_->manifest().state(0).size, sizeof(schema::SerialStateV2));
}

TEST_F(SerialVersions, BufferedBytesAndCountersSurviveVersionOneTwoOne) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    ASSERT_NO_FATAL_FAILURE(write("hello"));
    uart_.receive("ab");
    EXPECT_EQ(read(), "ab");
    uart_.receive("queued");
    irq_.handle_irq(0);  // six bytes wait in the state's ring across the swap
    int32_t received = 0;
    int32_t sent = 0;
    EXPECT_EQ(interrupt_counts(&received, &sent), UMKA_KABI_ENOTTY);  // version 1

    ASSERT_EQ(evolve(umka::harness::module_under_test(), 2, sizeof(schema::SerialStateV2)), 0);
    auto& upgraded = state<schema::SerialStateV2>();
    EXPECT_EQ(upgraded.bytes_written, 5u);
    EXPECT_EQ(upgraded.bytes_read, 2u);
    EXPECT_EQ(upgraded.bytes_received, 8u);  // 2 read + 6 in the ring
    EXPECT_EQ(upgraded.opened, 2u);          // still open, non-blocking
    EXPECT_EQ(interrupt_counts(&received, &sent), 0);
    EXPECT_EQ(received, 8);
    EXPECT_EQ(sent, 5);
    uart_.receive("++");
    irq_.handle_irq(0);  // two more into the ring, counted by version 2
    ASSERT_NO_FATAL_FAILURE(write("!"));
    EXPECT_EQ(upgraded.bytes_received, 10u);

    ASSERT_EQ(evolve(UMKA_SERIAL_V1_MODULE, 1, sizeof(schema::SerialStateV1)), 0);
    auto& downgraded = state<schema::SerialStateV1>();
    EXPECT_EQ(downgraded.bytes_written, 6u);
    EXPECT_EQ(downgraded.bytes_read, 2u);
    EXPECT_EQ(interrupt_counts(&received, &sent), UMKA_KABI_ENOTTY);
    EXPECT_EQ(read(), "queued++");  // nothing lost, nothing twice
    EXPECT_EQ(downgraded.bytes_read, 10u);
    EXPECT_EQ(uart_.wire(), "hello!");

    // And up again: the new counter is derived once more from what version 1 kept.
    uart_.receive("z");
    irq_.handle_irq(0);
    ASSERT_EQ(evolve(umka::harness::module_under_test(), 2, sizeof(schema::SerialStateV2)), 0);
    EXPECT_EQ(state<schema::SerialStateV2>().bytes_received, 11u);
    EXPECT_EQ(read(), "z");
}

TEST_F(SerialVersions, ACorruptRingIsRefusedAndTheOldDriverKeepsServing) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uart_.receive("keep");
    irq_.handle_irq(0);
    HostModule* original = module_;
    auto& old_state = state<schema::SerialStateV1>();
    old_state.receive_tail += 300;  // claims more than the 256-byte ring holds
    EXPECT_EQ(evolve(umka::harness::module_under_test(), 2, sizeof(schema::SerialStateV2)), UMKA_KABI_EINVAL);
    EXPECT_EQ(module_, original);
    old_state.receive_tail -= 300;
    EXPECT_EQ(read(), "keep");  // still the version-1 driver, through the same slot
}

}  // namespace
