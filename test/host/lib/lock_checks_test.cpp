// Spin locks on the host (every thread is a CPU): mutual exclusion, owners and
// assert_held, and the lock-order checker (lockdep-lite) accepting the documented order
// and stopping at the first lock taken out of it, naming both locks.
#include "nucleus/lib/lock_checks.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "nucleus/lib/lock_cpu.h"
#include "nucleus/lib/recursive_spinlock.h"
#include "nucleus/lib/spinlock.h"

namespace umka {
namespace {

static_assert(lock_checks::kEnabled, "host builds check the lock order");

std::string at_line(int line, const std::string& message) {
    return "lock_checks_test\\.cpp:" + std::to_string(line) + ": " + message;
}

// One line each, so __LINE__ is the line of the lock call inside it.
#define EXPECT_DEATH_HERE(statement, message) EXPECT_DEATH(statement, at_line(__LINE__, message))

uint32_t held_here() {
    return lock_checks::held_count(lock_cpu::index());
}

TEST(SpinLockTest, ExcludesOtherCpus) {
    SpinLock lock{LockLevel::WaitQueue};
    uint64_t counter = 0;
    std::vector<std::thread> cpus;
    for (int cpu = 0; cpu < 4; ++cpu) {
        cpus.emplace_back([&] {
            for (int round = 0; round < 5000; ++round) {
                SpinLockGuard guard(lock);
                ++counter;
            }
        });
    }
    for (std::thread& cpu : cpus) cpu.join();
    EXPECT_EQ(counter, 20000u);
    EXPECT_EQ(held_here(), 0u);
}

TEST(SpinLockTest, AssertHeldPassesForTheHolder) {
    SpinLock lock{LockLevel::Console};
    EXPECT_FALSE(lock.held_by_this_cpu());
    {
        SpinLockGuard guard(lock);
        EXPECT_TRUE(lock.held_by_this_cpu());
        lock.assert_held();
    }
    EXPECT_FALSE(lock.held_by_this_cpu());
}

TEST(SpinLockTest, AssertHeldFailsWhenNotHeld) {
    SpinLock lock{LockLevel::Console};
    EXPECT_DEATH_HERE(lock.assert_held(), "console lock 0x[0-9a-f]+ is not held by cpu");
}

TEST(SpinLockTest, AssertHeldFailsOnAnotherCpuThanTheHolder) {
    SpinLock lock{LockLevel::AddressSpace};
    SpinLockGuard guard(lock);
    EXPECT_DEATH(
        std::thread([&] { lock.assert_held(); }).join(),
        "address-space lock 0x[0-9a-f]+ is not held by cpu [0-9]+ \\(held by cpu [0-9]+\\)");
}

TEST(SpinLockTest, UnlockingALockThisCpuDoesNotHoldFails) {
    SpinLock lock{LockLevel::Sleepers};
    EXPECT_DEATH_HERE(lock.unlock(arch::InterruptState::Enabled),
                      "sleepers lock 0x[0-9a-f]+ is not held by cpu [0-9]+ \\(it is free\\)");
}

TEST(LockOrderTest, TheDocumentedOrderIsAccepted) {
    SpinLock rendezvous{LockLevel::Rendezvous};
    RecursiveSpinLock capabilities{LockLevel::CapabilityWriter};
    SpinLock rings{LockLevel::RingBindings};
    SpinLock queue{LockLevel::WaitQueue};
    SpinLock sleepers{LockLevel::Sleepers};
    SpinLock run_queue_0{LockLevel::RunQueue, 0};
    SpinLock run_queue_3{LockLevel::RunQueue, 3};
    SpinLock address_space{LockLevel::AddressSpace};
    SpinLock frames{LockLevel::PhysicalMemory};
    {
        SpinLockGuard a(rendezvous);
        RecursiveSpinLockGuard b(capabilities);
        SpinLockGuard c(rings);
        SpinLockGuard d(queue);
        SpinLockGuard e(sleepers);
        SpinLockGuard f(run_queue_0);
        SpinLockGuard g(run_queue_3);  // a second run queue, in CPU-id order
        EXPECT_EQ(held_here(), 6u);    // the two run queues are one entry
        SpinLockGuard h(address_space);
        SpinLockGuard i(frames);
        EXPECT_EQ(held_here(), 8u);
    }
    EXPECT_EQ(held_here(), 0u);
}

TEST(LockOrderTest, ReleasingOutOfOrderKeepsTheRecordExact) {
    SpinLock outer{LockLevel::Rendezvous};
    SpinLock inner{LockLevel::AddressSpace};
    arch::InterruptState first = outer.lock();
    arch::InterruptState second = inner.lock();
    outer.unlock(first);
    EXPECT_EQ(held_here(), 1u);
    // Only the address-space lock is held now: the frame allocator's, inner to it, may follow.
    SpinLock frames{LockLevel::PhysicalMemory};
    arch::InterruptState third = frames.lock();
    frames.unlock(third);
    inner.unlock(second);
    EXPECT_EQ(held_here(), 0u);
    // Everything given back: the outermost lock may be taken again.
    SpinLockGuard again(outer);
}

TEST(LockOrderTest, AnOuterLockTakenInsideIsCaughtNamingBothLocks) {
    SpinLock rendezvous{LockLevel::Rendezvous};
    SpinLock address_space{LockLevel::AddressSpace};
    SpinLockGuard inner(address_space);
    EXPECT_DEATH_HERE(rendezvous.lock(),
                      "lock order: taking rendezvous lock #0 \\(0x[0-9a-f]+\\) while holding "
                      "address-space lock #0 \\(0x[0-9a-f]+\\): outer lock taken inside");
}

TEST(LockOrderTest, TheCapabilityLockUnderTheRunQueueIsCaught) {
    RecursiveSpinLock capabilities{LockLevel::CapabilityWriter};
    SpinLock run_queue{LockLevel::RunQueue, 1};
    SpinLockGuard inner(run_queue);
    EXPECT_DEATH_HERE(capabilities.lock(),
                      "lock order: taking capability-writer lock .* while holding run-queue");
}

TEST(LockOrderTest, RunQueuesAgainstCpuIdOrderAreCaught) {
    SpinLock run_queue_1{LockLevel::RunQueue, 1};
    SpinLock run_queue_2{LockLevel::RunQueue, 2};
    SpinLockGuard second(run_queue_2);
    EXPECT_DEATH_HERE(run_queue_1.lock(),
                      "lock order: taking run-queue lock #1 .* holding run-queue lock #2 .*same "
                      "level out of order");
}

TEST(LockOrderTest, TwoLocksOfALevelThatDoesNotNestAreCaught) {
    SpinLock first{LockLevel::WaitQueue};
    SpinLock second{LockLevel::WaitQueue};
    SpinLockGuard held(first);
    EXPECT_DEATH_HERE(
        second.lock(),
        "lock order: taking wait-queue lock .* holding wait-queue lock .*two locks of one level");
}

TEST(LockOrderTest, ALeafTakesNothing) {
    SpinLock frames{LockLevel::PhysicalMemory};
    SpinLock console{LockLevel::Console};
    SpinLockGuard held(frames);
    EXPECT_DEATH_HERE(
        console.lock(),
        "lock order: taking console lock .* physical-memory lock .*a leaf lock takes nothing");
}

TEST(LockOrderTest, ALockWithoutALevelIsRefused) {
    SpinLock unlevelled{LockLevel::Unset};
    EXPECT_DEATH_HERE(unlevelled.lock(), "lock 0x[0-9a-f]+ has no lock level");
}

TEST(LockOrderTest, EachCpuHasItsOwnRecord) {
    SpinLock address_space{LockLevel::AddressSpace};
    SpinLock rendezvous{LockLevel::Rendezvous};
    SpinLockGuard inner(address_space);
    // Another CPU holds nothing, so it may take the outermost lock.
    std::thread([&] { SpinLockGuard outer(rendezvous); }).join();
    EXPECT_EQ(held_here(), 1u);
}

TEST(RecursiveSpinLockTest, TakingItAgainIsNotAnOrderViolation) {
    RecursiveSpinLock capabilities{LockLevel::CapabilityWriter};
    SpinLock address_space{LockLevel::AddressSpace};
    RecursiveSpinLockGuard outer(capabilities);
    SpinLockGuard inner(address_space);
    {
        // A module's entry point allocating memory during its bind, for example.
        RecursiveSpinLockGuard again(capabilities);
        capabilities.assert_held();
    }
    capabilities.assert_held();
}

TEST(RecursiveSpinLockTest, AssertHeldFailsWhenNotHeld) {
    RecursiveSpinLock capabilities{LockLevel::CapabilityWriter};
    EXPECT_DEATH_HERE(capabilities.assert_held(), "capability-writer lock .* is not held");
}

TEST(LockOrderTest, LeavingTheCpuWithALockHeldIsCaught) {
    verify_no_spin_lock_held("a context switch");
    SpinLock run_queue{LockLevel::RunQueue, 0};
    SpinLockGuard held(run_queue);
    EXPECT_DEATH_HERE(verify_no_spin_lock_held("a context switch"),
                      "holding run-queue lock 0x[0-9a-f]+ across a context switch");
}

}  // namespace
}  // namespace umka
