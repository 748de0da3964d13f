// The documented limits of the workload commands (README.md): every count a user types is
// parsed with umka::parse_unsigned against one of these, so nothing wraps and nothing runs
// for hours.
#pragma once

#include <stdint.h>

namespace umka::workload {

// `load start cpu|alloc|sleep N`: the LoadWorker records in the state region. Well under
// the scheduler's task table (it grows to 64 chunks of task slots), so the workload cannot
// take every slot from the rest of the system.
inline constexpr uint64_t kMaximumLoadThreads = 256;
// `load start ring|serial N`: each thread has its own ring binding and provider thread,
// and the nucleus has 64 ring bindings for all modules together.
inline constexpr uint64_t kMaximumRingThreads = 32;
// `heap exercise N`: a million checked allocate+free pairs take seconds, not hours.
inline constexpr uint64_t kMaximumExercisePairs = 1000000;
// `probe threads N`: what thread_probe.ThreadProbe.start takes at most (it refuses < 2).
inline constexpr uint64_t kMaximumProbeThreads = 32;
// `measure switch|ring [ROUNDS]`.
inline constexpr uint64_t kMaximumRounds = 10000000;
inline constexpr uint64_t kDefaultRounds = 20000;
// CPUs `load stats` counts progress for (the state's per-CPU counters).
inline constexpr uint32_t kMaximumCpus = 64;
// A long command asks console_command.Interrupt this often (the contract says at least
// every 50 ms).
inline constexpr uint64_t kInterruptPollNs = 20000000;

}  // namespace umka::workload
