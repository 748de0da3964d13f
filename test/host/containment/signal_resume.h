// What the nucleus's trap handler does after a contained fault, done from a host signal
// handler: resume_from_fault on the innermost guarded call's context, then the resulting
// trap frame's registers written into the signal's saved context (cs and ss stay the
// host's: resume_from_fault sets the kernel's, for the nucleus).
#pragma once

#include <arch/recovery.h>
#include <signal.h>
#include <ucontext.h>

#include "arch/x86_64/cpu/traps.h"

namespace umka::arch {

inline void resume_signal_context(ucontext_t& context, const RecoveryContext& point) {
    greg_t* registers = context.uc_mcontext.gregs;
    TrapFrame frame{};
    resume_from_fault(frame, point);
    registers[REG_RBX] = greg_t(frame.rbx);
    registers[REG_RBP] = greg_t(frame.rbp);
    registers[REG_R12] = greg_t(frame.r12);
    registers[REG_R13] = greg_t(frame.r13);
    registers[REG_R14] = greg_t(frame.r14);
    registers[REG_R15] = greg_t(frame.r15);
    registers[REG_RIP] = greg_t(frame.rip);
    registers[REG_RSP] = greg_t(frame.rsp);
    registers[REG_RAX] = greg_t(frame.rax);
    registers[REG_EFL] = greg_t(frame.rflags);
}

}  // namespace umka::arch
