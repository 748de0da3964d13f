#include "nucleus/module/transport_choice.h"

namespace umka::modules {
namespace {

uint8_t transport_bit(bundle::Transport transport) {
    switch (transport) {
    case bundle::Transport::Direct:
        return UMKA_KABI_TRANSPORT_DIRECT;
    case bundle::Transport::Ring:
        return UMKA_KABI_TRANSPORT_RING;
    case bundle::Transport::Ipc:
        return UMKA_KABI_TRANSPORT_IPC;
    }
    return 0;
}

}  // namespace

Status check_requested_placement(const ManifestView& manifest, uint8_t tier,
                                 bundle::Transport transport, Diagnostic& diagnostic) {
    if (tier < manifest.min_tier() || tier > manifest.max_tier()) {
        return refuse(diagnostic, Errno::InvalidArgument,
                      "module '%s': the boot manifest asks for tier %u, its manifest allows "
                      "tiers %u..%u",
                      manifest.name(), tier, manifest.min_tier(), manifest.max_tier());
    }
    // Tier 2 (a process of its own, called over IPC) does not exist yet: binding such a
    // module as a direct call in ring 0 would be a silent change of what was asked for.
    if (tier == 2 || transport == bundle::Transport::Ipc) {
        return refuse(diagnostic, Errno::NotSupported,
                      "module '%s': the boot manifest asks for tier %u over %s; tier 2 and "
                      "the ipc transport are not implemented yet (use tier 0 or 1, direct or "
                      "ring)",
                      manifest.name(), tier, bundle::transport_name(transport));
    }
    if ((manifest.transport_mask() & transport_bit(transport)) == 0) {
        return refuse(diagnostic, Errno::InvalidArgument,
                      "module '%s': the boot manifest asks for transport %s, its manifest "
                      "allows mask 0x%x (1 direct, 2 ring, 4 ipc)",
                      manifest.name(), bundle::transport_name(transport),
                      manifest.transport_mask());
    }
    return Status::ok();
}

BindingChoice choose_binding_transport(const BindingQuery& query) {
    constexpr uint8_t kRingTier = 1;
    if (query.consumer_transport != bundle::Transport::Ring || query.consumer_tier != kRingTier) {
        return {BindingTransport::Direct, nullptr};
    }
    if ((query.consumer->transport_mask() & UMKA_KABI_TRANSPORT_RING) == 0) {
        return {BindingTransport::Direct, "the consumer's manifest does not allow ring"};
    }
    if ((query.required.transport_mask & UMKA_KABI_TRANSPORT_RING) == 0) {
        return {BindingTransport::Direct, "the interface is transport(direct) only"};
    }
    if (kRingTier < query.required.min_tier || kRingTier > query.required.max_tier) {
        return {BindingTransport::Direct, "the interface's tier range excludes tier 1"};
    }
    if (query.provider == nullptr) {
        return {BindingTransport::Direct, "the nucleus provides it (called in place)"};
    }
    if ((query.provider->transport_mask() & UMKA_KABI_TRANSPORT_RING) == 0) {
        return {BindingTransport::Direct, "the provider's manifest does not allow ring"};
    }
    if (!query.adapter_available) {
        return {BindingTransport::Direct, "the nucleus has no ring adapter for the interface"};
    }
    return {BindingTransport::Ring, nullptr};
}

}  // namespace umka::modules
