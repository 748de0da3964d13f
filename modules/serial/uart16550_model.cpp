#include "uart16550_model.h"

#include <string>

namespace umka::test {

namespace {

// Register offsets and bits the model interprets.
constexpr uint16_t kData = 0;
constexpr uint16_t kInterruptEnable = 1;
constexpr uint16_t kFifoControl = 2;  // IIR when read
constexpr uint16_t kLineControl = 3;
constexpr uint16_t kModemControl = 4;
constexpr uint16_t kLineStatus = 5;
constexpr uint16_t kModemStatus = 6;
constexpr uint16_t kScratch = 7;

constexpr uint8_t kFifoEnable = 0x01;
constexpr uint8_t kFifoClearReceive = 0x02;
constexpr uint8_t kFifoClearTransmit = 0x04;
constexpr uint8_t kModemControlLoopback = 0x10;
constexpr uint8_t kStatusDataReady = 0x01;
constexpr uint8_t kStatusTransmitEmpty = 0x20;  // THRE
constexpr uint8_t kStatusIdle = 0x40;           // TEMT
// IIR: bit 0 set = no interrupt pending; bits 6-7 set while FIFOs are enabled.
constexpr uint8_t kIdentificationNone = 0x01;
constexpr uint8_t kIdentificationFifos = 0xC0;
// MSR with CTS, DSR and DCD asserted: a terminal is attached.
constexpr uint8_t kModemStatusConnected = 0xB0;

}  // namespace

// --- the UART ------------------------------------------------------------------------------

uint8_t Uart16550Model::read(uint16_t offset) {
    if (absent_) return 0xFF;
    switch (offset) {
    case kData:
        if (divisor_latch()) return divisor_low_;
        if (input_.empty()) return 0;
        {
            uint8_t byte = input_.front();
            input_.pop_front();
            return byte;
        }
    case kInterruptEnable:
        return divisor_latch() ? divisor_high_ : interrupt_enable_;
    case kFifoControl:
        return uint8_t((fifo_enabled_ ? kIdentificationFifos : 0) | kIdentificationNone);
    case kLineControl:
        return line_control_;
    case kModemControl:
        return modem_control_;
    case kLineStatus:
        tick_status_read();
        return line_status();
    case kModemStatus:
        return kModemStatusConnected;
    case kScratch:
        return scratch_;
    default:
        return 0xFF;
    }
}

void Uart16550Model::write(uint16_t offset, uint8_t value) {
    if (absent_) return;
    writes_.push_back(Write{offset, value, divisor_latch()});
    switch (offset) {
    case kData:
        if (divisor_latch()) {
            divisor_low_ = value;
        } else if ((modem_control_ & kModemControlLoopback) != 0) {
            input_.push_back(value);
        } else if (transmit_fifo_.size() >= (fifo_enabled_ ? kFifoDepth : 1)) {
            ++transmit_overruns_;  // written while full: lost, as on hardware
        } else {
            transmit_fifo_.push_back(value);
        }
        break;
    case kInterruptEnable:
        if (divisor_latch()) {
            divisor_high_ = value;
        } else {
            interrupt_enable_ = value & 0x0F;
        }
        break;
    case kFifoControl:
        last_fifo_control_ = value;
        fifo_enabled_ = (value & kFifoEnable) != 0;
        // Clearing drops what the FIFOs hold; bytes still to arrive (delayed) are unaffected.
        if ((value & kFifoClearReceive) != 0) input_.clear();
        if ((value & kFifoClearTransmit) != 0) transmit_fifo_.clear();
        break;
    case kLineControl:
        line_control_ = value;
        break;
    case kModemControl:
        modem_control_ = value & 0x1F;
        break;
    case kScratch:
        scratch_ = value;
        break;
    default:
        break;  // LSR and MSR are read-only
    }
}

void Uart16550Model::receive(const std::string& bytes, uint64_t after_status_reads) {
    if (after_status_reads == 0) {
        input_.insert(input_.end(), bytes.begin(), bytes.end());
    } else {
        delayed_input_.insert(delayed_input_.end(), bytes.begin(), bytes.end());
        input_delay_ = after_status_reads;
    }
}

// Time passes in the model only when the driver reads LSR, which is what a polling
// driver does while it waits; that keeps the tests deterministic.
void Uart16550Model::tick_status_read() {
    ++status_reads_;
    if (!delayed_input_.empty()) {
        if (input_delay_ > 0) --input_delay_;
        if (input_delay_ == 0) {
            input_.insert(input_.end(), delayed_input_.begin(), delayed_input_.end());
            delayed_input_.clear();
        }
    }
    if (!transmit_fifo_.empty()) {
        if (transmit_wait_ >= transmit_delay_) {
            sent_.append(transmit_fifo_.begin(), transmit_fifo_.end());
            transmit_fifo_.clear();
            transmit_wait_ = 0;
        } else {
            ++transmit_wait_;
        }
    }
}

uint8_t Uart16550Model::line_status() const {
    uint8_t status = 0;
    if (!input_.empty()) status |= kStatusDataReady;
    if (transmit_fifo_.empty()) status |= kStatusTransmitEmpty | kStatusIdle;
    return status;
}

std::string Uart16550Model::wire() const {
    return sent_ + std::string(transmit_fifo_.begin(), transmit_fifo_.end());
}

// --- the PortIo provider ------------------------------------------------------------------

std::string Uart16550Model::refuse_width(kabi::bus_access::AccessWidth width) const {
    if (width == kabi::bus_access::AccessWidth::Byte) return {};
    return "16550 registers are byte-wide; width " + std::to_string(unsigned(width)) + " refused";
}

}  // namespace umka::test
