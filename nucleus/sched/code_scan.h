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

// What a walk before a pause found, per task slot: the slot's switch-in count
// (Task::slot_runs) when its saved chain was walked clean, or kNotWalkedClean. The caller
// owns the array (`capacity` entries; slots added later count as not walked).
struct PrescanMarks {
    static constexpr uint64_t kNotWalkedClean = ~uint64_t(0);
    static constexpr uint32_t kMaximumUnclean = 8;
    uint64_t* runs;
    uint32_t capacity;
    // Every CPU's context switches, summed before the walk: unchanged in the pause, no task
    // has run since, so the pause walks only the running contexts and `unclean`.
    uint64_t switch_ins = 0;
    uint32_t slots_walked = 0;  // the table's capacity at the walk
    // Live tasks the walk could not mark clean (in use, not walkable, or on a CPU then);
    // more than kMaximumUnclean: the pause looks at every slot.
    uint32_t unclean[kMaximumUnclean] = {};
    uint32_t unclean_count = 0;
};

// Task slots now (the size a PrescanMarks array needs; the table only grows).
uint32_t task_slot_capacity();

// Right before a HoldUntilReleased pause (the initiator, interrupts off): walks the saved
// chain of every task off its CPU, but the caller and the tasks of `skip_owner`, and marks
// the clean ones, so that the pause walks only what ran since. A walk the task's running
// disturbed is left unmarked. Returns the frames visited.
uint64_t prescan_saved(uintptr_t begin, uintptr_t end, uint32_t skip_owner, PrescanMarks& marks);

// The same question inside a HoldUntilReleased pause, asked by the initiator about every
// task but itself and the tasks of `skip_owner` (a module's own threads run its old code by
// design; a swap parks the old image for them): the held CPUs' interrupted contexts are
// walked from the frames they published (Cpu::held_frame), the others from their saved
// frames, except a task `marks` found clean that has not run since (its slot_runs is
// unchanged, so its stack is the one walked). Nothing moves during the walk, so InUse is
// certain; Unsure means a context could not be walked. A live swap asks it so that no caller
// is half way through a call into the old image when the state is carried over.
CodeScan scan_paused(uintptr_t begin, uintptr_t end, uint32_t skip_owner,
                     const PrescanMarks* marks);

// A call a stack walk cannot see: a nucleus thread that loaded a service slot has not yet
// entered the code the slot led to, so no return address says it will. Noting an address
// of the image it is about to enter (the record's vtable) makes every scan above count the
// task as InUse until clear_entering(). The caller loads the slot and notes it with
// interrupts off, so that a pause falls before the load or after the note.
void note_entering(uint64_t image_address);
void clear_entering();

// Whether the calling task's own frames, from here to its stack's top, return into
// [begin, end): the task is already inside that image (false when it cannot tell).
bool on_own_stack(uintptr_t begin, uintptr_t end);

}  // namespace umka::sched
