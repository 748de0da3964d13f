// Every nucleus spin lock has a level: the lock order of docs/nucleus.md, written once.
// A CPU takes locks outer first, so each lock it takes has a level strictly greater than
// the innermost one it holds (nucleus/lib/lock_checks.h checks this in host tests and in
// the checked kernel). Two exceptions, both from the doc:
// - run-queue locks nest with each other in CPU-id order (work stealing, the policy swap's
//   snapshot): a lock's ordinal is its CPU's index, and a second run-queue lock must have a
//   greater ordinal than the one held;
// - a leaf takes nothing at all while held, not even a lock of a greater level.
#pragma once

#include <stdint.h>

namespace umka {

enum class LockLevel : uint8_t {
    Unset = 0,          // a lock nobody gave a level (zero-filled memory): taking it is a failure
    Rendezvous,         // smp/rendezvous.cpp: held for a whole rendezvous
    CapabilityWriter,   // loader/module_system.cpp, recursive on its CPU
    RingBindings,       // ring/ring_bindings.cpp: the table of ring bindings
    DirectGuards,       // containment/direct_guards.cpp: the guards of direct calls (leaf)
    WaitQueue,          // sched::WaitQueue's own lock
    Sleepers,           // sched/wait_queue.cpp: the sleeper list
    RunQueue,           // sched: one per CPU, several only in CPU-id order
    TaskSlots,          // sched/scheduler.cpp: slot allocation (leaf)
    ModuleQueueTable,   // published/threads_service.cpp: module wait-queue handles (leaf)
    ModuleRingHandles,  // published/rings_service.cpp: module ring-binding handles (leaf)
    CrashBook,          // containment/containment.cpp: crash reports and health (leaf)
    DeviceRegistry,     // published/device_registry.cpp: published devices and their drivers
    DeviceInterrupts,   // interrupts/device_interrupts.cpp: vectors and bindings
    InterruptLines,     // arch: the I/O APICs' select/window pairs (leaf)
    AddressSpace,       // arch/*/mm: the kernel page tables
    PhysicalMemory,     // mm/physical_memory.cpp: the frame allocator (leaf)
    Console,            // lib/log.cpp: the console (leaf)
    Count,
};

// For the check's messages.
constexpr const char* lock_level_name(LockLevel level) {
    switch (level) {
    case LockLevel::Unset:
        return "unset";
    case LockLevel::Rendezvous:
        return "rendezvous";
    case LockLevel::CapabilityWriter:
        return "capability-writer";
    case LockLevel::RingBindings:
        return "ring-bindings";
    case LockLevel::DirectGuards:
        return "direct-guards";
    case LockLevel::WaitQueue:
        return "wait-queue";
    case LockLevel::Sleepers:
        return "sleepers";
    case LockLevel::RunQueue:
        return "run-queue";
    case LockLevel::TaskSlots:
        return "task-slots";
    case LockLevel::ModuleQueueTable:
        return "module-queue-table";
    case LockLevel::ModuleRingHandles:
        return "module-ring-handles";
    case LockLevel::CrashBook:
        return "crash-book";
    case LockLevel::DeviceRegistry:
        return "device-registry";
    case LockLevel::DeviceInterrupts:
        return "device-interrupts";
    case LockLevel::InterruptLines:
        return "interrupt-lines";
    case LockLevel::AddressSpace:
        return "address-space";
    case LockLevel::PhysicalMemory:
        return "physical-memory";
    case LockLevel::Console:
        return "console";
    case LockLevel::Count:
        break;
    }
    return "?";
}

// Locks of this level may nest with each other, in increasing ordinal order.
constexpr bool lock_level_nests_in_order(LockLevel level) {
    return level == LockLevel::RunQueue;
}

// A leaf is held only around its own data: no lock of any level is taken under it.
constexpr bool lock_level_is_leaf(LockLevel level) {
    return level == LockLevel::TaskSlots || level == LockLevel::DirectGuards ||
           level == LockLevel::ModuleQueueTable || level == LockLevel::ModuleRingHandles ||
           level == LockLevel::PhysicalMemory || level == LockLevel::InterruptLines ||
           level == LockLevel::Console;
}

}  // namespace umka
