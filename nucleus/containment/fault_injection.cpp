// The fault-injection switch (see fault_injection.h).
#include "nucleus/containment/fault_injection.h"

#include <atomic>

#include "nucleus/containment/crash_book.h"
#include "nucleus/containment/memory_domain.h"
#include "nucleus/lib/spinlock.h"
#include "nucleus/loader/module_system.h"

namespace umka::containment {
namespace {

constinit SpinLock armed_lock{LockLevel::CrashBook};
// Read without the lock on every guarded call: false almost always.
constinit std::atomic<bool> armed_flag{false};
constinit char armed_module[kNameBytes] = {};
constinit uint32_t armed_kind = 0;
// EveryStart: armed for start-ups from arm_fault() until disarm_fault(), beside the one-shot
// call fault above.
constinit std::atomic<bool> start_flag{false};
constinit char start_module[kNameBytes] = {};
// What a WildWrite aims at: a word of the nucleus's .data, as any global is. volatile: the
// nucleus reads it back after the crash to see whether the write landed.
constexpr uint64_t kWildTargetValue = 0x6e75636c65757321ull;  // "!suelcun"
constinit volatile uint64_t wild_target = kWildTargetValue;
// What FaultKind::CorruptState writes over a module's state (as slab poisoning does).
constexpr uint8_t kStatePoison = 0xa5;

const loader::ModuleRecord* loaded_module(const char* name) {
    loader::ModuleSystem& system = loader::module_system();
    return system.initialized() ? system.loaded_named(name) : nullptr;
}

}  // namespace

Status arm_fault(const char* module, uint32_t kind) {
    if (kind < UMKA_FAULT_NULL_WRITE || kind > UMKA_FAULT_WILD_WRITE) {
        return Errno::InvalidArgument;
    }
    size_t length = __builtin_strlen(module);
    if (length == 0 || length >= kNameBytes) return Errno::InvalidArgument;
    const loader::ModuleRecord* record = loaded_module(module);
    if (record == nullptr) return Errno::NotFound;
    if (record->image.fault_site == nullptr) return Errno::NotSupported;
    // Without a domain the write would land in the nucleus: refused, not run.
    if (kind == UMKA_FAULT_WILD_WRITE && domain_support() != DomainSupport::On) {
        return Errno::NotSupported;
    }
    SpinLockGuard guard(armed_lock);
    if (kind == UMKA_FAULT_EVERY_START) {
        if (start_flag.load(std::memory_order_relaxed)) return Errno::Busy;
        __builtin_memcpy(start_module, module, length + 1);
        start_flag.store(true, std::memory_order_release);
        return Status::ok();
    }
    if (armed_flag.load(std::memory_order_relaxed)) return Errno::Busy;
    __builtin_memcpy(armed_module, module, length + 1);
    armed_kind = kind;
    armed_flag.store(true, std::memory_order_release);
    return Status::ok();
}

Status disarm_fault() {
    SpinLockGuard guard(armed_lock);
    bool call = armed_flag.exchange(false, std::memory_order_relaxed);
    bool start = start_flag.exchange(false, std::memory_order_relaxed);
    return call || start ? Status::ok() : Status(Errno::NotFound);
}

uint64_t wild_write_target() {
    return reinterpret_cast<uint64_t>(&wild_target);
}

bool wild_write_target_intact() {
    return wild_target == kWildTargetValue;
}

bool start_fault_armed(const char* module, UmkaFaultSiteFunction site, ArmedFault& armed) {
    if (!start_flag.load(std::memory_order_acquire) || site == nullptr) return false;
    {
        SpinLockGuard guard(armed_lock);
        if (!start_flag.load(std::memory_order_relaxed) ||
            __builtin_strcmp(start_module, module) != 0) {
            return false;
        }
    }
    armed.site = site;
    armed.kind = UMKA_FAULT_EVERY_START;
    armed.scribbled = 0;
    return true;
}

bool take_armed_fault(const char* module, ArmedFault& armed) {
    if (!armed_flag.load(std::memory_order_acquire)) return false;
    uint32_t kind = 0;
    {
        SpinLockGuard guard(armed_lock);
        if (!armed_flag.load(std::memory_order_relaxed) ||
            __builtin_strcmp(armed_module, module) != 0) {
            return false;
        }
        armed_flag.store(false, std::memory_order_relaxed);
        kind = armed_kind;
    }
    // The instance serving now (a restart may have replaced the one armed against).
    const loader::ModuleRecord* record = loaded_module(module);
    if (record == nullptr || record->image.fault_site == nullptr) return false;
    armed.site = record->image.fault_site;
    armed.kind = kind;
    armed.scribbled = 0;
    armed.target = kind == UMKA_FAULT_WILD_WRITE ? wild_write_target() : 0;
    if (kind == UMKA_FAULT_CORRUPT_STATE) {
        // The module's bug, done on its behalf: a poison byte over every region it keeps,
        // then the crash. Not zeroes: a zero state is a valid fresh one.
        const UmkaModuleBinding& binding = record->binding->binding;
        for (uint32_t index = 0; index < binding.state_count; ++index) {
            __builtin_memset(binding.states[index].base, kStatePoison, binding.states[index].size);
            armed.scribbled += binding.states[index].size;
        }
    }
    return true;
}

}  // namespace umka::containment
