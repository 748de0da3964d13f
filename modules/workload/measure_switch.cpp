// `measure switch [ROUNDS]`: what a yield costs when it hands the CPU to another thread,
// against a yield with nobody else to run on that CPU, in the same run.
//
// Each side stamps the clock right before it yields and, back in its loop, closes the
// interval the last stamp opened: an interval opened by the other side is a yield that
// switched (yield + pick + switch, from the yielder's stamp to the resumed side's next
// reading), one opened by itself a yield that did not. The baseline is the same loop on
// the console alone. Each run reports the median interval of each kind, not the mean:
// EEVDF hands over when the running task's virtual runtime passes the other's, so a host
// stall inside an interval (a TCG vCPU descheduled) both lengthens it and makes the next
// pick a switch; a mean over switches would charge them every stall of the run.
#include "workload.h"

namespace umka::workload {
namespace {

// `measure switch` reports the median of this many runs and their range.
constexpr uint32_t kSwitchRuns = 5;
constexpr uint32_t kNobody = 0, kConsoleSide = 1, kPartnerSide = 2;

enum class PartnerState : uint32_t { Running, Done, Stop };

template <typename T>
T load(const T& field) {
    return __atomic_load_n(&field, __ATOMIC_RELAXED);
}
template <typename T>
void store(T& field, T value) {
    __atomic_store_n(&field, value, __ATOMIC_RELAXED);
}

// Interval lengths in buckets of 1/32 of an octave (2.2 % wide) up to 2^26 ns; longer ones
// land in the last bucket, which only a median of mostly stalls could report.
class Histogram {
public:
    static constexpr uint32_t kSteps = 32, kStepBits = 5, kOctaves = 22;
    static constexpr uint32_t kBuckets = kSteps * kOctaves;

    void clear() {
        for (uint32_t& count : counts_) store(count, 0u);
        store(total_, uint64_t(0));
    }
    void add(uint64_t ns) {
        uint32_t bucket = bucket_of(ns);
        store(counts_[bucket], load(counts_[bucket]) + 1);
        store(total_, load(total_) + 1);
    }
    uint64_t count() const { return load(total_); }
    // The middle of the bucket holding the median interval; 0 when empty.
    uint64_t median() const {
        uint64_t seen = 0, half = (count() + 1) / 2;
        for (uint32_t bucket = 0; bucket < kBuckets; ++bucket) {
            seen += load(counts_[bucket]);
            if (half != 0 && seen >= half) return (start_of(bucket) + start_of(bucket + 1)) / 2;
        }
        return 0;
    }

private:
    // Below kSteps ns one bucket per ns; above, octave (most significant bit) and its next
    // kStepBits bits.
    static uint32_t bucket_of(uint64_t ns) {
        if (ns < kSteps) return uint32_t(ns);
        uint32_t octave = 63 - uint32_t(__builtin_clzll(ns));
        uint32_t step = uint32_t(ns >> (octave - kStepBits)) & (kSteps - 1);
        uint32_t bucket = (octave - kStepBits + 1) * kSteps + step;
        return bucket < kBuckets ? bucket : kBuckets - 1;
    }
    static uint64_t start_of(uint32_t bucket) {
        if (bucket < kSteps) return bucket;
        uint32_t octave = bucket / kSteps + kStepBits - 1;
        return uint64_t(kSteps + bucket % kSteps) << (octave - kStepBits);
    }

    uint32_t counts_[kBuckets];
    uint64_t total_;
};

// Shared by the console and its partner, in the console's frame (the console waits in
// join before the frame goes; the histograms are too large for a workload thread's
// stack). One CPU runs both, so only one side touches it at a time; the atomics keep the
// compiler from caching it across a yield.
struct PingPong {
    const UmkaModuleBinding* binding;
    services::ClockRef clock;
    uint64_t rounds;
    PartnerState partner;
    uint32_t last_side;  // who took the last stamp (kNobody: the next interval is not timed)
    uint64_t last_stamp;
    Histogram switched;  // intervals that ended on the other side
    Histogram stayed;    // intervals that ended on the side that opened them
};

// Closes the open interval at `now` as `side`'s.
void close_interval(PingPong& game, uint32_t side, uint64_t now) {
    uint32_t opened_by = load(game.last_side);
    if (opened_by == kNobody) return;
    uint64_t elapsed = now - load(game.last_stamp);
    (opened_by == side ? game.stayed : game.switched).add(elapsed);
}

// ClockOnly: the turns without the yield, so every interval is the clock reading and
// loop around a yield that the other two phases also include.
enum class Phase : uint8_t { ClockOnly, Alone, WithPartner };

void stamp_and_yield(PingPong& game, services::ThreadsRef& threads, uint32_t side, Phase phase) {
    store(game.last_side, side);
    store(game.last_stamp, game.clock.now_ns());
    if (phase != Phase::ClockOnly) threads.yield_now();
}

int32_t partner_turns(uint64_t argument) {
    PingPong& game = *reinterpret_cast<PingPong*>(argument);
    services::ThreadsRef threads;
    if (umka::kabi::bind_required(game.binding, kThreads, &threads).is_ok()) {
        for (uint64_t round = 0; round < game.rounds; ++round) {
            if (__atomic_load_n(&game.partner, __ATOMIC_ACQUIRE) == PartnerState::Stop) break;
            close_interval(game, kPartnerSide, game.clock.now_ns());
            stamp_and_yield(game, threads, kPartnerSide, Phase::WithPartner);
        }
    }
    PartnerState running = PartnerState::Running;
    __atomic_compare_exchange_n(&game.partner, &running, PartnerState::Done, false,
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    return 0;
}

// The console's turns until the partner is done (or, without one, `rounds` of them);
// false on Ctrl-C. A poll happens between closing an interval and opening the next.
bool console_turns(Command& command, Interrupt& interrupt, PingPong& game, Phase phase) {
    for (uint64_t turn = 0;; ++turn) {
        if (phase != Phase::WithPartner
                ? turn == game.rounds
                : __atomic_load_n(&game.partner, __ATOMIC_ACQUIRE) == PartnerState::Done) {
            return true;
        }
        close_interval(game, kConsoleSide, game.clock.now_ns());
        if (turn % 64 == 0 && interrupt.poll()) return false;
        stamp_and_yield(game, command.threads, kConsoleSide, phase);
    }
}

void reset(PingPong& game) {
    store(game.last_side, kNobody);
    game.switched.clear();
    game.stayed.clear();
}

struct SwitchRun {
    uint64_t clock_ns;   // median interval without a yield
    uint64_t yield_ns;   // median yield, console alone
    uint64_t switch_ns;  // median yield that switched, console and partner
    uint64_t switches;
    uint64_t stays;  // yields that did not switch while both were runnable
};

// ECANCELED on Ctrl-C; the partner's spawn error (printed) if it could not start.
Status run_switch(Command& command, Interrupt& interrupt, uint32_t cpu, PingPong& game,
                  SwitchRun* run) {
    reset(game);
    if (!console_turns(command, interrupt, game, Phase::ClockOnly)) return UMKA_KABI_ECANCELED;
    run->clock_ns = game.stayed.median();
    reset(game);
    if (!console_turns(command, interrupt, game, Phase::Alone)) return UMKA_KABI_ECANCELED;
    run->yield_ns = game.stayed.median();
    reset(game);
    __atomic_store_n(&game.partner, PartnerState::Running, __ATOMIC_RELEASE);
    services::Thread partner{};
    // High is the console's own weight (nice -10), so neither side is favoured.
    Status spawned = spawn_partner(command, &partner_turns, reinterpret_cast<uint64_t>(&game), cpu,
                                   "yield-partner", &partner);
    if (spawned.is_error()) return spawned;
    bool finished = console_turns(command, interrupt, game, Phase::WithPartner);
    if (!finished) __atomic_store_n(&game.partner, PartnerState::Stop, __ATOMIC_RELEASE);
    int32_t exit_status = 0;
    (void)command.threads.join(partner, &exit_status);
    if (!finished) return UMKA_KABI_ECANCELED;
    run->switches = game.switched.count();
    run->stays = game.stayed.count();
    run->switch_ns = game.switched.median();
    return Status::ok();
}

// Sorts `values` (a handful) and returns the middle one.
uint64_t median(uint64_t* values, uint32_t count) {
    for (uint32_t index = 1; index < count; ++index) {
        for (uint32_t slot = index; slot > 0 && values[slot - 1] > values[slot]; --slot) {
            uint64_t moved = values[slot];
            values[slot] = values[slot - 1];
            values[slot - 1] = moved;
        }
    }
    return values[count / 2];
}

}  // namespace

Status measure_switch(Command& command, uint64_t rounds) {
    Interrupt interrupt(command.directory, command.clock);
    uint32_t cpu = command.threads.current_cpu();
    static_assert(sizeof(PingPong) < 8 * 1024, "the console's stack holds it");
    PingPong game{};
    game.binding = command.binding;
    game.clock = command.clock;
    game.rounds = rounds;
    uint64_t switch_ns[kSwitchRuns] = {};
    uint64_t yield_ns[kSwitchRuns] = {};
    uint64_t clock_ns[kSwitchRuns] = {};
    uint64_t switches[kSwitchRuns] = {};
    uint64_t stays[kSwitchRuns] = {};
    for (uint32_t index = 0; index < kSwitchRuns; ++index) {
        SwitchRun run{};
        Status ran = run_switch(command, interrupt, cpu, game, &run);
        if (ran.code() == UMKA_KABI_ECANCELED) {
            command.out.add("interrupted\n");
            return ran;
        }
        if (ran.is_error()) return ran;
        switch_ns[index] = run.switch_ns;
        yield_ns[index] = run.yield_ns;
        clock_ns[index] = run.clock_ns;
        switches[index] = run.switches;
        stays[index] = run.stays;
    }
    uint64_t switch_median = median(switch_ns, kSwitchRuns);
    uint64_t yield_median = median(yield_ns, kSwitchRuns);
    uint64_t clock_median = median(clock_ns, kSwitchRuns);
    Output& out = command.out;
    out.add("context switch: ").number(switch_median);
    out.add(" ns per switch (yield + pick + switch; median of ").number(kSwitchRuns);
    out.add(" runs' median intervals, range ").number(switch_ns[0]).add("..");
    out.number(switch_ns[kSwitchRuns - 1]).add("; ").number(median(stays, kSwitchRuns));
    out.add(" yields kept the CPU, ").number(median(switches, kSwitchRuns)).add(" switches)");
    out.add("; yield without a switch: ").number(yield_median).add(" ns (");
    out.number(yield_ns[0]).add("..").number(yield_ns[kSwitchRuns - 1]).add("); ratio ");
    out.ratio(switch_median, yield_median).add("; each includes a clock reading of ");
    out.number(clock_median).add(" ns (ratio without it ");
    bool net = switch_median > clock_median && yield_median > clock_median;
    out.ratio(net ? switch_median - clock_median : 0, net ? yield_median - clock_median : 0);
    out.add(")\n");
    return Status::ok();
}

}  // namespace umka::workload
