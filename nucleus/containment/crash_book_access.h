// The nucleus's one crash book, shared inside nucleus/containment: containment.cpp records
// faults and serves the watchdog, restart.cpp acts on the policy's answers. Not for use
// outside this folder (the published view is read_book() and health_of()).
#pragma once

#include "nucleus/containment/crash_book.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/sched/scheduler.h"

namespace umka::containment::internal {

// A leaf: nothing is logged, and no other lock taken, while it is held.
extern SpinLock book_lock;
extern CrashBook book;
// Threads waiting for another thread's restart of a module they saw crash.
extern sched::WaitQueue restarts_finished;

}  // namespace umka::containment::internal
