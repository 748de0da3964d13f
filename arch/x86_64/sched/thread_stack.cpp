#include <arch/context.h>

#include "arch/x86_64/apic/local_apic.h"
#include "arch/x86_64/cpu/traps.h"

extern "C" void arch_thread_start();

namespace umka::arch {

uint64_t prepare_thread_stack(uint64_t stack_top, void (*start)(uint64_t), uint64_t argument) {
    // After the pops in arch_switch_stacks, `ret` lands on arch_thread_start with RSP at
    // stack_top - 16; its `call` then gives `start` the System V entry alignment.
    uint64_t* slot = reinterpret_cast<uint64_t*>(stack_top - 16);
    *slot-- = 0;  // padding so the entry sees an aligned stack
    *slot-- = reinterpret_cast<uint64_t>(&arch_thread_start);
    *slot-- = 0;                                  // rbp
    *slot-- = 0;                                  // rbx
    *slot-- = argument;                           // r12
    *slot-- = reinterpret_cast<uint64_t>(start);  // r13
    *slot-- = 0;                                  // r14
    *slot = 0;                                    // r15
    // No RFLAGS word: the thread starts with the switcher's flags, interrupts off.
    return reinterpret_cast<uint64_t>(slot);
}

void send_reschedule_interrupt(uint32_t hardware_id) {
    local_apic::send(hardware_id, local_apic::Delivery::Fixed, kVectorReschedule);
}

extern "C" char boot_stack[];
extern "C" char boot_stack_top[];

uint64_t boot_stack_top_containing(uint64_t stack_pointer) {
    uint64_t bottom = reinterpret_cast<uint64_t>(boot_stack);
    uint64_t top = reinterpret_cast<uint64_t>(boot_stack_top);
    return stack_pointer >= bottom && stack_pointer <= top ? top : 0;
}

}  // namespace umka::arch
