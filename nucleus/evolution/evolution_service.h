// The nucleus's one evolution engine, its log, and evolution.EvolutionControl (the KABI
// control interface tests and workloads drive). The console commands and the control
// interface both come through evolve() here.
#pragma once

#include "nucleus/evolution/evolution_engine.h"
#include "nucleus/evolution/module_swap.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/service_registry.h"

namespace umka::evolution {

// Entries kept; older ones are dropped and anchor the chain (evolution_log.h).
inline constexpr size_t kLogCapacity = 1024;

// Allocates the log and publishes evolution.EvolutionControl (at boot, with the other
// nucleus services).
Status publish_evolution_control(modules::ServiceRegistry& registry,
                                 modules::Diagnostic& diagnostic);

EvolveReport evolve(const EvolveRequest& request, StateCheck check);
const EvolutionLog& evolution_log();
const ModuleSwap& module_swap();

}  // namespace umka::evolution
