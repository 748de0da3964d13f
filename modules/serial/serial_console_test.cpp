// serial_console through the host harness: the real serial_console.elf (the file that is
// signed and boots), loaded by the nucleus's loader, its PortIo bound to a 16550 model
// behind a PortIo provider that checks the PortRange capability and the grant.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "module_harness.h"
#include "serial_test_fixture.h"
#include "uart16550_model.h"
#include "umka/kabi/bus_access.hpp"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/serial_console_state.hpp"

namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using umka::harness::HostModule;
using umka::harness::LoadOptions;
using umka::harness::ModuleHarness;
using umka::test::Uart16550Model;
namespace chardev = umka::kabi::char_device;
namespace bus = umka::kabi::bus_access;
using SerialState = umka::kabi::serial_console::SerialState;

constexpr auto kReadWrite = chardev::OpenMode::Read | chardev::OpenMode::Write;
constexpr auto kNonBlocking = kReadWrite | chardev::OpenMode::NonBlocking;
constexpr uint32_t kPortIoRequirement = 1;  // serial_console.kabi: requires Log, PortIo, Irq

class SerialConsole : public umka::test::SerialTest {
protected:
    void SetUp() override { ASSERT_NO_FATAL_FAILURE(set_up(umka::harness::module_under_test())); }
    void load(const LoadOptions& options = {}) {
        SerialTest::load(umka::harness::module_under_test(), options);
    }

    SerialState& state() { return *static_cast<SerialState*>(module_->states[0].base); }
    uint32_t ring_fill() { return state().receive_tail - state().receive_head; }
    uint64_t port_range() const { return module_->block->required[kPortIoRequirement].capability; }

    // One read() into a 1 KiB buffer: its status and the bytes it returned.
    std::string read(umka::kabi::Status expected = umka::kabi::Status::ok(), size_t length = 1024) {
        std::vector<char> buffer(length);
        uint64_t transferred = 99;
        umka::kabi::Status status = device_.read(buffer.data(), buffer.size(), &transferred);
        EXPECT_EQ(status.code(), expected.code()) << port_io_.last_refusal();
        EXPECT_LE(transferred, length);
        return std::string(buffer.data(), transferred);
    }
    umka::kabi::Status write(const std::string& data, uint64_t* transferred) {
        return device_.write(data.data(), data.size(), transferred);
    }
};

TEST_F(SerialConsole, BindsToLogAndPortIoWithoutTouchingThePorts) {
    EXPECT_STREQ(module_->name(), "serial_console");
    EXPECT_EQ(device_.provider_version(), 1u);
    EXPECT_EQ(irq_.provider_version(), 2u);
    EXPECT_EQ(port_io_.accesses(), 0u);  // the UART is programmed on first open, not at bind
    EXPECT_EQ(state().configured, 0u);
    EXPECT_EQ(state().opened, 0u);
}

// With the line granted (the boot manifest's irq=4) the first open turns the receive
// interrupt on, and from then on only handle_interrupt takes bytes from the FIFO: read() returns
// what the handler moved into the ring, in order, never bytes from the FIFO directly.
TEST_F(SerialConsole, WithItsLineTheReceiveFifoIsDrainedByTheInterrupt) {
    irq_line_.grant_line(true);
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok()) << port_io_.last_refusal();
    EXPECT_EQ(irq_line_.attaches(), 1u);
    EXPECT_EQ(irq_line_.last_kind(), umka::kabi::bus_access::IrqKind::Legacy);
    EXPECT_EQ(uart_.interrupt_enable(), 0x01u);  // IER.RDA
    EXPECT_EQ(state().configured, 2u);
    EXPECT_THAT(harness_.log().lines(),
                ::testing::Contains(::testing::HasSubstr("ttyS0: receive interrupt on")));
    uart_.receive("abc");
    EXPECT_EQ(read(UMKA_KABI_EAGAIN), "");  // still in the FIFO: the interrupt has not run
    EXPECT_EQ(uart_.pending_input(), 3u);
    irq_.handle_interrupt(0);
    EXPECT_EQ(uart_.pending_input(), 0u);
    uart_.receive("de");
    EXPECT_EQ(read(), "abc");
    irq_.handle_interrupt(0);
    EXPECT_EQ(read(), "de");
    // A second open does not ask again: the line stays routed.
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    EXPECT_EQ(irq_line_.attaches(), 1u);
}

TEST_F(SerialConsole, WithoutALineTheFifoIsPolled) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok()) << port_io_.last_refusal();
    EXPECT_EQ(irq_line_.attaches(), 1u);
    EXPECT_EQ(uart_.interrupt_enable(), 0u);
    EXPECT_EQ(state().configured, 1u);
    EXPECT_THAT(harness_.log().lines(),
                ::testing::Contains(::testing::HasSubstr("no interrupt line granted")));
    uart_.receive("xyz");
    EXPECT_EQ(read(), "xyz");
}

TEST_F(SerialConsole, InfoNamesTtyS0WithLinuxNumbers) {
    chardev::CharDeviceInfo info;
    std::memset(&info, 0xAB, sizeof(info));
    ASSERT_TRUE(device_.info(&info).is_ok());
    EXPECT_STREQ(reinterpret_cast<const char*>(info.name), "ttyS0");
    for (size_t index = 5; index < sizeof(info.name); ++index) EXPECT_EQ(info.name[index], 0);
    EXPECT_EQ(info.major, 4u);
    EXPECT_EQ(info.minor, 64u);
    EXPECT_EQ(port_io_.accesses(), 0u);
}

TEST_F(SerialConsole, FirstOpenProgramsDivisorOne8N1AndFifos) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok()) << port_io_.last_refusal();
    EXPECT_EQ(uart_.divisor(), 1u);          // 115200 baud
    EXPECT_EQ(uart_.line_control(), 0x03u);  // 8N1, divisor latch closed again
    EXPECT_TRUE(uart_.fifo_enabled());
    EXPECT_EQ(uart_.last_fifo_control(), 0xC7u);  // enable, clear both, 14-byte trigger
    EXPECT_EQ(uart_.interrupt_enable(), 0u);      // polled
    EXPECT_EQ(uart_.modem_control(), 0x0Bu);      // DTR, RTS, OUT2
    EXPECT_EQ(state().configured, 1u);
    EXPECT_EQ(state().opened, 1u);

    // The divisor went through the latch: DLAB set, then low 1 and high 0.
    std::vector<std::string> latch_writes;
    for (const Uart16550Model::Write& write : uart_.writes()) {
        if (write.divisor_latch && write.offset <= 1) {
            latch_writes.push_back(std::to_string(write.offset) + "=" +
                                   std::to_string(write.value));
        }
    }
    EXPECT_EQ(latch_writes, (std::vector<std::string>{"0=1", "1=0"}));
}

TEST_F(SerialConsole, LaterOpensDoNotReprogramTheUart) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    size_t writes = uart_.writes().size();
    ASSERT_TRUE(device_.close().is_ok());
    EXPECT_EQ(state().opened, 0u);
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    EXPECT_EQ(uart_.writes().size(), writes);
    EXPECT_EQ(state().opened, 2u);  // open, non-blocking
}

TEST_F(SerialConsole, NoUartBehindThePortsIsENODEV) {
    uart_.set_absent(true);
    EXPECT_EQ(device_.open(kReadWrite).code(), UMKA_KABI_ENODEV);
    EXPECT_EQ(state().configured, 0u);
    EXPECT_EQ(state().opened, 0u);
    EXPECT_THAT(harness_.log().lines(), Contains(HasSubstr("no 16550 UART")));
}

TEST_F(SerialConsole, ClosedDeviceRefusesReadAndWriteWithEBADF) {
    char byte = 0;
    uint64_t transferred = 7;
    EXPECT_EQ(device_.read(&byte, 1, &transferred).code(), UMKA_KABI_EBADF);
    EXPECT_EQ(transferred, 0u);
    EXPECT_EQ(device_.write("x", 1, &transferred).code(), UMKA_KABI_EBADF);
    EXPECT_EQ(device_.close().code(), UMKA_KABI_EBADF);
    EXPECT_EQ(port_io_.accesses(), 0u);
}

TEST_F(SerialConsole, WriteGoesOutByteExact) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    std::string data = "hello\nworld\r\n";  // no '\n' -> "\r\n" translation in the driver
    for (int byte = 0; byte < 256; ++byte) data.push_back(char(byte));
    uint64_t transferred = 0;
    ASSERT_TRUE(write(data, &transferred).is_ok()) << port_io_.last_refusal();
    EXPECT_EQ(transferred, data.size());
    EXPECT_EQ(uart_.wire(), data);
    EXPECT_EQ(uart_.transmit_overruns(), 0u);
    EXPECT_EQ(state().bytes_written, data.size());
}

TEST_F(SerialConsole, WriteWaitsForTheTransmitFifoToEmpty) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    uart_.set_transmit_delay(5);
    std::string data(50, 'q');
    data += "end";
    uint64_t transferred = 0;
    ASSERT_TRUE(write(data, &transferred).is_ok());
    EXPECT_EQ(transferred, data.size());
    EXPECT_EQ(uart_.wire(), data);
    EXPECT_EQ(uart_.transmit_overruns(), 0u);  // never more than 16 bytes per THRE
    EXPECT_GE(uart_.status_reads(), 3u * 5u);  // 53 bytes = 4 FIFO loads, 3 waits
}

TEST_F(SerialConsole, NonBlockingWriteIsShortThenEAGAINWhileTheFifoIsBusy) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uart_.set_transmit_delay(UINT64_MAX);  // the FIFO never drains
    uint64_t transferred = 0;
    ASSERT_TRUE(write(std::string(20, 'z'), &transferred).is_ok());
    EXPECT_EQ(transferred, 16u);  // one FIFO load
    EXPECT_EQ(write("more", &transferred).code(), UMKA_KABI_EAGAIN);
    EXPECT_EQ(transferred, 0u);
    EXPECT_EQ(state().bytes_written, 16u);
}

TEST_F(SerialConsole, StuckTransmitterFailsABlockingWriteWithEIO) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    uart_.set_transmit_delay(UINT64_MAX);
    uint64_t transferred = 0;
    ASSERT_TRUE(write(std::string(20, 'z'), &transferred).is_ok());
    EXPECT_EQ(transferred, 16u);  // what went out is reported: a short write
    EXPECT_EQ(write("more", &transferred).code(), UMKA_KABI_EIO);
    EXPECT_EQ(transferred, 0u);
    EXPECT_THAT(harness_.log().lines(), Contains(HasSubstr("transmitter stuck")));
}

TEST_F(SerialConsole, ReadReturnsQueuedInputUpToTheBufferLength) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uart_.receive("abcdef");
    EXPECT_EQ(read(umka::kabi::Status::ok(), 4), "abcd");
    EXPECT_EQ(read(), "ef");
    EXPECT_EQ(state().bytes_read, 6u);
}

TEST_F(SerialConsole, NonBlockingReadOfNothingIsEAGAIN) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    EXPECT_EQ(read(UMKA_KABI_EAGAIN), "");
    EXPECT_EQ(state().bytes_read, 0u);
}

TEST_F(SerialConsole, BlockingReadPollsUntilAByteArrives) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    uart_.receive("x", 25);  // visible at the 25th status read from now
    uint64_t before = uart_.status_reads();
    EXPECT_EQ(read(), "x");
    EXPECT_GE(uart_.status_reads() - before, 25u);
}

TEST_F(SerialConsole, BlockingReadOfNothingGivesUpWithEINTRAndTheNextReadGetsTheByte) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    uint64_t before = uart_.status_reads();
    EXPECT_EQ(read(UMKA_KABI_EINTR), "");
    EXPECT_EQ(uart_.status_reads() - before, 256u);  // kBlockingPollLimit polls, then back
    uart_.receive("y");
    EXPECT_EQ(read(), "y");
    EXPECT_EQ(state().bytes_read, 1u);
}

TEST_F(SerialConsole, IrqDrainsIntoStateAndReadReturnsThoseBytesFirst) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uart_.receive("ab");
    irq_.handle_interrupt(0);
    EXPECT_EQ(uart_.pending_input(), 0u);
    ASSERT_EQ(ring_fill(), 2u);
    EXPECT_EQ(state().receive_buffer[state().receive_head % 256], 'a');
    uart_.receive("cd");  // arrives later, stays in the FIFO
    EXPECT_EQ(read(), "abcd");
    EXPECT_EQ(ring_fill(), 0u);
    EXPECT_EQ(state().bytes_read, 4u);
}

TEST_F(SerialConsole, IrqStopsDrainingWhenTheRingIsFull) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    std::string input;
    for (int index = 0; index < 300; ++index) input.push_back(char('A' + index % 26));
    uart_.receive(input);
    irq_.handle_interrupt(0);
    EXPECT_EQ(ring_fill(), 256u);
    EXPECT_EQ(uart_.pending_input(), 44u);  // left in the UART, not dropped
    irq_.handle_interrupt(0);                     // full: takes nothing more
    EXPECT_EQ(uart_.pending_input(), 44u);
    EXPECT_EQ(read(), input);
}

TEST_F(SerialConsole, StateSurvivesUnloadAndReload) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uint64_t transferred = 0;
    ASSERT_TRUE(write("abc", &transferred).is_ok());
    uart_.receive("xy");
    EXPECT_EQ(read(), "xy");
    uart_.receive("zz");
    irq_.handle_interrupt(0);  // two bytes wait in the state's ring across the reload
    size_t writes = uart_.writes().size();

    LoadOptions options;
    options.carried_states = module_->states;
    options.carried_states[0].origin = UMKA_STATE_ORIGIN_CARRIED;
    options.carried_memory = module_->state_memory;
    ASSERT_TRUE(harness_.unload(module_).is_ok()) << harness_.last_reason();
    ASSERT_NO_FATAL_FAILURE(load(options));

    EXPECT_EQ(state().bytes_written, 3u);
    EXPECT_EQ(state().bytes_read, 2u);
    EXPECT_EQ(state().configured, 1u);
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    EXPECT_EQ(uart_.writes().size(), writes);  // configured: not programmed again
    EXPECT_EQ(read(), "zz");
    ASSERT_TRUE(write("de", &transferred).is_ok());
    EXPECT_EQ(state().bytes_written, 5u);
    EXPECT_EQ(state().bytes_read, 4u);
    EXPECT_EQ(uart_.wire(), "abcde");
}

TEST_F(SerialConsole, LiveSwapKeepsBufferedBytesAndCounters) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uart_.receive("swap");
    irq_.handle_interrupt(0);
    HostModule* old_module = module_;
    LoadOptions options;
    options.carried_states = old_module->states;
    options.carried_states[0].origin = UMKA_STATE_ORIGIN_CARRIED;
    options.carried_memory = old_module->state_memory;
    options.publication = umka::modules::Publication::Withhold;
    HostModule* replacement = harness_.load(umka::harness::module_under_test(), options);
    ASSERT_NE(replacement, nullptr) << harness_.last_reason();
    ASSERT_TRUE(harness_.swap(old_module, replacement).is_ok()) << harness_.last_reason();
    module_ = replacement;
    port_io_.grant(*module_);  // the replacement calls with its own PortIo capability
    ASSERT_NO_FATAL_FAILURE(bind());
    EXPECT_TRUE(module_->loaded.contains(device_.vtable(), sizeof(*device_.vtable())));
    ASSERT_TRUE(harness_.unload(old_module).is_ok()) << harness_.last_reason();

    EXPECT_EQ(read(), "swap");
    EXPECT_EQ(state().bytes_read, 4u);
}

TEST_F(SerialConsole, RevokedPortRangeIsRefusedAndTheStatusPropagates) {
    ASSERT_TRUE(
        harness_.capabilities().revoke(umka::modules::CapabilityHandle{port_range()}).is_ok());
    EXPECT_EQ(device_.open(kReadWrite).code(), UMKA_KABI_EINVAL);
    EXPECT_THAT(port_io_.last_refusal(), HasSubstr("not a live capability (EFAULT)"));
    EXPECT_EQ(state().configured, 0u);
    EXPECT_THAT(harness_.log().lines(), Contains(HasSubstr("PortIo refused")));
}

TEST_F(SerialConsole, PortsGrantedToAnotherModuleAreRefused) {
    HostModule someone_else;
    someone_else.owner = module_->owner + 100;
    port_io_.grant(someone_else);
    EXPECT_EQ(device_.open(kReadWrite).code(), UMKA_KABI_EINVAL);
    EXPECT_THAT(port_io_.last_refusal(), HasSubstr("no ports are granted to module instance"));
}

TEST_F(SerialConsole, OffsetOutsideTheGrantIsERANGE) {
    port_io_.grant(*module_, 4);  // 4 ports: the scratch register (7) is outside
    EXPECT_EQ(device_.open(kReadWrite).code(), UMKA_KABI_ERANGE);
    EXPECT_EQ(port_io_.last_refusal(), "offset 7 is outside the 4-port range granted");

    port_io_.grant(*module_);
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    uart_.receive("r");
    irq_.handle_interrupt(0);
    port_io_.grant(*module_, 5);  // LSR (5) is now outside
    // Bytes already taken are delivered (a short read); the next call reports the error.
    EXPECT_EQ(read(), "r");
    EXPECT_EQ(read(UMKA_KABI_ERANGE), "");
    uint64_t transferred = 0;
    EXPECT_EQ(write("w", &transferred).code(), UMKA_KABI_ERANGE);
    chardev::PollEvents ready{};
    EXPECT_EQ(device_.poll(chardev::PollEvents::Readable, &ready).code(), UMKA_KABI_ERANGE);
}

TEST_F(SerialConsole, PollReportsReadableAndWritable) {
    ASSERT_TRUE(device_.open(kNonBlocking).is_ok());
    constexpr auto kBoth = chardev::PollEvents::Readable | chardev::PollEvents::Writable;
    chardev::PollEvents ready{};
    ASSERT_TRUE(device_.poll(kBoth, &ready).is_ok());
    EXPECT_EQ(ready, chardev::PollEvents::Writable);
    uart_.receive("p");
    ASSERT_TRUE(device_.poll(kBoth, &ready).is_ok());
    EXPECT_EQ(ready, kBoth);
    ASSERT_TRUE(device_.poll(chardev::PollEvents::Readable, &ready).is_ok());
    EXPECT_EQ(ready, chardev::PollEvents::Readable);
    // Bytes in the state's ring count as readable too.
    irq_.handle_interrupt(0);
    ASSERT_TRUE(device_.poll(chardev::PollEvents::Readable, &ready).is_ok());
    EXPECT_EQ(ready, chardev::PollEvents::Readable);
}

TEST_F(SerialConsole, ControlIsENOTTY) {
    ASSERT_TRUE(device_.open(kReadWrite).is_ok());
    char argument[60] = {};
    EXPECT_EQ(device_.control(0x5401 /* TCGETS */, argument, sizeof(argument)).code(),
              UMKA_KABI_ENOTTY);
}

}  // namespace
