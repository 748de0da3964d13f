// The guarded direct call's entry and exit (arch/x86_64/cpu/direct_call.S), for the
// nucleus's trampoline into a tier-1 provider (nucleus/containment/direct_guard.h).
//
// A guarded vtable's slot K is umka_direct_entries[K]. Called as a provider's method
// (SysV: the context in rdi, up to five more argument words in registers, the rest on the
// stack), it keeps the argument words in a DirectCallFrame with K and calls
// umka_direct_dispatch(frame), which the nucleus defines; its return value is the
// method's. umka_direct_invoke calls a method with a frame's words again. Methods take at
// most 12 argument words (kabi-gen refuses more) and return a word or nothing.
#pragma once

#include <stdint.h>

namespace umka::arch {

inline constexpr uint32_t kDirectEntries = 64;
inline constexpr uint32_t kDirectStackWords = 6;

struct DirectCallFrame {
    uint64_t registers[6];  // rdi (the context), rsi, rdx, rcx, r8, r9
    uint64_t stack[kDirectStackWords];
    uint64_t method;  // the slot index K
    uint64_t reserved;
};
static_assert(sizeof(DirectCallFrame) == 112, "direct_call.S lays the frame out");

}  // namespace umka::arch

extern "C" {
extern const void* const umka_direct_entries[umka::arch::kDirectEntries];
uint64_t umka_direct_dispatch(umka::arch::DirectCallFrame* frame);
uint64_t umka_direct_invoke(const void* function, const umka::arch::DirectCallFrame* frame);
}
