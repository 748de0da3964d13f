// Trap dispatch: device and IPI vectors go to their handlers; CPU exceptions are fatal in
// the nucleus and produce a report (vector, RIP, error code, CR2, registers, backtrace).
#include <arch/cpu.h>
#include <arch/interrupts.h>
#include <arch/memory.h>
#include <arch/memory_domain.h>
#include <arch/recovery.h>

#include "arch/x86_64/apic/local_apic.h"
#include "arch/x86_64/cpu/traps.h"
#include "arch/x86_64/cpu/x86.h"
#include "nucleus/containment/containment.h"
#include "nucleus/interrupts/device_interrupts.h"
#include "nucleus/lib/log.h"
#include "nucleus/panic.h"
#include "nucleus/sched/scheduler.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/smp/rendezvous.h"
#include "nucleus/time/clock.h"

namespace umka::arch {
namespace {

const char* exception_name(uint64_t vector) {
    static const char* const kNames[32] = {"#DE divide error",
                                           "#DB debug",
                                           "NMI",
                                           "#BP breakpoint",
                                           "#OF overflow",
                                           "#BR bound range",
                                           "#UD invalid opcode",
                                           "#NM device not available",
                                           "#DF double fault",
                                           "coprocessor overrun",
                                           "#TS invalid TSS",
                                           "#NP segment not present",
                                           "#SS stack fault",
                                           "#GP general protection",
                                           "#PF page fault",
                                           "reserved",
                                           "#MF x87 error",
                                           "#AC alignment check",
                                           "#MC machine check",
                                           "#XM SIMD error",
                                           "#VE virtualization",
                                           "#CP control protection",
                                           "reserved",
                                           "reserved",
                                           "reserved",
                                           "reserved",
                                           "reserved",
                                           "reserved",
                                           "#HV hypervisor injection",
                                           "#VC VMM communication",
                                           "#SX security",
                                           "reserved"};
    return vector < 32 ? kNames[vector] : "interrupt";
}

// The page-fault error code bit of a protection-key violation (SDM Vol. 3A, 4.7).
constexpr uint64_t kPageFaultKeyBit = 1u << 5;
constexpr int kBacktraceDepth = 16;
// How far from the stack pointer a double fault's CR2 may lie for it to be a stack overflow:
// the deepest push an exception frame makes, or the page a prologue's `sub rsp` skipped.
constexpr uint64_t kStackOverflowReach = 4096;

void print_backtrace(uint64_t frame_pointer) {
    log_panic("  backtrace (frame pointers):\n");
    for (int depth = 0; depth < kBacktraceDepth && frame_pointer != 0; ++depth) {
        if ((frame_pointer & 7) != 0 || !is_mapped(frame_pointer) ||
            !is_mapped(frame_pointer + 8)) {
            log_panic("    #%d <frame pointer %p unreadable>\n", depth + 1,
                      reinterpret_cast<void*>(frame_pointer));
            return;
        }
        const uint64_t* frame = reinterpret_cast<const uint64_t*>(frame_pointer);
        uint64_t return_address = frame[1];
        if (return_address == 0) return;
        log_panic("    #%d %p\n", depth + 1, reinterpret_cast<void*>(return_address));
        if (frame[0] <= frame_pointer) return;  // the chain must move up the stack
        frame_pointer = frame[0];
    }
}

}  // namespace

void report_fatal_trap(const TrapFrame& frame) {
    if (!begin_panic()) halt_forever();  // another CPU is already reporting
    stop_other_cpus();
    uint64_t fault_address = x86::read_cr2();
    log_panic("\nFATAL EXCEPTION on cpu %u: vector %lu (%s)\n", current_cpu_index(), frame.vector,
              exception_name(frame.vector));
    log_panic("  rip %p  error code 0x%lx  cr2 %p\n", reinterpret_cast<void*>(frame.rip),
              frame.error_code, reinterpret_cast<void*>(fault_address));
    log_panic("  rsp %p  rbp %p  rflags 0x%lx  cs 0x%lx\n", reinterpret_cast<void*>(frame.rsp),
              reinterpret_cast<void*>(frame.rbp), frame.rflags, frame.cs);
    log_panic("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", frame.rax, frame.rbx, frame.rcx,
              frame.rdx);
    log_panic("  rsi %016lx rdi %016lx r8  %016lx r9  %016lx\n", frame.rsi, frame.rdi, frame.r8,
              frame.r9);
    log_panic("  r10 %016lx r11 %016lx r12 %016lx r13 %016lx\n", frame.r10, frame.r11, frame.r12,
              frame.r13);
    log_panic("  r14 %016lx r15 %016lx\n", frame.r14, frame.r15);
    log_panic("    #0 %p\n", reinterpret_cast<void*>(frame.rip));
    print_backtrace(frame.rbp);
    log_panic("halted: cpu %u stopped the other CPUs\n", current_cpu_index());
    halt_forever();
}

}  // namespace umka::arch

namespace {

void dispatch_trap(umka::arch::TrapFrame* frame) {
    using namespace umka::arch;
    if (frame->vector >= kFirstDeviceVector &&
        frame->vector < uint64_t(kFirstDeviceVector) + kDeviceVectorCount) {
        // Acknowledged first, like the timer: the handler may wake a thread that runs next.
        local_apic::end_of_interrupt();
        umka::interrupts::on_device_vector(uint8_t(frame->vector));
        return;
    }
    switch (frame->vector) {
    case kVectorTimer:
        // Acknowledge first: the tick may switch to another thread before returning here.
        local_apic::end_of_interrupt();
        umka::clock::on_timer_tick();
        umka::containment::watch_guarded_calls();
        umka::sched::on_timer_interrupt();
        return;
    case kVectorReschedule:
        local_apic::end_of_interrupt();
        umka::sched::on_reschedule_interrupt();
        return;
    case kVectorRendezvous:
        // Acknowledge first: a HoldUntilReleased call keeps this CPU here for a while.
        local_apic::end_of_interrupt();
        umka::smp::handle_rendezvous_interrupt();
        return;
    case kVectorHalt:
        halt_forever();
    case kVectorSpurious:
        return;  // no end-of-interrupt for spurious vectors
    case kVectorNmi:
        if (umka::panic_in_progress()) {
            if (umka::cpu_table().count() > 0) {
                umka::cpu_table().current().state.store(umka::CpuState::Halted);
            }
            halt_forever();
        }
        {
            const char* watchdog_fault = nullptr;
            if (umka::containment::WatchdogNmi nmi =
                    umka::containment::watchdog_nmi_here(frame->rip, watchdog_fault);
                nmi == umka::containment::WatchdogNmi::Late) {
                return;
            } else if (nmi == umka::containment::WatchdogNmi::Overdue) {
                // The watchdog's NMI: this CPU ran one guarded call past its limit. Stopped like
                // a fault of the module whose code it was running (nucleus/containment).
                FaultFacts facts{frame->vector, watchdog_fault, frame->rip, 0, 0,
                                 frame->rbp,    frame->rsp};
                if (umka::containment::contain_fault(facts, *frame)) return;
            }
        }
        [[fallthrough]];
    default:
        if (frame->vector == kVectorDoubleFault && !umka::panic_in_progress()) {
            // On its own stack (IST). A page fault whose frame could not be pushed, at an
            // unmapped address beside the stack pointer, is a stack that ran into its guard
            // page: a module's guarded call that overflowed its thread's stack is contained
            // like a fault (the saved RIP and RSP are the overflowing instruction's).
            uint64_t address = x86::read_cr2();
            uint64_t distance = address > frame->rsp ? address - frame->rsp : frame->rsp - address;
            if (distance <= kStackOverflowReach && !is_mapped(address)) {
                FaultFacts facts{frame->vector,     "#DF stack overflow", frame->rip, address,
                                 frame->error_code, frame->rbp,           frame->rsp};
                if (umka::containment::contain_fault(facts, *frame)) return;
            }
        }
        if (frame->vector < 32 && frame->vector != kVectorNmi &&
            frame->vector != kVectorDoubleFault && frame->vector != kVectorMachineCheck &&
            !umka::panic_in_progress()) {
            // A fault raised by a module's code inside a guarded call may be contained:
            // the frame then returns from that call instead (nucleus/containment).
            // A page fault with the PK bit: a write the interrupted code's memory domain
            // forbids (arch/memory_domain.h), the isolation violation.
            const char* name = frame->vector == 14 && (frame->error_code & kPageFaultKeyBit) != 0
                                   ? "#PF protection key"
                                   : exception_name(frame->vector);
            FaultFacts facts{frame->vector,     name,
                             frame->rip,        frame->vector == 14 ? x86::read_cr2() : 0,
                             frame->error_code, frame->rbp,
                             frame->rsp};
            if (umka::containment::contain_fault(facts, *frame)) return;
        }
        report_fatal_trap(*frame);
    }
}

}  // namespace

// Every trap runs the nucleus with all rights: the interrupted code may have been a
// module's, in its memory domain. The interrupted rights come back on the way out (after
// a thread switch inside, on whichever CPU the thread resumes: they are its own).
extern "C" void arch_trap_dispatch(umka::arch::TrapFrame* frame) {
    using namespace umka::arch;
    DomainRights interrupted = kNucleusRights;
    if (memory_domains_enabled()) {
        interrupted = read_domain_rights();
        if (interrupted != kNucleusRights) write_domain_rights(kNucleusRights);
    }
    dispatch_trap(frame);
    if (interrupted != kNucleusRights) write_domain_rights(interrupted);
}
