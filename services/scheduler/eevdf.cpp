// EEVDF run-queue operations (eevdf.h). Runnable tasks of a queue are the running one
// (current_link, not on the list) and the queued ones (a doubly linked list through the
// task states, unordered): pick_next scans the list, O(n) in the queue's length, which is
// short with per-CPU queues and work stealing (README.md: when to replace it by an
// augmented tree). Everything else is O(1): V comes from the running sums
// queued_key_sum = sum w_i (v_i - base) and queued_weight = sum w_i over the queued tasks,
// plus the running task's term.
#include "eevdf.h"

#include "schema_versions.h"

namespace umka::eevdf {

using scheduler_module::count_wake;
using scheduler_module::slice_of;

namespace {

constexpr uint32_t kNiceWeights[kMaximumNice - kMinimumNice + 1] = {
    /* -20 */ 88761, 71755, 56483, 46273, 36291,
    /* -15 */ 29154, 23254, 18705, 14949, 11916,
    /* -10 */ 9548,  7620,  6100,  4904,  3906,
    /*  -5 */ 3121,  2501,  1991,  1586,  1277,
    /*   0 */ 1024,  820,   655,   526,   423,
    /*   5 */ 335,   272,   215,   172,   137,
    /*  10 */ 110,   87,    70,    56,    45,
    /*  15 */ 36,    29,    23,    18,    15,
};

// a - b for virtual times that may wrap: 2^64 virtual ns is centuries of nice-19 runtime,
// and every comparison goes through this, so only the distance between two tasks of one
// queue has to fit in 63 bits.
int64_t difference(uint64_t a, uint64_t b) {
    return int64_t(a - b);
}

// floor(numerator / denominator) for a positive denominator below 2^63.
int64_t floor_divide(int64_t numerator, uint64_t denominator) {
    int64_t divisor = int64_t(denominator);
    int64_t quotient = numerator / divisor;
    if (numerator % divisor != 0 && numerator < 0) quotient -= 1;
    return quotient;
}

// value x multiplier / divisor, truncated toward zero (Linux's div_s64); saturates instead
// of overflowing, which needs lags or weights far outside what a run queue holds.
int64_t scale(int64_t value, uint64_t multiplier, uint64_t divisor) {
    int64_t product = 0;
    if (__builtin_mul_overflow(value, int64_t(multiplier), &product)) {
        product = value < 0 ? INT64_MIN : INT64_MAX;
    }
    return product / int64_t(divisor);
}

int64_t clamp(int64_t value, int64_t limit) {
    if (value > limit) return limit;
    if (value < -limit) return -limit;
    return value;
}

}  // namespace

uint32_t weight_of_nice(int32_t nice) {
    return kNiceWeights[nice - kMinimumNice];
}

uint64_t virtual_from_real(uint64_t real_ns, uint32_t weight) {
    // real = q w + r  =>  floor(real 1024 / w) = 1024 q + floor(1024 r / w), and 1024 r fits.
    return (real_ns / weight) * kNiceZeroWeight + (real_ns % weight) * kNiceZeroWeight / weight;
}

int64_t lag_limit(uint32_t weight) {
    return int64_t(virtual_from_real(2 * kBaseSliceNs, weight));
}

void reweight_blocked(TaskState& state, uint32_t weight) {
    // The kept lag is V - v; the service lag w (V - v) is what must survive the change.
    state.virtual_lag = clamp(scale(state.virtual_lag, state.weight, weight), lag_limit(weight));
    state.weight = weight;
}

uint64_t RunQueue::total_weight() const {
    uint64_t weight = state_.queued_weight;
    if (state_.current_link != 0) weight += task(current()).weight;
    return weight;
}

uint64_t RunQueue::virtual_time() const {
    int64_t key_sum = state_.queued_key_sum;
    uint64_t weight = state_.queued_weight;
    if (state_.current_link != 0) {
        const TaskState& running = task(current());
        key_sum +=
            int64_t(running.weight) * difference(running.virtual_runtime, state_.base_virtual_time);
        weight += running.weight;
    }
    // An empty queue's V is where it stood when it emptied (remove keeps it in base).
    if (weight == 0) return state_.base_virtual_time;
    return state_.base_virtual_time + uint64_t(floor_divide(key_sum, weight));
}

void RunQueue::add_counts(int32_t runnable, int32_t stealable) {
    // Relaxed stores: select_task_cpu and find_busiest on other CPUs only need a recent
    // value, and the lock orders everything else.
    __atomic_store_n(&state_.runnable_count, uint32_t(int32_t(state_.runnable_count) + runnable),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&state_.stealable_count, uint32_t(int32_t(state_.stealable_count) + stealable),
                     __ATOMIC_RELAXED);
}

void RunQueue::add_key(const TaskState& state) {
    state_.queued_key_sum +=
        int64_t(state.weight) * difference(state.virtual_runtime, state_.base_virtual_time);
    state_.queued_weight += state.weight;
}

void RunQueue::remove_key(const TaskState& state) {
    state_.queued_key_sum -=
        int64_t(state.weight) * difference(state.virtual_runtime, state_.base_virtual_time);
    state_.queued_weight -= state.weight;
}

void RunQueue::insert_queued(uint32_t index) {
    TaskState& state = task(index);
    state.previous_link = 0;
    state.next_link = state_.first_link;
    if (state_.first_link != 0) task(task_of(state_.first_link)).previous_link = link_of(index);
    state_.first_link = link_of(index);
    state.run_state = uint8_t(TaskRunState::Queued);
    state.cpu = cpu_;
    add_key(state);
    add_counts(1, stealable(state) ? 1 : 0);
}

void RunQueue::unlink_queued(uint32_t index) {
    TaskState& state = task(index);
    if (state.previous_link != 0) {
        task(task_of(state.previous_link)).next_link = state.next_link;
    } else {
        state_.first_link = state.next_link;
    }
    if (state.next_link != 0) task(task_of(state.next_link)).previous_link = state.previous_link;
    state.next_link = 0;
    state.previous_link = 0;
    remove_key(state);
    add_counts(-1, stealable(state) ? -1 : 0);
}

bool RunQueue::charge_current(uint64_t now_ns) {
    // A clock behind the last charge (another CPU's clock after a steal) charges nothing.
    uint64_t delta = 0;
    if (now_ns > state_.clock_ns) {
        delta = now_ns - state_.clock_ns;
        state_.clock_ns = now_ns;
    }
    if (state_.current_link == 0) return false;
    TaskState& running = task(current());
    // A second charge at the same instant (a yield's pick) skips the divisions.
    if (delta != 0) {
        running.received_ns += delta;
        running.virtual_runtime += virtual_from_real(delta, running.weight);
    }
    // Alone on the queue, V is the running task's own runtime: keep the key base there so
    // the sums start from zero when others arrive (pick_next rebases otherwise).
    if (state_.first_link == 0) state_.base_virtual_time = running.virtual_runtime;
    if (difference(running.virtual_runtime, running.virtual_deadline) < 0) {
        return state_.preempt_pending != 0;
    }
    running.virtual_deadline =
        running.virtual_runtime + virtual_from_real(slice_of(running), running.weight);
    if (state_.runnable_count > 1) state_.preempt_pending = 1;
    return state_.preempt_pending != 0;
}

void RunQueue::place(uint32_t index, WakeReason reason) {
    TaskState& state = task(index);
    uint64_t queue_time = virtual_time();
    uint64_t queue_weight = total_weight();
    int64_t lag = reason == WakeReason::Created ? 0 : state.virtual_lag;
    // Joining changes V by -lag x w / (W + w); scaling the lag by (W + w) / W first leaves
    // the task exactly its lag after the move (Linux's place_entity). Alone, a task's lag
    // is zero by definition.
    lag = queue_weight == 0 ? 0 : scale(lag, queue_weight + state.weight, queue_weight);
    state.virtual_runtime = queue_time - uint64_t(lag);
    uint64_t request = virtual_from_real(slice_of(state), state.weight);
    // A new task's first deadline is half a slice out, so a burst of forks cannot push
    // everyone else's service back by whole slices.
    if (reason == WakeReason::Created) request /= 2;
    state.virtual_deadline = state.virtual_runtime + request;
    state.virtual_lag = 0;
    if (reason == WakeReason::Created || reason == WakeReason::Unblocked) count_wake(state);
    insert_queued(index);
}

void RunQueue::remove(uint32_t index) {
    TaskState& state = task(index);
    uint64_t queue_time = virtual_time();
    int64_t lag = clamp(difference(queue_time, state.virtual_runtime), lag_limit(state.weight));
    if (current() == index) {
        state_.current_link = 0;
        add_counts(-1, 0);
    } else {
        unlink_queued(index);
    }
    state.virtual_lag = lag;
    state.run_state = uint8_t(TaskRunState::Blocked);
    if (state_.runnable_count == 0) state_.base_virtual_time = queue_time;
}

// Earlier virtual deadline first, then the lower slot, so the choice is deterministic.
bool RunQueue::better(uint32_t candidate, uint32_t best) const {
    if (best == kNone) return true;
    int64_t order = difference(task(candidate).virtual_deadline, task(best).virtual_deadline);
    return order < 0 || (order == 0 && candidate < best);
}

uint32_t RunQueue::pick_next(uint64_t now_ns) {
    uint32_t previous = current();
    state_.preempt_pending = 0;
    if (previous != kNone) {
        state_.current_link = 0;
        add_counts(-1, 0);
        insert_queued(previous);
    }
    if (state_.first_link == 0) {
        if (previous != kNone || state_.idle_since_ns == 0) state_.idle_since_ns = now_ns;
        return kNone;
    }
    uint64_t queue_time = virtual_time();
    uint32_t best = kNone;
    uint32_t earliest = kNone;  // the smallest runtime: always eligible, a fallback only
    uint64_t smallest_runtime = 0;
    for (uint32_t link = state_.first_link; link != 0; link = task(task_of(link)).next_link) {
        uint32_t index = task_of(link);
        const TaskState& state = task(index);
        if (earliest == kNone || difference(state.virtual_runtime, smallest_runtime) < 0) {
            earliest = index;
            smallest_runtime = state.virtual_runtime;
        }
        if (difference(state.virtual_runtime, queue_time) <= 0 && better(index, best)) {
            best = index;
        }
    }
    // V is the floor of the weighted mean, so the smallest runtime is never above it; the
    // fallback keeps a task running even if that reasoning were ever wrong.
    if (best == kNone) best = earliest;
    unlink_queued(best);
    task(best).run_state = uint8_t(TaskRunState::Running);
    state_.current_link = link_of(best);
    add_counts(1, 0);
    // Rebase the keys on the smallest runtime so the sums stay near zero however long the
    // queue lives; V does not move (floor is shift-invariant for whole shifts).
    state_.queued_key_sum -=
        int64_t(state_.queued_weight) * difference(smallest_runtime, state_.base_virtual_time);
    state_.base_virtual_time = smallest_runtime;
    state_.clock_ns = now_ns > state_.clock_ns ? now_ns : state_.clock_ns;
    if (previous == kNone && state_.idle_since_ns != 0) {
        if (now_ns > state_.idle_since_ns) state_.idle_ns += now_ns - state_.idle_since_ns;
        state_.idle_since_ns = 0;
    }
    if (best != previous) state_.context_switches += 1;
    return best;
}

bool RunQueue::woken_task_preempts(uint32_t woken) const {
    uint32_t running = current();
    if (running == kNone) return true;
    uint64_t queue_time = virtual_time();
    uint32_t best = kNone;
    if (difference(task(running).virtual_runtime, queue_time) <= 0) best = running;
    for (uint32_t link = state_.first_link; link != 0; link = task(task_of(link)).next_link) {
        uint32_t index = task_of(link);
        if (difference(task(index).virtual_runtime, queue_time) <= 0 && better(index, best)) {
            best = index;
        }
    }
    return best == woken;
}

void RunQueue::yield_current() {
    TaskState& running = task(current());
    running.virtual_deadline += virtual_from_real(slice_of(running), running.weight);
}

void RunQueue::reweight(uint32_t index, uint32_t weight) {
    TaskState& state = task(index);
    bool queued = current() != index;
    uint64_t queue_time = virtual_time();
    if (queued) remove_key(state);
    // lag_i = w (V - v) and the deadline's distance from V in service units are kept:
    // v' = V - (V - v) w / w', d' = V + (d - V) w / w' (Linux's reweight_eevdf). The lags
    // still sum to zero, so V stays where it is (up to rounding).
    int64_t lag = scale(difference(queue_time, state.virtual_runtime), state.weight, weight);
    int64_t ahead = scale(difference(state.virtual_deadline, queue_time), state.weight, weight);
    state.virtual_runtime = queue_time - uint64_t(lag);
    state.virtual_deadline = queue_time + uint64_t(ahead);
    state.weight = weight;
    if (queued) add_key(state);
}

uint32_t RunQueue::steal_candidate() const {
    uint32_t chosen = kNone;
    for (uint32_t link = state_.first_link; link != 0; link = task(task_of(link)).next_link) {
        uint32_t index = task_of(link);
        if (!stealable(task(index))) continue;
        if (chosen == kNone) {
            chosen = index;
            continue;
        }
        int64_t order = difference(task(index).virtual_deadline, task(chosen).virtual_deadline);
        if (order > 0 || (order == 0 && index < chosen)) chosen = index;
    }
    return chosen;
}

}  // namespace umka::eevdf
