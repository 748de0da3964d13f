// "Can any task still be executing this code?" — the Resume phase's test before an old
// module image is unloaded. Each context's frame-pointer chain is walked (arch's
// walk_code_addresses: return addresses, and the interrupted instruction of each interrupt
// frame); any address inside [begin, end) counts as a use, and a chain that cannot be
// walked, or a task that ran while it was walked, makes the answer Unsure. Once a module's service
// slots lead elsewhere, nothing calls into the old image again; it can only be returned into or
// continued in, so a context found clean once stays clean.
#pragma once

#include <stdint.h>

namespace umka::sched {

enum class CodeUse : uint8_t {
    Unused,  // no task, running or saved, has an address of the range on its stack
    InUse,   // some task does (a return address, a saved or interrupted RIP)
    Unsure,  // a task kept running or switching while it was scanned: try again later
};
const char* code_use_name(CodeUse use);

struct CodeScan {
    CodeUse use;
    uint32_t task;  // the task that holds an address (InUse) or could not be scanned
    uint64_t frames_visited;
};

// Walks every running context (each CPU walks its own from inside a rendezvous interrupt,
// through the interrupt frame) and every saved one (each task off its CPU, from the frame
// arch_switch_stacks saved). Call with interrupts on, outside
// any run-queue lock.
CodeScan scan_for_code(uintptr_t begin, uintptr_t end);

// The same question inside a HoldUntilReleased pause, asked by the initiator about every
// task but itself and the tasks of `skip_owner` (a module's own threads run its old code by
// design; a swap parks the old image for them): the held CPUs' interrupted contexts are
// walked from the frames they published (Cpu::held_frame), the others from their saved
// frames. Nothing moves during the walk, so InUse is certain; Unsure means a context could
// not be walked. A live swap asks it so that no caller is half way through a call into the
// old image when the state is carried over.
CodeScan scan_paused(uintptr_t begin, uintptr_t end, uint32_t skip_owner);

}  // namespace umka::sched
