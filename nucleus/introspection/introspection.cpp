#include "nucleus/introspection/introspection.h"

#include "nucleus/published/nucleus_services.h"

namespace umka::introspection {

namespace api = umka::kabi::introspection;

namespace {

template <typename Vtable>
Status publish(modules::ServiceRegistry& registry, const char* name, const Vtable& vtable,
               modules::Diagnostic& diagnostic) {
    return loader::publish_vtable(registry, "introspection", name,
                                  reinterpret_cast<const umka_kabi_vtable_header*>(&vtable),
                                  vtable.version, diagnostic);
}

}  // namespace

Status publish_introspection(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    TRY(publish(registry, "Machine", kMachineVtable, diagnostic));
    TRY(publish(registry, "Modules", kModulesVtable, diagnostic));
    TRY(publish(registry, "Scheduling", kSchedulingVtable, diagnostic));
    return publish(registry, "EvolutionHistory", kHistoryVtable, diagnostic);
}

}  // namespace umka::introspection
