// The interfaces the nucleus itself provides to modules (kernel_services.Log and .Clock,
// nucleus_shell.Shell here; bus access in arch/), published in the service registry before
// any module is bound.
#pragma once

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/service_registry.h"

namespace umka::loader {

// kernel_services.ModuleMemory (module_memory_service.cpp).
Status publish_module_memory(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);
// Live swap: the memory regions module instance `from_owner` allocated now belong to
// `to_owner` (its replacement), so they stay valid and are freed through it. Every other
// CPU stopped. Returns how many moved.
size_t transfer_module_regions(uint32_t from_owner, uint32_t to_owner);

Status publish_nucleus_services(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

}  // namespace umka::loader

namespace umka::arch {

// Bus access (bus_access.PortIo on x86-64), resolving each call's range handle to the
// ports the boot manifest granted the calling module.
Status publish_bus_services(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

}  // namespace umka::arch
