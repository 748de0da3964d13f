// The nucleus's table of CPUs, sized at boot from the firmware's processor list.
// Each CPU reaches its own record through the per-CPU register (arch::current_cpu_index).
#pragma once

#include <arch/cpu_local.h>
#include <stdint.h>

#include <atomic>

#include "nucleus/lib/status.h"

namespace umka {

enum class CpuState : uint8_t {
    Absent,    // listed by firmware as disabled
    Offline,   // present, not started yet
    Starting,  // start-up signal sent, waiting for it to check in
    Online,
    Failed,  // did not check in within the time limit
    Halted,  // stopped after a fatal report
};

const char* cpu_state_name(CpuState state);

struct Cpu {
    Cpu* self;  // first field: the per-CPU register points here
    uint32_t index;
    uint32_t hardware_id;
    std::atomic<CpuState> state;
    uint64_t online_cycles;  // cycle counter when it checked in
    uint64_t interrupts_handled;
    // While held by a HoldUntilReleased rendezvous: the frame address of its rendezvous
    // handler, from which the context it interrupted can be walked (0 when not held).
    std::atomic<uint64_t> held_frame;
    arch::ArchCpu arch;
};

class CpuTable {
public:
    // Storage comes from nucleus frames; `capacity` is the firmware's processor count.
    Status initialize(Cpu* storage, uint32_t capacity);
    Cpu* add(uint32_t hardware_id, CpuState state);

    uint32_t count() const { return count_; }
    Cpu& operator[](uint32_t index) { return cpus_[index]; }
    Cpu* begin() { return cpus_; }
    Cpu* end() { return cpus_ + count_; }
    uint32_t online_count() const;
    Cpu& current();

private:
    Cpu* cpus_ = nullptr;
    uint32_t capacity_ = 0;
    uint32_t count_ = 0;
};

CpuTable& cpu_table();

}  // namespace umka
