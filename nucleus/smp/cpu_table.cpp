#include "nucleus/smp/cpu_table.h"

#include <arch/cpu.h>

namespace umka {
namespace {
constinit CpuTable instance;
}

CpuTable& cpu_table() {
    return instance;
}

const char* cpu_state_name(CpuState state) {
    switch (state) {
    case CpuState::Absent:
        return "absent";
    case CpuState::Offline:
        return "offline";
    case CpuState::Starting:
        return "starting";
    case CpuState::Online:
        return "online";
    case CpuState::Failed:
        return "failed";
    case CpuState::Halted:
        return "halted";
    }
    return "?";
}

Status CpuTable::initialize(Cpu* storage, uint32_t capacity) {
    if (storage == nullptr || capacity == 0) return Errno::InvalidArgument;
    cpus_ = storage;
    capacity_ = capacity;
    count_ = 0;
    return Status::ok();
}

Cpu* CpuTable::add(uint32_t hardware_id, CpuState state) {
    if (count_ == capacity_) return nullptr;
    Cpu& cpu = cpus_[count_];
    cpu.self = &cpu;
    cpu.index = count_;
    cpu.hardware_id = hardware_id;
    cpu.state.store(state, std::memory_order_relaxed);
    cpu.online_cycles = 0;
    cpu.interrupts_handled = 0;
    ++count_;
    return &cpu;
}

uint32_t CpuTable::online_count() const {
    uint32_t online = 0;
    for (uint32_t index = 0; index < count_; ++index) {
        if (cpus_[index].state.load(std::memory_order_acquire) == CpuState::Online) ++online;
    }
    return online;
}

Cpu& CpuTable::current() {
    return cpus_[arch::current_cpu_index()];
}

}  // namespace umka
