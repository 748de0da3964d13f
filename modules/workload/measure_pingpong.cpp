// The floor under any cross-CPU call: one cache line handed back and forth between the
// console's CPU and a partner thread pinned to another, with nothing else (no entry, no
// index, no dispatch). `measure ring` divides its round trip by this one, measured in the
// same run on the CPU its provider thread used: what the ring adds to what moving a line
// between two CPUs costs on this machine (under TCG, two vCPU threads of the host).
#include "workload.h"

namespace umka::workload {
namespace {

// The console writes an odd value, the partner answers with the next even one; kStop ends
// the partner. One line, so each round trip is exactly two transfers of it.
constexpr uint64_t kStop = ~uint64_t(0);
constexpr uint64_t kAnswerTimeoutNs = 1'000'000'000;  // a partner that never ran

struct alignas(64) Line {
    uint64_t value;
    uint8_t padding[56];
};

int32_t partner_answers(uint64_t argument) {
    Line& line = *reinterpret_cast<Line*>(argument);
    for (;;) {
        uint64_t seen = __atomic_load_n(&line.value, __ATOMIC_ACQUIRE);
        if (seen == kStop) return 0;
        if (seen % 2 == 1) __atomic_store_n(&line.value, seen + 1, __ATOMIC_RELEASE);
        __builtin_ia32_pause();
    }
}

}  // namespace

Status spawn_partner(Command& command, int32_t (*function)(uint64_t), uint64_t argument,
                     uint32_t cpu, const char* name, services::Thread* thread) {
    Status spawned = command.threads.spawn_thread(
        reinterpret_cast<uint64_t>(function), argument, services::ThreadPriority::High,
        services::ThreadPlacement::OnCpu, cpu, name, __builtin_strlen(name), thread);
    if (spawned.is_error()) {
        command.out.add("measure: could not start ").add(name).add(" on cpu ").number(cpu);
        command.out.add(" (").add(errno_name(spawned.code())).add(")\n");
    }
    return spawned;
}

Status time_ping_pong(Command& command, Interrupt& interrupt, uint32_t cpu, uint64_t rounds,
                      uint64_t* elapsed_ns) {
    Line line{};
    services::Thread partner{};
    Status spawned = spawn_partner(command, &partner_answers, reinterpret_cast<uint64_t>(&line),
                                   cpu, "pingpong-partner", &partner);
    if (spawned.is_error()) return spawned;
    Status result = Status::ok();
    uint64_t start = 0;
    // The first kWarmUp rounds are not timed (the partner starting, code not yet warm).
    constexpr uint64_t kWarmUp = 64;
    for (uint64_t round = 0; round < kWarmUp + rounds && result.is_ok(); ++round) {
        if (round == kWarmUp) start = command.clock.now_ns();
        if (round % 256 == 0 && interrupt.poll()) {
            result = UMKA_KABI_ECANCELED;
            break;
        }
        uint64_t asked = 2 * round + 1;
        __atomic_store_n(&line.value, asked, __ATOMIC_RELEASE);
        uint64_t waited_since = 0;
        for (uint32_t spins = 1; __atomic_load_n(&line.value, __ATOMIC_ACQUIRE) == asked; ++spins) {
            __builtin_ia32_pause();
            if (spins % 4096 != 0) continue;
            uint64_t now = command.clock.now_ns();
            if (waited_since == 0) waited_since = now;
            if (now - waited_since > kAnswerTimeoutNs) {
                command.out.add("measure: the ping-pong partner on cpu ").number(cpu);
                command.out.add(" did not answer within 1 s\n");
                result = UMKA_KABI_ETIMEDOUT;
                break;
            }
        }
    }
    uint64_t elapsed = command.clock.now_ns() - start;
    __atomic_store_n(&line.value, kStop, __ATOMIC_RELEASE);
    int32_t exit_status = 0;
    (void)command.threads.join(partner, &exit_status);
    if (result.is_ok()) *elapsed_ns = elapsed != 0 ? elapsed : 1;
    return result;
}

}  // namespace umka::workload
