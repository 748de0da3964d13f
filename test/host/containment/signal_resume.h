// What the nucleus's trap handler does after a contained fault, done from a host signal
// handler: resume_from_fault on the innermost guarded call's context, then the resulting
// trap frame's registers written into the signal's saved context (cs and ss stay the
// host's: resume_from_fault sets the kernel's, for the nucleus).
#pragma once

#include <arch/recovery.h>
#include <signal.h>
#include <stddef.h>
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

// Sends `signals` to `handler` (SA_SIGINFO, and SA_NODEFER so a fault in the resumed code
// is caught again), keeping the old actions in `saved` (indexed by signal) for
// restore_fault_handlers.
template <size_t Count>
bool install_fault_handlers(void (*handler)(int, siginfo_t*, void*), const int (&signals)[Count],
                            struct sigaction (&saved)[NSIG]) {
    struct sigaction action {};
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    for (int signal : signals) {
        if (sigaction(signal, &action, &saved[signal]) != 0) return false;
    }
    return true;
}

template <size_t Count>
void restore_fault_handlers(const int (&signals)[Count], const struct sigaction (&saved)[NSIG]) {
    for (int signal : signals) sigaction(signal, &saved[signal], nullptr);
}

}  // namespace umka::arch
