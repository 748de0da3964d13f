// serial_console.umod (SerialState version 1) and serial_console-v2.umod (version 2) on one
// 16550 model, swapped both ways as the nucleus's evolve does it (ModuleHarness::evolve):
// the replacement is bound withheld on a fresh state region, its registered import
// function takes the predecessor's SerialState (dry run into scratch, then commit), the
// service slots switch and the predecessor is unloaded. Buffered bytes and counters survive every
// swap; version 2's new counter is derived on the way up and its TIOCGICOUNT answer is what
// changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "module_harness.h"
#include "serial_test_fixture.h"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/serial_console_state.hpp"

namespace {

using umka::harness::HostModule;
namespace bus = umka::kabi::bus_access;
namespace chardev = umka::kabi::char_device;
namespace schema = umka::kabi::serial_console;

static_assert(schema::serial_state_version == 2, "compiled against version 2's headers");

constexpr auto kNonBlocking =
    chardev::OpenMode::Read | chardev::OpenMode::Write | chardev::OpenMode::NonBlocking;
constexpr uint32_t kTiocGetInterruptCounts = 0x545D;

class SerialVersions : public umka::test::SerialTest {
protected:
    void SetUp() override { ASSERT_NO_FATAL_FAILURE(set_up(UMKA_SERIAL_V1_MODULE)); }

    // `evolve serial_console <path>` (ModuleHarness::evolve plays the nucleus); the
    // import's errno when refused (the old module keeps serving then), else 0.
    int32_t evolve(const char* path) {
        HostModule* replacement = harness_.evolve(module_, path);
        if (replacement == nullptr) return static_cast<int32_t>(harness_.last_error());
        adopt(replacement);
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
};

TEST_F(SerialVersions, VersionsShareTheNameAndDifferInVersion) {
    EXPECT_STREQ(module_->manifest().name(), "serial_console");
    EXPECT_EQ(module_->manifest().module_version(), 1u);
    EXPECT_EQ(module_->manifest().state(0).version, 1u);
    EXPECT_EQ(module_->manifest().state(0).size, sizeof(schema::SerialStateV1));
    ASSERT_EQ(evolve(umka::harness::module_under_test()), 0);
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
    irq_.handle_interrupt(0);  // six bytes wait in the state's ring across the swap
    int32_t received = 0;
    int32_t sent = 0;
    EXPECT_EQ(interrupt_counts(&received, &sent), UMKA_KABI_ENOTTY);  // version 1

    ASSERT_EQ(evolve(umka::harness::module_under_test()), 0);
    auto& upgraded = state<schema::SerialStateV2>();
    EXPECT_EQ(upgraded.bytes_written, 5u);
    EXPECT_EQ(upgraded.bytes_read, 2u);
    EXPECT_EQ(upgraded.bytes_received, 8u);  // 2 read + 6 in the ring
    EXPECT_EQ(upgraded.opened, 2u);          // still open, non-blocking
    EXPECT_EQ(interrupt_counts(&received, &sent), 0);
    EXPECT_EQ(received, 8);
    EXPECT_EQ(sent, 5);
    uart_.receive("++");
    // Two more into the ring, counted by version 2; a second run finds nothing waiting.
    EXPECT_EQ(irq_.handle_interrupt(0), bus::IrqOutcome::Handled);
    EXPECT_EQ(irq_.handle_interrupt(0), bus::IrqOutcome::NotMine);
    ASSERT_NO_FATAL_FAILURE(write("!"));
    EXPECT_EQ(upgraded.bytes_received, 10u);

    ASSERT_EQ(evolve(UMKA_SERIAL_V1_MODULE), 0);
    auto& downgraded = state<schema::SerialStateV1>();
    EXPECT_EQ(downgraded.bytes_written, 6u);
    EXPECT_EQ(downgraded.bytes_read, 2u);
    EXPECT_EQ(interrupt_counts(&received, &sent), UMKA_KABI_ENOTTY);
    EXPECT_EQ(read(), "queued++");  // nothing lost, nothing twice
    EXPECT_EQ(downgraded.bytes_read, 10u);
    EXPECT_EQ(uart_.wire(), "hello!");

    // And up again: the new counter is derived once more from what version 1 kept.
    uart_.receive("z");
    irq_.handle_interrupt(0);
    ASSERT_EQ(evolve(umka::harness::module_under_test()), 0);
    EXPECT_EQ(state<schema::SerialStateV2>().bytes_received, 11u);
    EXPECT_EQ(read(), "z");
}

TEST_F(SerialVersions, ACorruptRingIsRefusedAndTheOldDriverKeepsServing) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uart_.receive("keep");
    irq_.handle_interrupt(0);
    HostModule* original = module_;
    auto& old_state = state<schema::SerialStateV1>();
    old_state.receive_tail += 300;  // claims more than the 256-byte ring holds
    EXPECT_EQ(evolve(umka::harness::module_under_test()), UMKA_KABI_EINVAL);
    EXPECT_EQ(module_, original);
    old_state.receive_tail -= 300;
    EXPECT_EQ(read(), "keep");  // still the version-1 driver, through the same slot
}

}  // namespace

namespace {

// A crash that poisoned the whole state (FaultKind::CorruptState writes 0xa5 everywhere):
// the ring looks empty, but no mode the driver writes is 0xa5, so the import refuses it.
TEST_F(SerialVersions, APoisonedStateIsRefusedThoughItsRingLooksEmpty) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    auto& old_state = state<schema::SerialStateV1>();
    schema::SerialStateV1 kept = old_state;
    __builtin_memset(&old_state, 0xa5, sizeof old_state);
    EXPECT_EQ(old_state.receive_tail - old_state.receive_head, 0u);
    EXPECT_EQ(evolve(umka::harness::module_under_test()), UMKA_KABI_EINVAL);
    old_state = kept;
    old_state.opened = 3;  // one past NonBlocking
    EXPECT_EQ(evolve(umka::harness::module_under_test()), UMKA_KABI_EINVAL);
    old_state = kept;
    old_state.configured = 3;  // one past Interrupts
    EXPECT_EQ(evolve(umka::harness::module_under_test()), UMKA_KABI_EINVAL);
    old_state = kept;
    EXPECT_EQ(evolve(umka::harness::module_under_test()), 0);
}

}  // namespace
