/* The freestanding runtime every module links statically: the few functions a compiler
   may call on its own (struct copies, zero-initialisation) and that a module has no
   libc to get them from. Built with -fno-builtin and without loop-to-call rewriting so
   these loops do not turn into calls to themselves. */
#include <stddef.h>
#include <stdint.h>

#include "umka/fault_site.h"

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

/* The fault-injection site (docs/crash-containment.md): the nucleus calls it, in place of
   a guarded call into this module, only when the fault-injection fixture armed a fault for
   this module. It is here, inside every module's own image, so that the fault is raised by
   the module's code and attributed to it exactly as a real bug would be. Every module links
   it (-Wl,--undefined in UmkaSDKModules.cmake); the nucleus finds it in .dynsym. */
/* Recurses until the stack runs out: each level keeps a volatile frame of its own and adds
   to the deeper level's result, so the call is neither inlined nor a tail call. */
static __attribute__((noinline)) uint64_t umka_fault_recurse(uint64_t depth) {
    volatile uint64_t frame[24];
    frame[0] = depth;
    if (depth == UINT64_MAX) return frame[0];
    return umka_fault_recurse(depth + 1) + frame[0];
}

__attribute__((visibility("default"), used, noinline)) void umka_fault_site(uint32_t kind, uint64_t target) {
    volatile uint64_t divisor = 0;
    switch (kind) {
    case UMKA_FAULT_NULL_WRITE:
        *(volatile uint64_t*)(uintptr_t)divisor = 0x5a;
        break;
    case UMKA_FAULT_INVALID_OPCODE:
        __builtin_trap();
    case UMKA_FAULT_DIVIDE_BY_ZERO: {
        /* An integer division by zero raises #DE; volatile keeps the compiler from folding it. */
        volatile uint64_t dividend = 1;
        uint64_t quotient;
        __asm__ volatile("xor %%edx, %%edx\n\tdivq %2" : "=a"(quotient) : "a"(dividend), "r"(divisor) : "rdx");
        (void)quotient;
        break;
    }
    case UMKA_FAULT_NONCANONICAL:
        *(volatile uint64_t*)(uintptr_t)0x8000000000000000ull = 0x5a;
        break;
    case UMKA_FAULT_HANG:
        for (;;) __asm__ volatile("pause" ::: "memory");
    case UMKA_FAULT_STACK_OVERFLOW:
        (void)umka_fault_recurse(0);
        break;
    case UMKA_FAULT_WILD_WRITE:
        *(volatile uint64_t*)(uintptr_t)target = 0x5a5a5a5a5a5a5a5aull;
        break;
    default:
        break;
    }
}
