// Guarded calls, as generic code sees them (nucleus/containment): a call the nucleus makes
// into a module's code that a contained fault returns from, and the facts of a CPU fault.
#pragma once

#include <stdint.h>

namespace umka::arch {

// Where a guarded call returns to when a fault inside it is contained: the registers a
// call preserves, its return address and stack, and the interrupt flag at entry. Filled by
// arch_guarded_call; read by resume_from_fault.
struct RecoveryContext {
    uint64_t preserved[6];
    uint64_t return_address;
    uint64_t stack;
    uint64_t flags;
};

// A CPU fault the containment code decides on (the trap frame itself stays in arch/).
struct FaultFacts {
    uint64_t vector;
    const char* name;        // "#PF page fault"
    uint64_t instruction;    // the faulting instruction
    uint64_t fault_address;  // the page-fault linear address (CR2), 0 for other faults
    uint64_t error_code;
    uint64_t frame_pointer;  // of the faulting code
    uint64_t stack_pointer;
};

// A trap frame the containment code may rewrite (opaque outside arch/).
struct TrapFrame;

// Makes the interrupted context, once the trap returns, return from the guarded call that
// saved `context` with the value 1 (its stack above that call is abandoned).
void resume_from_fault(TrapFrame& frame, const RecoveryContext& context);

// Sends a non-maskable interrupt to the CPU `hardware_id`: the watchdog's way into a CPU
// that runs a guarded call with interrupts off and does not come back.
void interrupt_with_nmi(uint32_t hardware_id);

// Walks the frame-pointer chain of a faulting context from `frame_pointer` while it stays
// below `boundary` (the guarded call's stack) and inside [stack_low, boundary): `visit`
// sees each return address and answers false to stop. True when the chain reached the
// boundary with every address accepted.
bool walk_frames_to(uint64_t frame_pointer, uint64_t stack_low, uint64_t boundary,
                    bool (*visit)(void* context, uint64_t address), void* context);

}  // namespace umka::arch

// Calls function(argument) and returns 0 when it returns, or 1 when a fault inside it was
// contained (resume_from_fault). `context` must stay valid for the whole call.
extern "C" uint64_t arch_guarded_call(umka::arch::RecoveryContext* context, void (*function)(void*),
                                      void* argument);
