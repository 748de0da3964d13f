// nucleus_mechanism.Rings: ring bindings a module opens to a provider (the workload
// module's `load start ring|serial` and `measure ring`). The bindings themselves are the
// nucleus's (ring_bindings.h); a module holds a handle, checked against its owner
// (handle_table.h: generation-counted, so a closed binding's handle is stale and another
// module's is refused), and the binding's slot to call through.
//
// The calling module is found from the return address into its image (the thunks inline
// the caller's frame, as for kernel_services.Threads).
#include <arch/cpu.h>

#include <new>

#include "nucleus/lib/spinlock.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/published/nucleus_services.h"
#include "nucleus/ring/ring_bindings.h"
#include "nucleus/sched/handle_table.h"
#include "nucleus/smp/cpu_table.h"
#include "umka/kabi/nucleus_mechanism.hpp"
#include "umka/name_copy.h"

namespace umka::loader {
namespace {

namespace mechanism = umka::kabi::nucleus_mechanism;

// As many as the nucleus has ring bindings for everyone (ring_bindings.cpp).
constexpr size_t kModuleRingBindings = 64;

// Lock order: a leaf; never held while a binding is created, started or closed.
constinit SpinLock handle_lock{LockLevel::ModuleRingHandles};
constinit sched::HandleSlot handle_slots[kModuleRingBindings] = {};
constinit sched::HandleTable* handles = nullptr;
constinit RingBinding* bindings[kModuleRingBindings] = {};
constinit uint32_t provider_cpus[kModuleRingBindings] = {};

[[gnu::always_inline]] inline ModuleRecord* calling_module(void* return_address) {
    return module_system().record_containing(return_address);
}

// A name from module memory, NUL-terminated into `out`; false when it is empty, does not
// fit whole or is not readable.
template <size_t N>
bool copy_module_name(const char* data, uint64_t length, char (&out)[N]) {
    if (data == nullptr || length == 0 || length >= N) return false;
    if (!module_range_readable(reinterpret_cast<uint64_t>(data), length)) return false;
    return umka::copy_name(out, N, data, length);
}

// Another CPU than `here` that runs no provider thread: the console's provider spins in
// the serial driver's blocking read, and sharing its CPU would measure time slices, not
// the ring. Falls back to the next CPU (or `here` on one CPU).
uint32_t quiet_cpu_besides(uint32_t here) {
    uint32_t count = cpu_table().count();
    for (uint32_t candidate = count; candidate-- > 0;) {
        if (candidate != here && !cpu_runs_ring_provider(candidate)) return candidate;
    }
    return count > 1 ? (here + 1) % count : here;
}

Status errno_of_create(Errno error) {
    return error == Errno::NoSpace || error == Errno::OutOfMemory ? Errno::NoSpace : error;
}

struct RingsService {
    [[gnu::always_inline]] static inline Status open(
        void*, const char* package_data, uint64_t package_length, const char* interface_data,
        uint64_t interface_length, const char* name_data, uint64_t name_length,
        mechanism::RingPlacement placement, uint32_t cpu, mechanism::RingBinding* binding_out,
        uint64_t* slot_out, uint64_t* provider_slot_out) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || caller->binding == nullptr) return Errno::NotPermitted;
        char package[modules::kServiceNameSize];
        char interface[modules::kServiceNameSize];
        char name[sizeof(RingBinding::consumer)];
        if (binding_out == nullptr || slot_out == nullptr || provider_slot_out == nullptr ||
            !copy_module_name(package_data, package_length, package) ||
            !copy_module_name(interface_data, interface_length, interface) ||
            !copy_module_name(name_data, name_length, name)) {
            return Errno::InvalidArgument;
        }
        sched::Placement where = sched::Placement::Pinned;
        switch (placement) {
        case mechanism::RingPlacement::Anywhere:
            where = sched::Placement::Anywhere;
            cpu = 0;
            break;
        case mechanism::RingPlacement::OnCpu:
            if (cpu >= cpu_table().count()) return Errno::NoDeviceOrAddress;
            break;
        case mechanism::RingPlacement::QuietCpu:
            cpu = quiet_cpu_besides(arch::current_cpu_index());
            break;
        default:
            return Errno::InvalidArgument;
        }
        if (!sched::running()) return Errno::NoFunction;
        uint64_t handle = 0;
        uint32_t index = 0;
        {
            SpinLockGuard guard(handle_lock);
            handle = TRY(handles->create(caller->owner));
            (void)handles->acquire(handle, caller->owner, &index);  // held until it serves
        }
        Result<RingBinding*> created =
            create_ring_binding({name, package, interface, nullptr, ring::CompletionHandler{}});
        Status started = created.is_ok() ? start_ring_binding(*created.value(), where, cpu)
                                         : errno_of_create(created.error());
        {
            SpinLockGuard guard(handle_lock);
            handles->release(index);
            if (started.is_error()) {
                (void)handles->destroy(handle, caller->owner);
            } else {
                bindings[index] = created.value();
                provider_cpus[index] =
                    created.value()->thread != nullptr ? created.value()->thread->cpu : cpu;
            }
        }
        if (started.is_error()) {
            // Waits for a provider thread that may have started: outside the lock.
            if (created.is_ok()) close_ring_binding(created.value());
            return started;
        }
        binding_out->value = handle;
        *slot_out = reinterpret_cast<uint64_t>(&created.value()->slot);
        *provider_slot_out = reinterpret_cast<uint64_t>(created.value()->provider_slot);
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status close(void*, mechanism::RingBinding binding) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr) return Errno::InvalidArgument;
        RingBinding* closing = nullptr;
        {
            SpinLockGuard guard(handle_lock);
            uint32_t index = 0;
            if (handles->check(binding.value, caller->owner, &index) != sched::HandleCheck::Valid ||
                bindings[index] == nullptr) {
                return Errno::InvalidArgument;
            }
            TRY(handles->destroy(binding.value, caller->owner));
            closing = bindings[index];
            bindings[index] = nullptr;
        }
        // Waits for the provider thread: outside the lock.
        close_ring_binding(closing);
        return Status::ok();
    }

    [[gnu::always_inline]] static inline Status counters(void*, mechanism::RingBinding binding,
                                                         mechanism::RingBindingCounters* counters) {
        ModuleRecord* caller = calling_module(__builtin_return_address(0));
        if (caller == nullptr || counters == nullptr) return Errno::InvalidArgument;
        SpinLockGuard guard(handle_lock);
        uint32_t index = 0;
        if (handles->check(binding.value, caller->owner, &index) != sched::HandleCheck::Valid ||
            bindings[index] == nullptr) {
            return Errno::InvalidArgument;
        }
        ring::RingCounters ring = bindings[index]->caller.caller().pair().counters();
        *counters = mechanism::RingBindingCounters{};
        counters->submitted = ring.submitted;
        counters->completed = ring.completed;
        counters->doorbells = ring.doorbells;
        counters->full_waits = ring.full_ring_waits;
        counters->provider_cpu = provider_cpus[index];
        return Status::ok();
    }
};

constexpr mechanism::RingsVtable kRingsVtable = mechanism::make_rings_vtable<RingsService>();

}  // namespace

Status publish_rings(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    handles = new (TRY(allocate_zeroed(sizeof(sched::HandleTable))))
        sched::HandleTable(handle_slots, kModuleRingBindings);
    return publish_vtable(registry, "nucleus_mechanism", "Rings",
                          reinterpret_cast<const umka_kabi_vtable_header*>(&kRingsVtable),
                          kRingsVtable.version, diagnostic);
}

}  // namespace umka::loader
