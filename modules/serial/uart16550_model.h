// A 16550A UART model for the serial_console host tests, behind the harness's PortIo
// (host_port_io.h), which checks the PortRange capability and the grant first.
//
// The model keeps what a test needs to observe: every register, the divisor latch, FIFO
// enables, the bytes put on the wire (byte-exact) and transmit overruns (a driver that
// writes more than the FIFO holds without waiting for THRE loses bytes, as on hardware).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <deque>
#include <string>
#include <vector>

#include "host_port_io.h"

namespace umka::test {

class Uart16550Model : public harness::PortDevice {
public:
    static constexpr size_t kFifoDepth = 16;
    static constexpr uint16_t kRegisterCount = 8;

    // One register write, as the driver did it (for configuration checks).
    struct Write {
        uint16_t offset;
        uint8_t value;
        bool divisor_latch;  // LCR.DLAB was set: offsets 0/1 were the divisor latch
    };

    uint8_t read(uint16_t offset);
    void write(uint16_t offset, uint8_t value);

    // harness::PortDevice: byte accesses only, as on the 16550.
    std::string refuse_width(kabi::bus_access::AccessWidth width) const override;
    uint32_t read(uint16_t offset, kabi::bus_access::AccessWidth) override { return read(offset); }
    void write(uint16_t offset, kabi::bus_access::AccessWidth, uint32_t value) override {
        write(offset, uint8_t(value));
    }

    // Bytes arriving on the line: visible to the driver (LSR.DR) at once, or after the
    // driver has read LSR `after_status_reads` more times (to test waiting).
    void receive(const std::string& bytes, uint64_t after_status_reads = 0);
    size_t pending_input() const { return input_.size() + delayed_input_.size(); }

    // Transmit timing: the FIFO empties (THRE) only after this many LSR reads once it holds
    // bytes; UINT64_MAX: never (a stuck transmitter).
    void set_transmit_delay(uint64_t status_reads) { transmit_delay_ = status_reads; }
    // What went out on the line, including what is still in the transmit FIFO (it leaves
    // eventually; the test asks after the driver is done).
    std::string wire() const;
    uint64_t transmit_overruns() const { return transmit_overruns_; }

    // A port range with no UART behind it: reads float to 0xFF, writes vanish.
    void set_absent(bool absent) { absent_ = absent; }

    uint16_t divisor() const { return uint16_t(divisor_low_ | (divisor_high_ << 8)); }
    uint8_t line_control() const { return line_control_; }
    uint8_t interrupt_enable() const { return interrupt_enable_; }
    uint8_t modem_control() const { return modem_control_; }
    uint8_t scratch() const { return scratch_; }
    bool fifo_enabled() const { return fifo_enabled_; }
    uint8_t last_fifo_control() const { return last_fifo_control_; }
    uint64_t status_reads() const { return status_reads_; }
    const std::vector<Write>& writes() const { return writes_; }

private:
    bool divisor_latch() const { return (line_control_ & 0x80) != 0; }
    void tick_status_read();
    uint8_t line_status() const;

    bool absent_ = false;
    uint8_t divisor_low_ = 0;
    uint8_t divisor_high_ = 0;
    uint8_t interrupt_enable_ = 0;
    uint8_t line_control_ = 0;
    uint8_t modem_control_ = 0;
    uint8_t scratch_ = 0;
    bool fifo_enabled_ = false;
    uint8_t last_fifo_control_ = 0;
    std::deque<uint8_t> input_;
    std::deque<uint8_t> delayed_input_;
    uint64_t input_delay_ = 0;
    std::deque<uint8_t> transmit_fifo_;
    std::string sent_;
    uint64_t transmit_delay_ = 0;
    uint64_t transmit_wait_ = 0;
    uint64_t transmit_overruns_ = 0;
    uint64_t status_reads_ = 0;
    std::vector<Write> writes_;
};

}  // namespace umka::test
