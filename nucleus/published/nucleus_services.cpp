#include "nucleus/published/nucleus_services.h"

#include <arch/cpu.h>

#include "nucleus/boot/timeline.h"
#include "nucleus/console/console.h"
#include "nucleus/containment/containment.h"
#include "nucleus/evolution/evolution_service.h"
#include "nucleus/introspection/introspection.h"
#include "nucleus/lib/log.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/time/clock.h"
#include "umka/kabi/kernel_services.hpp"

namespace umka::loader {
namespace {

namespace services = umka::kabi::kernel_services;

constexpr services::LogLevel kLogThreshold = services::LogLevel::Info;

const char* level_name(services::LogLevel level) {
    switch (level) {
    case services::LogLevel::Error:
        return "error";
    case services::LogLevel::Warning:
        return "warning";
    case services::LogLevel::Info:
        return "info";
    case services::LogLevel::Debug:
        return "debug";
    }
    return "?";
}

struct LogService {
    // Always inlined into the vtable thunk, so the return address is the module's call
    // site: that is how a line is attributed to its module without trusting the caller.
    [[gnu::always_inline]] static inline void write(void*, services::LogLevel level,
                                                    const char* text, uint64_t length) {
        if (uint8_t(level) > uint8_t(kLogThreshold)) return;
        const ModuleRecord* caller = module_system().record_containing(__builtin_return_address(0));
        const char* name = caller != nullptr ? caller->image.manifest_view.name() : "nucleus";
        while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r')) --length;
        log("[%8lu us] %s: %s: %.*s\n",
            clock::cycles_to_microseconds(arch::read_cycle_counter() - timeline::entry_cycles()),
            name, level_name(level), int(length > 400 ? 400 : length), text);
    }
    static services::LogLevel level(void*) { return kLogThreshold; }
};

struct ClockService {
    static uint64_t now_ns(void*) {
        return clock::cycles_to_nanoseconds(arch::read_cycle_counter() - timeline::entry_cycles());
    }
    static uint64_t resolution_ns(void*) {
        uint64_t hertz = clock::cycle_frequency();
        return hertz >= 1000000000u ? 1 : 1000000000u / hertz;
    }
};

constexpr services::LogVtable kLogVtable = services::make_log_vtable<LogService>();
constexpr services::ClockVtable kClockVtable = services::make_clock_vtable<ClockService>();

template <typename Vtable>
Status publish(modules::ServiceRegistry& registry, const char* package, const char* name,
               const Vtable& vtable, modules::Diagnostic& diagnostic) {
    return publish_vtable(registry, package, name,
                          reinterpret_cast<const umka_kabi_vtable_header*>(&vtable), vtable.version,
                          diagnostic);
}

}  // namespace

Status publish_vtable(modules::ServiceRegistry& registry, const char* package, const char* name,
                      const umka_kabi_vtable_header* vtable, uint32_t version,
                      modules::Diagnostic& diagnostic) {
    modules::ServiceProvider provider{modules::kNucleusProviderName, vtable, nullptr, version};
    return registry.publish(package, name, provider, diagnostic).status();
}

Status publish_nucleus_services(modules::ServiceRegistry& registry,
                                modules::Diagnostic& diagnostic) {
    TRY(publish(registry, "kernel_services", "Log", kLogVtable, diagnostic));
    TRY(publish(registry, "kernel_services", "Clock", kClockVtable, diagnostic));
    TRY(publish_module_memory(registry, diagnostic));
    TRY(publish_dma(registry, diagnostic));
    TRY(publish_mmio(registry, diagnostic));
    TRY(publish_devices(registry, diagnostic));
    TRY(publish_boot_files(registry, diagnostic));
    TRY(publish_irq(registry, diagnostic));
    TRY(publish_threads(registry, diagnostic));
    TRY(publish_service_directory(registry, diagnostic));
    TRY(publish_rings(registry, diagnostic));
    TRY(publish_heap_calls(registry, diagnostic));
    TRY(evolution::publish_evolution_control(registry, diagnostic));
    TRY(introspection::publish_introspection(registry, diagnostic));
    TRY(containment::publish_containment(registry, diagnostic));
    return arch::publish_bus_services(registry, diagnostic);
}

}  // namespace umka::loader
