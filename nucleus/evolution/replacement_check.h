// The Prepare phase's manifest rule: a replacement provides exactly the interfaces the
// running provider publishes, each at a version every current consumer can use: at least
// the highest minimum they bound with (below it is an "older incompatible version"). A
// version below the running one is allowed when the consumers accept it, so A -> B -> A
// works. Checked before anything is bound, so a refusal costs nothing.
#pragma once

#include <stddef.h>

#include "nucleus/evolution/evolution_engine.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/manifest.h"
#include "nucleus/module/service_registry.h"

namespace umka::evolution {

// `published[i]` is the slot of current.provided(i) (the running instance's binding block).
// Errno::InvalidArgument with a reason naming both modules and the interface.
Status check_replacement(const modules::ManifestView& current,
                         const modules::ManifestView& replacement,
                         const UmkaServiceSlot* const* published,
                         const modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic);

// The downgrade rule: a replacement whose module version is below the running one's is
// refused (Errno::NotPermitted, naming both versions) unless `policy` allows it.
Status check_downgrade(uint32_t running_version, uint32_t replacement_version,
                       DowngradePolicy policy, modules::Diagnostic& diagnostic);

}  // namespace umka::evolution
