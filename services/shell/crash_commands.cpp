// crashes: what containment.Crashes reports (docs/crash-containment.md).
#include "commands.h"
#include "umka/errno_text.h"

namespace umka::shell {
namespace {

namespace api = kabi::containment;
using kabi::Status;

const char* health_name(api::Health health) {
    switch (health) {
    case api::Health::Running:
        return "running";
    case api::Health::Recovering:
        return "recovering";
    case api::Health::Failed:
        return "failed";
    }
    return "?";
}

bool same_name(const uint8_t (&left)[32], const uint8_t* right, size_t right_bytes) {
    for (size_t index = 0; index < sizeof(left); ++index) {
        if (index == right_bytes) return left[index] == 0;
        if (left[index] != right[index]) return false;
        if (left[index] == 0) return true;
    }
    return true;
}

}  // namespace

void crash_summary(const Services& services, const uint8_t* module, size_t module_bytes,
                   Output& out) {
    if (services.crashes.vtable() == nullptr) return;
    uint32_t rows = services.crashes.module_count();
    for (uint32_t index = 0; index < rows; ++index) {
        api::ModuleCrashes row{};
        if (services.crashes.module(index, &row).is_error() ||
            !same_name(row.module, module, module_bytes))
            continue;
        out.text(", crashed ").number(row.crashes).text(", restarted ").number(row.restarts);
        out.text(", ").text(health_name(row.health));
        uint32_t kept = 0;
        uint64_t total = 0;
        if (services.crashes.report_count(&kept, &total).is_error()) return;
        for (uint32_t report_index = 0; report_index < kept; ++report_index) {
            api::CrashReport report{};
            if (services.crashes.report(report_index, &report).is_error() ||
                report.sequence != row.last_sequence)
                continue;
            out.text(", last: ").field(report.fault);
        }
        return;
    }
}

Status crashes(const Services& services, const Words&, Output& out) {
    if (!bound(services.crashes.vtable(), "crashes", "containment.Crashes", out))
        return Status::ok();
    uint32_t kept = 0;
    uint64_t total = 0;
    if (Status status = services.crashes.report_count(&kept, &total); status.is_error()) {
        out.text("crashes: ").text(errno_text(status.code())).character('\n');
        return Status::ok();
    }
    if (total == 0) {
        out.text("no crashes since boot\n");
        return Status::ok();
    }
    out.text("module            health      crashes restarts last\n");
    uint32_t rows = services.crashes.module_count();
    for (uint32_t index = 0; index < rows; ++index) {
        api::ModuleCrashes row{};
        if (services.crashes.module(index, &row).is_error()) continue;
        out.left_field(row.module, 17).character(' ').left(health_name(row.health), 11);
        out.right(row.crashes, 8).character(' ').right(row.restarts, 8).character(' ');
        out.text("#").number(row.last_sequence).character('\n');
    }
    out.text("crash reports: ").number(kept).text(" kept of ").number(total).character('\n');
    for (uint32_t index = 0; index < kept; ++index) {
        api::CrashReport report{};
        if (services.crashes.report(index, &report).is_error()) continue;
        out.text("#").number(report.sequence).text(" at ").number(report.time_ns / 1000000);
        out.text(" ms on cpu ").number(report.cpu).text(": ").field(report.fault).text(" in ");
        if (report.phase == api::CrashPhase::StartUp) out.text("the start-up of ");
        if (report.phase == api::CrashPhase::Thread) out.text("a thread of ");
        if (report.phase == api::CrashPhase::Handler) out.text("the interrupt handler of ");
        if (report.phase == api::CrashPhase::DirectCall) out.text("a direct call into ");
        out.field(report.module).text(" rip 0x").hex(report.instruction, 0).text(" (");
        out.field(report.module).text("+0x").hex(report.offset, 0);
        if (report.symbol[0] != 0) out.text(", ").field(report.symbol);
        out.text(") cr2 0x").hex(report.fault_address, 0).text(" error 0x");
        out.hex(report.error_code, 0).text(" -> ");
        if (report.restart_error == uint32_t(UMKA_KABI_EIO)) {
            // Its restart's fresh instance crashed in its start-up: the next report says how
            // that ended.
            out.text("its restart crashed in start-up\n");
            continue;
        }
        out.text(health_name(report.outcome));
        if (report.recovery_ns != 0) {
            out.text(", back in ").number(report.recovery_ns / 1000).text(" us");
        }
        if (report.restart_state == api::RestartState::Fresh) out.text(", with fresh state");
        if (report.restart_error != 0) {
            out.text(", restart failed: ").text(errno_text(int64_t(report.restart_error)));
        }
        out.character('\n');
    }
    return Status::ok();
}

}  // namespace umka::shell
