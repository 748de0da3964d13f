#include "nucleus/lib/format.h"

#include <stdint.h>

namespace umka {
namespace {

struct Output {
    char* buffer;
    size_t capacity;
    size_t length = 0;

    void put(char character) {
        if (length + 1 < capacity) buffer[length] = character;
        ++length;
    }
};

void put_padded(Output& output, const char* text, size_t text_length, int width, bool left,
                char pad) {
    int padding = width > int(text_length) ? width - int(text_length) : 0;
    if (!left) {
        while (padding-- > 0) output.put(pad);
    }
    for (size_t index = 0; index < text_length; ++index) output.put(text[index]);
    if (left) {
        while (padding-- > 0) output.put(' ');
    }
}

void put_unsigned(Output& output, uint64_t value, unsigned base, bool negative, int width,
                  bool left, char pad) {
    char digits[24];
    size_t count = 0;
    do {
        unsigned digit = unsigned(value % base);
        digits[count++] = char(digit < 10 ? '0' + digit : 'a' + digit - 10);
        value /= base;
    } while (value != 0);
    if (negative) {
        if (pad == '0') {
            output.put('-');
            --width;
        } else {
            digits[count++] = '-';
        }
    }
    char text[24];
    for (size_t index = 0; index < count; ++index) text[index] = digits[count - 1 - index];
    put_padded(output, text, count, width, left, pad);
}

}  // namespace

size_t vformat(char* buffer, size_t capacity, const char* pattern, va_list arguments) {
    Output output{buffer, capacity};
    for (const char* cursor = pattern; *cursor != '\0'; ++cursor) {
        if (*cursor != '%') {
            output.put(*cursor);
            continue;
        }
        ++cursor;
        bool left = false;
        char pad = ' ';
        if (*cursor == '-') {
            left = true;
            ++cursor;
        }
        if (*cursor == '0') {
            pad = '0';
            ++cursor;
        }
        int width = 0;
        while (*cursor >= '0' && *cursor <= '9') width = width * 10 + (*cursor++ - '0');
        int precision = -1;  // for %s: at most this many characters
        if (*cursor == '.') {
            ++cursor;
            if (*cursor == '*') {
                precision = va_arg(arguments, int);
                ++cursor;
            } else {
                precision = 0;
                while (*cursor >= '0' && *cursor <= '9') precision = precision * 10 + (*cursor++ - '0');
            }
        }
        int longness = 0;
        while (*cursor == 'l' || *cursor == 'z') {
            longness = *cursor == 'z' ? 2 : longness + 1;
            ++cursor;
        }
        switch (*cursor) {
        case 's': {
            const char* text = va_arg(arguments, const char*);
            if (text == nullptr) text = "(null)";
            size_t length = 0;
            while ((precision < 0 || length < size_t(precision)) && text[length] != '\0') ++length;
            put_padded(output, text, length, width, left, ' ');
            break;
        }
        case 'c':
            output.put(char(va_arg(arguments, int)));
            break;
        case 'd':
        case 'i': {
            int64_t value = longness ? va_arg(arguments, int64_t) : va_arg(arguments, int);
            uint64_t magnitude = value < 0 ? uint64_t(0) - uint64_t(value) : uint64_t(value);
            put_unsigned(output, magnitude, 10, value < 0, width, left, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t value = longness ? va_arg(arguments, uint64_t) : va_arg(arguments, unsigned);
            put_unsigned(output, value, *cursor == 'x' ? 16 : 10, false, width, left, pad);
            break;
        }
        case 'p': {
            output.put('0');
            output.put('x');
            put_unsigned(output, uint64_t(va_arg(arguments, void*)), 16, false, 16, false, '0');
            break;
        }
        case '%':
            output.put('%');
            break;
        case '\0':
            --cursor;
            break;
        default:
            output.put('%');
            output.put(*cursor);
            break;
        }
    }
    if (capacity > 0) buffer[output.length < capacity ? output.length : capacity - 1] = '\0';
    return output.length < capacity ? output.length : (capacity ? capacity - 1 : 0);
}

size_t format(char* buffer, size_t capacity, const char* pattern, ...) {
    va_list arguments;
    va_start(arguments, pattern);
    size_t length = vformat(buffer, capacity, pattern, arguments);
    va_end(arguments);
    return length;
}

}  // namespace umka
