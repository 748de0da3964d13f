#include "nucleus/sched/code_scan.h"

#include <arch/context.h>
#include <arch/cpu.h>

#include <atomic>

#include "nucleus/loader/module_system.h"
#include "nucleus/mm/object_memory.h"
#include "nucleus/sched/scheduler_internal.h"
#include "nucleus/smp/cpu_table.h"
#include "nucleus/smp/rendezvous.h"

namespace umka::sched {
namespace {

using namespace internal;

constexpr uint32_t kNoTask = 0xFFFFFFFFu;
constexpr int kRounds = 8;

struct Range {
    uintptr_t begin;
    uintptr_t end;
};

bool in_range(void* context, uint64_t address) {
    const Range& range = *static_cast<const Range*>(context);
    return address >= range.begin && address < range.end;
}

// What a walk of one context's frame chain found.
CodeUse walk(uint64_t frame_pointer, uint64_t stack_low, uint64_t stack_top, Range& range,
             uint64_t& frames) {
    struct Visit {
        Range* range;
        uint64_t* frames;
    } visit{&range, &frames};
    arch::StackWalk result = arch::walk_code_addresses(
        frame_pointer, stack_low, stack_top,
        [](void* context, uint64_t address) {
            auto& state = *static_cast<Visit*>(context);
            ++*state.frames;
            return in_range(state.range, address);
        },
        &visit);
    switch (result) {
    case arch::StackWalk::Complete:
        return CodeUse::Unused;
    case arch::StackWalk::Stopped:
        return CodeUse::InUse;
    case arch::StackWalk::Broken:
        return CodeUse::Unsure;
    }
    return CodeUse::Unsure;
}

// Per scan: which tasks are known clean, and what the CPUs found on their own stacks.
struct ScanState {
    Range range;
    uint32_t capacity;  // task slots when the scan began (slots added later hold new tasks)
    uint8_t* clean;     // `capacity` entries
    std::atomic<uint32_t> in_use_task;
    std::atomic<uint64_t> frames;
};

bool is_entering(const Task& task, Range& range) {
    return in_range(&range, task.entering_code.load(std::memory_order_acquire));
}

// In the rendezvous interrupt of each CPU: its current context, from this handler's frame
// through the interrupt frame into whatever it interrupted. The idle context runs only
// nucleus code and policy calls made with interrupts off, so it needs no walk.
void scan_own_stack(void* argument) {
    auto& state = *static_cast<ScanState*>(argument);
    Task* current = cpus[arch::current_cpu_index()].current;
    if (current == nullptr || current->slot >= state.capacity) return;
    uint64_t here = uint64_t(__builtin_frame_address(0));
    if (current->stack_top == 0 || here > current->stack_top) return;  // unknown: stays unsure
    uint64_t frames = 0;
    Range range = state.range;
    CodeUse use = is_entering(*current, range)
                      ? CodeUse::InUse
                      : walk(here, here, current->stack_top, range, frames);
    if (use == CodeUse::InUse) {
        state.in_use_task.store(current->slot, std::memory_order_relaxed);
    } else if (use == CodeUse::Unused) {
        state.clean[current->slot] = 1;
    }
    state.frames.fetch_add(frames, std::memory_order_relaxed);
}

// A task off its CPU: where it resumes and its saved chain, if it stayed off its CPU
// throughout (`runs`: its slot_runs while it was walked).
CodeUse scan_saved(Task& task, Range& range, uint64_t& frames, uint64_t& runs) {
    if (task.stack_top == 0) return CodeUse::Unsure;
    runs = __atomic_load_n(&task.slot_runs, __ATOMIC_ACQUIRE);
    if (task.on_cpu.load(std::memory_order_acquire) != 0) return CodeUse::Unsure;
    uint64_t saved = task.stack_pointer;
    ++frames;
    CodeUse use =
        is_entering(task, range) || in_range(&range, arch::saved_resume_address(saved))
            ? CodeUse::InUse
            : walk(arch::saved_frame_pointer(saved), saved, task.stack_top, range, frames);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (task.on_cpu.load(std::memory_order_acquire) != 0 ||
        __atomic_load_n(&task.slot_runs, __ATOMIC_ACQUIRE) != runs) {
        return CodeUse::Unsure;
    }
    return use;
}

uint64_t switch_ins_everywhere() {
    uint64_t total = 0;
    for (Cpu& cpu : cpu_table())
        total += __atomic_load_n(&cpus[cpu.index].switch_ins, __ATOMIC_ACQUIRE);
    return total;
}

// A task's context as a paused walk sees it: from `frame` (a held CPU's handler frame) or,
// for a task off its CPU, from its saved frame.
CodeUse walk_paused(Task& task, uint64_t frame, Range& range, uint64_t& frames) {
    if (is_entering(task, range)) return CodeUse::InUse;
    if (task.stack_top == 0) return CodeUse::Unsure;
    if (frame != 0) {
        if (frame > task.stack_top) return CodeUse::Unsure;
        return walk(frame, frame, task.stack_top, range, frames);
    }
    uint64_t saved = task.stack_pointer;
    if (in_range(&range, arch::saved_resume_address(saved))) return CodeUse::InUse;
    return walk(arch::saved_frame_pointer(saved), saved, task.stack_top, range, frames);
}

}  // namespace

uint32_t task_slot_capacity() {
    return detail::task_capacity();
}

uint64_t prescan_saved(uintptr_t begin, uintptr_t end, uint32_t skip_owner, PrescanMarks& marks) {
    for (uint32_t slot = 0; slot < marks.capacity; ++slot)
        marks.runs[slot] = PrescanMarks::kNotWalkedClean;
    marks.unclean_count = 0;
    marks.switch_ins = switch_ins_everywhere();
    marks.slots_walked = 0;
    if (!running()) return 0;
    Range range{begin, end};
    Task* self = cpus[arch::current_cpu_index()].current;
    uint64_t frames = 0;
    uint32_t capacity = detail::task_capacity();
    if (capacity > marks.capacity) {
        marks.unclean_count = PrescanMarks::kMaximumUnclean + 1;  // grown: look at every slot
        capacity = marks.capacity;
    }
    detail::for_each_task(capacity, [&](Task& task) {
        if (&task == self || task.owner == skip_owner ||
            task.state.load(std::memory_order_acquire) == TaskState::Free) {
            return true;  // skipped by the pause too, or a task created later (never run)
        }
        // A task on a CPU now is listed, not skipped: it may be leaving its CPU in a switch
        // whose switch-in was counted before the sum above, and then be off every CPU in
        // the pause with no change to the sum.
        uint64_t runs = 0;
        if (task.on_cpu.load(std::memory_order_acquire) == 0 &&
            scan_saved(task, range, frames, runs) == CodeUse::Unused) {
            marks.runs[task.slot] = runs;
        } else if (marks.unclean_count < PrescanMarks::kMaximumUnclean) {
            marks.unclean[marks.unclean_count++] = task.slot;
        } else {
            marks.unclean_count = PrescanMarks::kMaximumUnclean + 1;
        }
        return true;
    });
    marks.slots_walked = capacity;
    return frames;
}

CodeScan scan_paused(uintptr_t begin, uintptr_t end, uint32_t skip_owner,
                     const PrescanMarks* marks) {
    CodeScan result{CodeUse::Unused, kNoTask, 0};
    if (!running()) return result;
    Range range{begin, end};
    Task* self = cpus[arch::current_cpu_index()].current;
    auto consider = [&](Task& task, uint64_t frame) {
        if (&task == self || task.owner == skip_owner) return true;
        CodeUse use = walk_paused(task, frame, range, result.frames_visited);
        if (use == CodeUse::Unused) return true;
        result.task = task.slot;
        result.use = use;
        return use != CodeUse::InUse;  // an Unsure one is reported unless a use turns up
    };
    for (Cpu& cpu : cpu_table()) {
        if (&cpu == &cpu_table().current() ||
            cpu.state.load(std::memory_order_acquire) != CpuState::Online) {
            continue;
        }
        Task* running_task = cpus[cpu.index].current;
        if (running_task == nullptr || running_task == &cpus[cpu.index].idle) continue;
        if (!consider(*running_task, cpu.held_frame.load(std::memory_order_acquire))) return result;
    }
    if (marks != nullptr && marks->unclean_count <= PrescanMarks::kMaximumUnclean &&
        marks->slots_walked == detail::task_capacity() &&
        marks->switch_ins == switch_ins_everywhere()) {
        // No task was switched in since the walk before the pause: every task off its CPU
        // then is off it still, on the stack walked (a task created since never ran). Only
        // what that walk could not mark clean is looked at again.
        for (uint32_t index = 0; index < marks->unclean_count; ++index) {
            Task& task = detail::task_at(marks->unclean[index]);
            if (task.state.load(std::memory_order_acquire) == TaskState::Free ||
                task.on_cpu.load(std::memory_order_acquire) != 0) {
                continue;  // running ones were walked above
            }
            if (!consider(task, 0)) return result;
        }
        return result;
    }
    detail::for_each_task(detail::task_capacity(), [&](Task& task) {
        if (task.state.load(std::memory_order_acquire) == TaskState::Free ||
            task.on_cpu.load(std::memory_order_acquire) != 0) {
            return true;  // running ones were walked above
        }
        uint32_t slot = task.slot;
        if (marks != nullptr && slot < marks->capacity &&
            marks->runs[slot] != PrescanMarks::kNotWalkedClean &&
            marks->runs[slot] == __atomic_load_n(&task.slot_runs, __ATOMIC_ACQUIRE)) {
            return true;  // walked clean before the pause and not run since: the same stack
        }
        return consider(task, 0);
    });
    return result;
}

void note_entering(uint64_t image_address) {
    Task* self = current_task();
    if (self != nullptr) self->entering_code.store(image_address, std::memory_order_release);
}

bool on_own_stack(uintptr_t begin, uintptr_t end) {
    Task* self = current_task();
    if (self == nullptr || self->stack_top == 0) return false;
    uint64_t here = uint64_t(__builtin_frame_address(0));
    if (here > self->stack_top) return false;
    Range range{begin, end};
    uint64_t frames = 0;
    return walk(here, here, self->stack_top, range, frames) == CodeUse::InUse;
}

void clear_entering() {
    Task* self = current_task();
    if (self != nullptr) self->entering_code.store(0, std::memory_order_release);
}

const char* code_use_name(CodeUse use) {
    switch (use) {
    case CodeUse::Unused:
        return "unused";
    case CodeUse::InUse:
        return "in use";
    case CodeUse::Unsure:
        return "unsure";
    }
    return "?";
}

CodeScan scan_for_code(uintptr_t begin, uintptr_t end) {
    if (!running()) return CodeScan{CodeUse::Unused, kNoTask, 0};
    uint32_t capacity = detail::task_capacity();
    Result<void*> memory = loader::allocate_object(capacity);
    if (memory.is_error()) return CodeScan{CodeUse::Unsure, kNoTask, 0};
    ScanState state{
        Range{begin, end}, capacity, static_cast<uint8_t*>(memory.value()), {kNoTask}, {0}};
    CodeScan result{CodeUse::Unsure, kNoTask, 0};
    for (int round = 0; round < kRounds && result.use == CodeUse::Unsure; ++round) {
        if (smp::rendezvous(smp::RendezvousMode::RunEverywhere, scan_own_stack, &state)
                .is_error()) {
            continue;
        }
        uint32_t holder = state.in_use_task.load(std::memory_order_relaxed);
        if (holder != kNoTask) {
            result = CodeScan{CodeUse::InUse, holder, 0};
            break;
        }
        result.use = CodeUse::Unused;
        for (uint32_t slot = 0; slot < capacity; ++slot) {
            Task& task = detail::task_at(slot);
            if (state.clean[slot] ||
                task.state.load(std::memory_order_acquire) == TaskState::Free) {
                continue;
            }
            uint64_t frames = 0;
            uint64_t runs = 0;
            CodeUse use = scan_saved(task, state.range, frames, runs);
            state.frames.fetch_add(frames, std::memory_order_relaxed);
            if (use == CodeUse::Unused) {
                state.clean[slot] = 1;
            } else if (use == CodeUse::InUse) {
                result = CodeScan{CodeUse::InUse, uint32_t(slot), 0};
                break;
            } else {
                result = CodeScan{CodeUse::Unsure, uint32_t(slot), 0};
            }
        }
        if (result.use == CodeUse::Unsure) yield();  // let the task switch out, then retry
    }
    result.frames_visited = state.frames.load(std::memory_order_relaxed);
    loader::free_object(memory.value());
    return result;
}

}  // namespace umka::sched
