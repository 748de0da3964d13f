// The reference model (eevdf_model.h). Deliberately naive: nothing is cached, every
// quantity is recomputed from the task list when it is needed.
#include "eevdf_model.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace umka::scheduler_model {

namespace {

// Floor of a / b for b > 0, on 128-bit values.
int64_t floor_div(__int128 a, __int128 b) {
    __int128 quotient = a / b;
    if (a % b != 0 && a < 0) quotient -= 1;
    return int64_t(quotient);
}

// Real ns to virtual ns: real x 1024 / weight, rounded down.
int64_t to_virtual(uint64_t real_ns, uint32_t weight) {
    return int64_t((unsigned __int128)real_ns * 1024 / weight);
}

int64_t request(uint32_t weight) {
    return to_virtual(kSliceNs, weight);
}

int64_t lag_bound(uint32_t weight) {
    return to_virtual(2 * kSliceNs, weight);
}

// value x multiplier / divisor truncated toward zero, as C++ integer division does.
int64_t scaled(int64_t value, uint64_t multiplier, uint64_t divisor) {
    return int64_t((__int128)value * (__int128)multiplier / (__int128)divisor);
}

}  // namespace

uint32_t model_weight(int nice) {
    static const uint32_t table[40] = {
        88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
        9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,  1586,  1277,
        1024,  820,   655,   526,   423,   335,   272,   215,   172,   137,
        110,   87,    70,    56,    45,    36,    29,    23,    18,    15,
    };
    return table[nice + 20];
}

EevdfModel::EevdfModel(uint32_t cpus, uint32_t task_slots) : tasks_(task_slots), queues_(cpus) {}

std::vector<uint32_t> EevdfModel::runnable(uint32_t cpu) const {
    std::vector<uint32_t> result(queues_[cpu].queued.begin(), queues_[cpu].queued.end());
    if (queues_[cpu].current != kNone) result.push_back(queues_[cpu].current);
    return result;
}

uint32_t EevdfModel::runnable_count(uint32_t cpu) const {
    return uint32_t(runnable(cpu).size());
}

uint64_t EevdfModel::total_weight(uint32_t cpu) const {
    uint64_t weight = 0;
    for (uint32_t index : runnable(cpu)) weight += tasks_[index].weight;
    return weight;
}

int64_t EevdfModel::virtual_time(uint32_t cpu) const {
    __int128 weighted = 0;
    __int128 weight = 0;
    for (uint32_t index : runnable(cpu)) {
        weighted += (__int128)tasks_[index].weight * tasks_[index].virtual_runtime;
        weight += tasks_[index].weight;
    }
    if (weight == 0) return queues_[cpu].empty_time;
    return floor_div(weighted, weight);
}

int64_t EevdfModel::lag(uint32_t index) const {
    const ModelTask& task = tasks_[index];
    if (task.state == ModelState::Queued || task.state == ModelState::Running) {
        return virtual_time(task.cpu) - task.virtual_runtime;
    }
    return task.kept_lag;
}

uint32_t EevdfModel::best(uint32_t cpu, const std::vector<uint32_t>& candidates) const {
    int64_t now_virtual = virtual_time(cpu);
    uint32_t chosen = kNone;
    for (uint32_t index : candidates) {
        const ModelTask& task = tasks_[index];
        if (task.virtual_runtime > now_virtual) continue;  // not eligible
        if (chosen == kNone || task.virtual_deadline < tasks_[chosen].virtual_deadline ||
            (task.virtual_deadline == tasks_[chosen].virtual_deadline && index < chosen)) {
            chosen = index;
        }
    }
    return chosen;
}

bool EevdfModel::charge(uint32_t cpu, uint64_t now_ns) {
    ModelQueue& queue = queues_[cpu];
    uint64_t delta = 0;
    if (now_ns > queue.clock_ns) {
        delta = now_ns - queue.clock_ns;
        queue.clock_ns = now_ns;
    }
    if (queue.current == kNone) return false;
    ModelTask& task = tasks_[queue.current];
    task.received_ns += delta;
    task.virtual_runtime += to_virtual(delta, task.weight);
    if (task.virtual_runtime >= task.virtual_deadline) {
        task.virtual_deadline = task.virtual_runtime + request(task.weight);
        if (runnable_count(cpu) > 1) queue.preempt_pending = true;
    }
    return queue.preempt_pending;
}

void EevdfModel::place(uint32_t cpu, uint32_t index, Placement placement) {
    ModelTask& task = tasks_[index];
    int64_t now_virtual = virtual_time(cpu);
    uint64_t weight = total_weight(cpu);
    int64_t lag = placement == Placement::Created ? 0 : task.kept_lag;
    lag = weight == 0 ? 0 : scaled(lag, weight + task.weight, weight);
    task.virtual_runtime = now_virtual - lag;
    int64_t ahead = request(task.weight);
    if (placement == Placement::Created) ahead /= 2;
    task.virtual_deadline = task.virtual_runtime + ahead;
    task.kept_lag = 0;
    task.state = ModelState::Queued;
    task.cpu = cpu;
    queues_[cpu].queued.insert(index);
}

void EevdfModel::remove(uint32_t cpu, uint32_t index) {
    ModelTask& task = tasks_[index];
    ModelQueue& queue = queues_[cpu];
    int64_t now_virtual = virtual_time(cpu);
    task.kept_lag = std::clamp(now_virtual - task.virtual_runtime, -lag_bound(task.weight),
                               lag_bound(task.weight));
    if (queue.current == index) {
        queue.current = kNone;
    } else {
        queue.queued.erase(index);
    }
    task.state = ModelState::Blocked;
    if (runnable_count(cpu) == 0) queue.empty_time = now_virtual;
}

void EevdfModel::create(uint32_t index, int nice, uint32_t cpu, bool pinned) {
    ModelTask& task = tasks_[index];
    task = ModelTask{};
    task.state = ModelState::Blocked;
    task.nice = nice;
    task.weight = model_weight(nice);
    task.pinned = pinned;
    task.cpu = cpu;
}

void EevdfModel::exit(uint32_t index) {
    EXPECT_EQ(tasks_[index].state, ModelState::Blocked) << "model: exit of a runnable task";
    tasks_[index] = ModelTask{};
}

bool EevdfModel::enqueue(uint32_t cpu, uint32_t index, Placement placement, uint64_t now_ns) {
    bool pending = charge(cpu, now_ns);
    place(cpu, index, placement);
    if (pending || queues_[cpu].current == kNone) return true;
    std::vector<uint32_t> candidates(queues_[cpu].queued.begin(), queues_[cpu].queued.end());
    candidates.push_back(queues_[cpu].current);
    return best(cpu, candidates) == index;
}

void EevdfModel::dequeue(uint32_t cpu, uint32_t index, uint64_t now_ns) {
    charge(cpu, now_ns);
    remove(cpu, index);
}

uint32_t EevdfModel::pick(uint32_t cpu, uint64_t now_ns) {
    charge(cpu, now_ns);
    ModelQueue& queue = queues_[cpu];
    queue.preempt_pending = false;
    uint32_t previous = queue.current;
    if (previous != kNone) {
        queue.queued.insert(previous);
        tasks_[previous].state = ModelState::Queued;
        queue.current = kNone;
    }
    if (queue.queued.empty()) return kNone;
    std::vector<uint32_t> candidates(queue.queued.begin(), queue.queued.end());
    uint32_t chosen = best(cpu, candidates);
    EXPECT_NE(chosen, kNone) << "model: no eligible task among " << candidates.size();
    queue.queued.erase(chosen);
    queue.current = chosen;
    tasks_[chosen].state = ModelState::Running;
    if (chosen != previous) queue.context_switches += 1;
    return chosen;
}

bool EevdfModel::tick(uint32_t cpu, uint64_t now_ns) {
    bool pending = charge(cpu, now_ns);
    return pending || (queues_[cpu].current == kNone && !queues_[cpu].queued.empty());
}

void EevdfModel::yield(uint32_t cpu, uint64_t now_ns) {
    charge(cpu, now_ns);
    ModelTask& task = tasks_[queues_[cpu].current];
    task.virtual_deadline += request(task.weight);
}

void EevdfModel::set_nice(uint32_t index, int nice, uint64_t now_ns) {
    ModelTask& task = tasks_[index];
    uint32_t weight = model_weight(nice);
    if (task.state == ModelState::Blocked) {
        task.kept_lag = std::clamp(scaled(task.kept_lag, task.weight, weight), -lag_bound(weight),
                                   lag_bound(weight));
    } else {
        charge(task.cpu, now_ns);
        int64_t now_virtual = virtual_time(task.cpu);
        int64_t lag = scaled(now_virtual - task.virtual_runtime, task.weight, weight);
        int64_t ahead = scaled(task.virtual_deadline - now_virtual, task.weight, weight);
        task.virtual_runtime = now_virtual - lag;
        task.virtual_deadline = now_virtual + ahead;
    }
    task.weight = weight;
    task.nice = nice;
}

uint32_t EevdfModel::select_cpu(uint32_t index, uint32_t previous_cpu) const {
    if (tasks_[index].pinned) return tasks_[index].cpu;
    if (runnable_count(previous_cpu) == 0) return previous_cpu;
    uint32_t chosen = previous_cpu;
    for (uint32_t cpu = 0; cpu < cpu_count(); ++cpu) {
        if (runnable_count(cpu) < runnable_count(chosen)) chosen = cpu;
    }
    return chosen;
}

uint32_t EevdfModel::find_busiest(uint32_t cpu) const {
    uint32_t chosen = kNone;
    for (uint32_t other = 0; other < cpu_count(); ++other) {
        if (other == cpu || runnable_count(other) < runnable_count(cpu) + 2) continue;
        bool has_stealable = false;
        for (uint32_t index : queues_[other].queued) has_stealable |= !tasks_[index].pinned;
        if (!has_stealable) continue;
        if (chosen == kNone || runnable_count(other) > runnable_count(chosen)) chosen = other;
    }
    return chosen;
}

std::optional<uint32_t> EevdfModel::steal(uint32_t from, uint32_t to, uint64_t now_ns) {
    charge(from, now_ns);
    charge(to, now_ns);
    uint32_t victim = kNone;
    for (uint32_t index : queues_[from].queued) {  // ascending slots: ties keep the lowest
        if (tasks_[index].pinned) continue;
        if (victim == kNone || tasks_[index].virtual_deadline > tasks_[victim].virtual_deadline) {
            victim = index;
        }
    }
    if (victim == kNone || runnable_count(from) < runnable_count(to) + 2) return std::nullopt;
    remove(from, victim);
    place(to, victim, Placement::KeepLag);
    queues_[to].tasks_stolen += 1;
    return victim;
}

}  // namespace umka::scheduler_model
