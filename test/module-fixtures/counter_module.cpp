// The well-formed fixture module: provides module_fixture.Counter, requires the nucleus's
// Log and Clock. Stateless code: the total lives in CounterState (nucleus memory), reached
// through the binding, which is the context of every call.
#include "umka/kabi/kernel_services.hpp"
#include "umka/kabi/module_fixture.hpp"
#include "umka/kabi/module_fixture_manifest.hpp"
#include "umka/kabi/module_fixture_state.hpp"
#include "umka/line_text.h"
#include "umka/module_entry.h"

namespace fixture = umka::kabi::module_fixture;
namespace services = umka::kabi::kernel_services;
using umka::kabi::Status;

namespace {

enum Required : uint32_t { kLog = 0, kClock = 1 };

fixture::CounterState& state_of(void* context) {
    return *umka::kabi::module_state<fixture::CounterState>(umka::kabi::binding_of(context));
}

struct Counter {
    static uint64_t add(void* context, uint64_t amount) {
        fixture::CounterState& state = state_of(context);
        state.total += amount;
        state.calls += 1;
        return state.total;
    }
    static uint64_t total(void* context) { return state_of(context).total; }
    static Status announce(void* context) {
        services::LogRef log;
        if (umka::kabi::bind_required(umka::kabi::binding_of(context), kLog, &log).is_error()) {
            return UMKA_KABI_EIO;
        }
        umka::LineText<32> line;
        line.add("total ").number(state_of(context).total);
        log.write(services::LogLevel::Info, line.data(), line.length());
        return Status::ok();
    }
};
static_assert(__is_empty(Counter));

constexpr fixture::CounterVtable counter_vtable = fixture::make_counter_vtable<Counter>();

}  // namespace

UMKA_KABI_DEFINE_MANIFEST_COUNTER_MODULE();

namespace {

// Entry cannot reach the services (module_entry.h); start, once committed, can.
int32_t start_counter(UmkaModuleBinding* binding) {
    services::ClockRef clock;
    if (umka::kabi::bind_required(binding, kClock, &clock).is_error()) {
        return umka_module_refuse(binding, UMKA_KABI_ENOENT, "no kernel_services.Clock", 24);
    }
    services::LogRef log;
    if (umka::kabi::bind_required(binding, kLog, &log).is_error()) return UMKA_KABI_ENOENT;
    log.write(services::LogLevel::Info, "counter_module bound", 20);
    return UMKA_KABI_OK;
}

}  // namespace

UMKA_MODULE_ENTRY(binding) {
    if (!umka_module_binding_matches(binding, 2, 1, 1)) return UMKA_KABI_EINVAL;
    if (umka::kabi::module_state<fixture::CounterState>(binding) == nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EINVAL, "no CounterState region", 22);
    }
    // What entry sees of its services: nothing yet.
    if (umka_module_required(binding, kClock) != nullptr) {
        return umka_module_refuse(binding, UMKA_KABI_EPERM, "a service is reachable in entry", 31);
    }
    if (int32_t status = umka_module_set_start(binding, start_counter); status != UMKA_KABI_OK) {
        return status;
    }
    return umka_module_provide(binding, 0, &counter_vtable, binding);
}
