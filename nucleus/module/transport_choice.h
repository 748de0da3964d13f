// Which transport a module runs at and each of its bindings gets (DESIGN.md §7): the boot
// manifest asks (`tier=`, `transport=`), the module's manifest allows (transport mask and
// tier range of the module and of each interface), and the nucleus can only carry an
// interface over a ring when it has an adapter for it. Pure: the loader asks, the host
// tests check every rule.
#pragma once

#include <stdint.h>

#include "nucleus/bundle/boot_manifest.h"
#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/manifest.h"

namespace umka::modules {

// Refuses a boot-manifest request the module's manifest does not allow: a tier outside
// its range or a transport outside its mask (Errno::InvalidArgument, the reason names the
// module, what was asked and what it allows).
Status check_requested_placement(const ManifestView& manifest, uint8_t tier,
                                 bundle::Transport transport, Diagnostic& diagnostic);

enum class BindingTransport : uint8_t { Direct, Ring };

// One `requires` entry of a consumer, as the loader sees it at bind time.
struct BindingQuery {
    uint8_t consumer_tier;
    bundle::Transport consumer_transport;
    const ManifestView* consumer;
    InterfaceEntry required;
    // The provider's manifest; nullptr when the nucleus itself provides the interface.
    const ManifestView* provider;
    bool adapter_available;  // the nucleus has a ring adapter for the interface
};

struct BindingChoice {
    BindingTransport transport;
    const char* reason;  // why a ring was not chosen for a tier-1 ring consumer (or nullptr)
};

// Ring only when every party allows it: the consumer asked for tier 1 over a ring, the
// interface's transport clause and tier range admit it, the provider is a module whose
// manifest allows ring, and the nucleus has an adapter. Anything else is direct, with
// the reason (for the log) when the consumer had asked for a ring.
BindingChoice choose_binding_transport(const BindingQuery& query);

}  // namespace umka::modules
