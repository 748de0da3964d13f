/* The freestanding runtime every module links statically: the few functions a compiler
   may call on its own (struct copies, zero-initialisation) and that a module has no
   libc to get them from. Built with -fno-builtin and without loop-to-call rewriting so
   these loops do not turn into calls to themselves. */
#include <stddef.h>
#include <stdint.h>

void* memcpy(void* restrict destination, const void* restrict source, size_t count) {
    unsigned char* to = destination;
    const unsigned char* from = source;
    while (count--) *to++ = *from++;
    return destination;
}

void* memmove(void* destination, const void* source, size_t count) {
    unsigned char* to = destination;
    const unsigned char* from = source;
    if (to == from || count == 0) return destination;
    if ((uintptr_t)to < (uintptr_t)from) {
        while (count--) *to++ = *from++;
    } else {
        to += count;
        from += count;
        while (count--) *--to = *--from;
    }
    return destination;
}

void* memset(void* destination, int value, size_t count) {
    unsigned char* to = destination;
    while (count--) *to++ = (unsigned char)value;
    return destination;
}

int memcmp(const void* left, const void* right, size_t count) {
    const unsigned char* a = left;
    const unsigned char* b = right;
    for (; count; --count, ++a, ++b) {
        if (*a != *b) return *a < *b ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char* text) {
    size_t length = 0;
    while (text[length]) ++length;
    return length;
}
