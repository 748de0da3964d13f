// The few libc routines the compiler may call on its own in freestanding code (and strcmp,
// which __builtin_strcmp falls back to for strings it cannot see at compile time).
#include <stddef.h>
#include <stdint.h>

extern "C" {

void* memcpy(void* destination, const void* source, size_t length) {
    auto* to = static_cast<uint8_t*>(destination);
    auto* from = static_cast<const uint8_t*>(source);
    size_t words = length / 8;
    size_t tail = length % 8;
    asm volatile("rep movsq" : "+D"(to), "+S"(from), "+c"(words)::"memory");
    asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(tail)::"memory");
    return destination;
}

void* memmove(void* destination, const void* source, size_t length) {
    auto* to = static_cast<uint8_t*>(destination);
    auto* from = static_cast<const uint8_t*>(source);
    if (to <= from || to >= from + length) return memcpy(destination, source, length);
    while (length-- > 0) to[length] = from[length];
    return destination;
}

void* memset(void* destination, int value, size_t length) {
    auto* to = static_cast<uint8_t*>(destination);
    uint64_t pattern = 0x0101010101010101ull * uint8_t(value);
    size_t words = length / 8;
    size_t tail = length % 8;
    asm volatile("rep stosq" : "+D"(to), "+c"(words) : "a"(pattern) : "memory");
    asm volatile("rep stosb" : "+D"(to), "+c"(tail) : "a"(pattern) : "memory");
    return destination;
}

int memcmp(const void* left, const void* right, size_t length) {
    auto* a = static_cast<const uint8_t*>(left);
    auto* b = static_cast<const uint8_t*>(right);
    for (size_t index = 0; index < length; ++index) {
        if (a[index] != b[index]) return a[index] < b[index] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char* text) {
    size_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

int strcmp(const char* left, const char* right) {
    while (*left != '\0' && *left == *right) {
        ++left;
        ++right;
    }
    return int(static_cast<unsigned char>(*left)) - int(static_cast<unsigned char>(*right));
}

}  // extern "C"
