// The nucleus's typed introspection services (kabi-idl/introspection.kabi): read-only
// records of CPUs, memory, the boot timeline, ACPI, modules, bindings, capabilities,
// threads, rings and the evolution log, for the shell module to format. The nucleus fills
// records and formats no text.
#pragma once

#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/service_registry.h"
#include "umka/kabi/introspection.hpp"

namespace umka::introspection {

// Publishes Machine, Modules, Scheduling and EvolutionHistory.
Status publish_introspection(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

// The vtables, each defined beside its implementation (machine_service.cpp,
// modules_service.cpp, scheduling_service.cpp).
extern const kabi::introspection::MachineVtable kMachineVtable;
extern const kabi::introspection::ModulesVtable kModulesVtable;
extern const kabi::introspection::SchedulingVtable kSchedulingVtable;
extern const kabi::introspection::EvolutionHistoryVtable kHistoryVtable;

}  // namespace umka::introspection

namespace umka::sched {
// Task slots, free ones included (Scheduling.thread_slot_count).
uint32_t thread_slot_count();
// NotFound: the slot is free, does not exist, or no policy runs threads yet.
Status thread_record(uint32_t slot, kabi::introspection::ThreadRecord& record);
}  // namespace umka::sched

namespace umka::loader {
// Ring binding table entries, free ones included.
uint32_t ring_slot_count();
// NotFound: the entry is free or does not exist.
Status ring_record(uint32_t slot, kabi::introspection::RingRecord& record);
}  // namespace umka::loader
