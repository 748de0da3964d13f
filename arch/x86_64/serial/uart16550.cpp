// COM1 as a polled 16550 UART: the nucleus's early console and panic writer.
#include <arch/early_console.h>

#include "arch/x86_64/cpu/x86.h"

namespace umka::arch {
namespace {

constexpr uint16_t kBase = 0x3F8;
constexpr uint16_t kData = kBase + 0;
constexpr uint16_t kInterruptEnable = kBase + 1;
constexpr uint16_t kFifoControl = kBase + 2;
constexpr uint16_t kLineControl = kBase + 3;
constexpr uint16_t kModemControl = kBase + 4;
constexpr uint16_t kLineStatus = kBase + 5;
constexpr uint8_t kLineStatusDataReady = 1u << 0;
constexpr uint8_t kLineStatusTransmitEmpty = 1u << 5;

void put_raw(char character) {
    // Bounded wait: a wedged UART must not hang a panic report forever.
    for (int spins = 0; spins < 100000; ++spins) {
        if (x86::inb(kLineStatus) & kLineStatusTransmitEmpty) break;
        asm volatile("pause");
    }
    x86::outb(kData, static_cast<uint8_t>(character));
}

}  // namespace

void early_console_init() {
    x86::outb(kInterruptEnable, 0x00);
    x86::outb(kLineControl, 0x80);  // divisor latch
    x86::outb(kData, 0x01);         // 115200 baud
    x86::outb(kInterruptEnable, 0x00);
    x86::outb(kLineControl, 0x03);   // 8N1
    x86::outb(kFifoControl, 0xC7);   // enable and clear FIFOs
    x86::outb(kModemControl, 0x03);  // DTR, RTS
}

void early_console_write(const char* text, size_t length) {
    for (size_t index = 0; index < length; ++index) {
        if (text[index] == '\n') put_raw('\r');
        put_raw(text[index]);
    }
}

bool early_console_poll(char& character) {
    if ((x86::inb(kLineStatus) & kLineStatusDataReady) == 0) return false;
    character = static_cast<char>(x86::inb(kData));
    return true;
}

}  // namespace umka::arch
