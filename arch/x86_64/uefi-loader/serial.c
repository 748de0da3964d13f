// Polling COM1 output for the last words before the nucleus runs. After
// ExitBootServices ConOut is gone, but OVMF left the 16550 programmed (115200 8N1), so
// plain port writes still reach the serial log the tests read.
#include "loader.h"

#define COM1_DATA 0x3f8
#define COM1_LINE_STATUS 0x3fd
#define LINE_STATUS_TRANSMIT_EMPTY 0x20

static inline uint8_t port_read(uint16_t port) {
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static inline void port_write(uint16_t port, uint8_t value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static void serial_put(char character) {
    // Bounded so a machine without a UART at 0x3f8 (reads float to 0xff or stick at 0)
    // cannot hang the boot here; a lost character is better than no boot.
    for (unsigned attempt = 0; attempt < 100000; ++attempt) {
        if (port_read(COM1_LINE_STATUS) & LINE_STATUS_TRANSMIT_EMPTY) break;
    }
    port_write(COM1_DATA, (uint8_t)character);
}

void serial_write(const char* text) {
    for (; *text; ++text) {
        if (*text == '\n') serial_put('\r');
        serial_put(*text);
    }
}

void serial_write_hex(uint64_t value) {
    char digits[19];
    digits[0] = '0';
    digits[1] = 'x';
    for (int index = 0; index < 16; ++index) {
        unsigned nibble = (unsigned)(value >> (60 - 4 * index)) & 0xf;
        digits[2 + index] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }
    digits[18] = '\0';
    serial_write(digits);
}

void serial_write_decimal(uint64_t value) {
    char digits[21];
    unsigned position = sizeof(digits) - 1;
    digits[position] = '\0';
    do {
        digits[--position] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    serial_write(&digits[position]);
}
