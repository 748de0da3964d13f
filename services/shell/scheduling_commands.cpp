// threads, rings.
#include "commands.h"

namespace umka::shell {
namespace {

namespace api = kabi::introspection;
using kabi::Status;

}  // namespace

Status threads(const Services& services, const Words&, Output& out) {
    if (!bound(services.scheduling.vtable(), "threads", "introspection.Scheduling", out))
        return Status::ok();
    if (services.scheduling.running() == 0) {
        out.text("threads: no scheduler policy module is loaded\n");
        return Status::ok();
    }
    out.text("  id  name                cpu  state     switches  nice  vruntime-us  lag-us\n");
    uint32_t slots = services.scheduling.thread_slot_count();
    for (uint32_t slot = 0; slot < slots; ++slot) {
        api::ThreadRecord thread{};
        if (services.scheduling.thread(slot, &thread).is_error()) continue;
        out.right(thread.slot, 4).text("  ").left_field(thread.name, 18).character(' ');
        out.right(thread.cpu, 4).text("  ").left_field(thread.state, 8).character(' ');
        out.right(thread.switches, 9);
        if (thread.zombie != 0) {
            out.text("     -            -       -  exit ").signed_right(thread.exit_status, 0);
        } else {
            out.character(' ').signed_right(thread.nice, 5).character(' ');
            out.right(thread.virtual_runtime_us, 12).character(' ').signed_right(thread.lag_us, 7);
        }
        out.character('\n');
    }
    return Status::ok();
}

Status rings(const Services& services, const Words&, Output& out) {
    if (!bound(services.scheduling.vtable(), "rings", "introspection.Scheduling", out))
        return Status::ok();
    uint32_t slots = services.scheduling.ring_slot_count();
    uint32_t count = 0;
    for (uint32_t slot = 0; slot < slots; ++slot) {
        api::RingRecord ring{};
        count += services.scheduling.ring(slot, &ring).is_ok() ? 1 : 0;
    }
    out.number(count).text(" ring binding(s)\n");
    if (count == 0) return Status::ok();
    out.text(
        "consumer         -> provider.interface                 entries  submitted  "
        "completed  doorbells full-waits  provider thread / cpu\n");
    for (uint32_t slot = 0; slot < slots; ++slot) {
        api::RingRecord ring{};
        if (services.scheduling.ring(slot, &ring).is_error()) continue;
        out.left_field(ring.consumer, 16).text(" -> ");
        uint64_t target = Output::field_length(ring.provider, sizeof ring.provider) + 1 +
                          Output::field_length(ring.package, sizeof ring.package) + 1 +
                          Output::field_length(ring.interface, sizeof ring.interface);
        out.field(ring.provider).character('.').field(ring.package).character('.');
        out.field(ring.interface).spaces(target < 34 ? 34 - target : 0).character(' ');
        out.right(ring.entries, 7).character(' ').right(ring.submitted, 10).character(' ');
        out.right(ring.completed, 10).character(' ').right(ring.doorbells, 10).character(' ');
        out.right(ring.full_waits, 10).text("  ");
        if (ring.state == 1) {
            out.field(ring.provider_thread).text(" / cpu ").number(ring.provider_cpu);
        } else {
            out.text(ring.state == 0 ? "not started (direct)" : "closed");
        }
        out.character('\n');
    }
    return Status::ok();
}

}  // namespace umka::shell
