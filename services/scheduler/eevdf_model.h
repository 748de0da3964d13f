// A small reference model of the scheduler policy, written from the rules in README.md
// (EEVDF as in Stoica et al. and Linux >= 6.6) without any of the module's machinery: plain
// containers, V recomputed from scratch as floor(sum w_i v_i / sum w_i) with 128-bit sums,
// signed virtual times, linear scans everywhere. The tests run it side by side with the
// module's ELF and require the same answers and the same per-task numbers.
#pragma once

#include <stdint.h>

#include <optional>
#include <set>
#include <vector>

namespace umka::scheduler_model {

inline constexpr uint32_t kNone = 0xFFFF'FFFF;
inline constexpr int64_t kSliceNs = 3'000'000;

enum class ModelState { Unused, Blocked, Queued, Running };
enum class Placement { Created, KeepLag };

// Linux's sched_prio_to_weight, copied independently of the module's table.
uint32_t model_weight(int nice);

struct ModelTask {
    ModelState state = ModelState::Unused;
    int nice = 0;
    uint32_t weight = 0;
    bool pinned = false;
    uint32_t cpu = 0;
    int64_t virtual_runtime = 0;
    int64_t virtual_deadline = 0;
    int64_t kept_lag = 0;  // V - v when it left a queue
    uint64_t received_ns = 0;
};

struct ModelQueue {
    uint32_t current = kNone;
    std::set<uint32_t> queued;
    int64_t empty_time = 0;  // V while nothing is runnable: V when the queue emptied
    uint64_t clock_ns = 0;
    bool preempt_pending = false;
    uint64_t context_switches = 0;
    uint64_t tasks_stolen = 0;
};

class EevdfModel {
public:
    EevdfModel(uint32_t cpus, uint32_t task_slots);

    void create(uint32_t task, int nice, uint32_t cpu, bool pinned);
    void exit(uint32_t task);
    // Returns preempt_current.
    bool enqueue(uint32_t cpu, uint32_t task, Placement placement, uint64_t now_ns);
    void dequeue(uint32_t cpu, uint32_t task, uint64_t now_ns);
    uint32_t pick(uint32_t cpu, uint64_t now_ns);
    bool tick(uint32_t cpu, uint64_t now_ns);
    void yield(uint32_t cpu, uint64_t now_ns);
    void set_nice(uint32_t task, int nice, uint64_t now_ns);
    uint32_t select_cpu(uint32_t task, uint32_t previous_cpu) const;
    uint32_t find_busiest(uint32_t cpu) const;
    // The stolen task, or nullopt when the module must answer EAGAIN.
    std::optional<uint32_t> steal(uint32_t from, uint32_t to, uint64_t now_ns);

    int64_t virtual_time(uint32_t cpu) const;
    uint64_t total_weight(uint32_t cpu) const;
    std::vector<uint32_t> runnable(uint32_t cpu) const;
    // V - v for a runnable task, the kept lag for a blocked one.
    int64_t lag(uint32_t task) const;

    const ModelTask& task(uint32_t index) const { return tasks_[index]; }
    const ModelQueue& queue(uint32_t cpu) const { return queues_[cpu]; }
    uint32_t cpu_count() const { return uint32_t(queues_.size()); }
    uint32_t task_slots() const { return uint32_t(tasks_.size()); }

private:
    bool charge(uint32_t cpu, uint64_t now_ns);
    void place(uint32_t cpu, uint32_t task, Placement placement);
    void remove(uint32_t cpu, uint32_t task);
    // The eligible candidate with the earliest deadline (ties: lowest slot), or kNone.
    uint32_t best(uint32_t cpu, const std::vector<uint32_t>& candidates) const;
    uint32_t runnable_count(uint32_t cpu) const;

    std::vector<ModelTask> tasks_;
    std::vector<ModelQueue> queues_;
};

}  // namespace umka::scheduler_model
