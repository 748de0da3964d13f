// irqs: the device interrupt bindings (introspection.Machine v2) and the totals.
#include "commands.h"

namespace umka::shell {

namespace api = kabi::introspection;

kabi::Status irqs(const Services& services, const Words&, Output& out) {
    if (!bound(services.machine.vtable(), "irqs", "introspection.Machine", out)) {
        return kabi::Status::ok();
    }
    if (!services.machine.has_interrupt_binding() || !services.machine.has_interrupt_totals()) {
        out.text("irqs: the nucleus's introspection.Machine is older than version 2\n");
        return kabi::Status::ok();
    }
    out.text(
        "vector cpu module                   cookie   delivered unhandled masked latency-us "
        "avg/max\n");
    for (uint32_t index = 0;; ++index) {
        api::InterruptBinding binding{};
        if (services.machine.interrupt_binding(index, &binding).is_error()) break;
        out.right(binding.vector, 6).character(' ').right(binding.cpu, 3).character(' ');
        out.left_field(binding.module, 24).character(' ').right(binding.cookie, 6).character(' ');
        out.right(binding.delivered, 11).character(' ').right(binding.unhandled, 9);
        out.text(binding.masked != 0 ? " yes   " : " no    ");
        out.right(binding.latency_average_ns / 1000, 10).character('/');
        out.number(binding.latency_max_ns / 1000).character('\n');
    }
    api::InterruptTotals totals{};
    services.machine.interrupt_totals(&totals);
    out.text("delivered ").number(totals.delivered).text(", spurious ").number(totals.spurious);
    out.text(", unhandled ").number(totals.unhandled);
    out.text(", storms ").number(totals.storms).character('\n');
    return kabi::Status::ok();
}

}  // namespace umka::shell
