// containment.Crashes (the crash book for `crashes`) and containment.FaultInjection (the
// fixture's switch), published by the nucleus.
#include "nucleus/containment/containment.h"
#include "nucleus/containment/fault_injection.h"
#include "nucleus/containment/memory_domain.h"
#include "nucleus/introspection/record_text.h"
#include "nucleus/loader/module_system.h"
#include "nucleus/published/nucleus_services.h"
#include "umka/kabi/containment.hpp"
#include "umka/name_copy.h"

namespace umka::containment {
namespace {

namespace api = umka::kabi::containment;
using introspection::copy_text;

struct ReportRequest {
    uint32_t index;
    api::CrashReport* out;
    bool found;
};

struct RowRequest {
    uint32_t index;
    api::ModuleCrashes* out;
    bool found;
};

struct CrashesService {
    static Status report_count(void*, uint32_t* kept, uint64_t* total) {
        if (kept == nullptr || total == nullptr) return Errno::InvalidArgument;
        struct Counts {
            uint32_t* kept;
            uint64_t* total;
        } counts{kept, total};
        read_book(
            [](const CrashBook& book, void* context) {
                auto& counts = *static_cast<Counts*>(context);
                *counts.kept = uint32_t(book.kept());
                *counts.total = book.total();
            },
            &counts);
        return Status::ok();
    }

    static Status report(void*, uint32_t index, api::CrashReport* out) {
        if (out == nullptr) return Errno::InvalidArgument;
        ReportRequest request{index, out, false};
        read_book(
            [](const CrashBook& book, void* context) {
                auto& request = *static_cast<ReportRequest*>(context);
                const CrashReport* report = book.report(request.index);
                if (report == nullptr) return;
                api::CrashReport& out = *request.out;
                out = api::CrashReport{};
                out.sequence = report->sequence;
                out.time_ns = report->time_ns;
                out.vector = report->vector;
                out.instruction = report->instruction;
                out.offset = report->offset;
                out.fault_address = report->fault_address;
                out.error_code = report->error_code;
                out.recovery_ns = report->recovery_ns;
                out.cpu = report->cpu;
                out.restart_error = uint32_t(report->restart_error);
                out.outcome = api::Health(uint8_t(report->outcome));
                out.restart_state = api::RestartState(uint8_t(report->restart_state));
                out.phase = api::CrashPhase(uint8_t(report->phase));
                copy_text(out.module, report->module);
                copy_text(out.fault, report->fault);
                copy_text(out.symbol, report->symbol);
                request.found = true;
            },
            &request);
        return request.found ? Status::ok() : Status(Errno::NotFound);
    }

    static uint32_t module_count(void*) {
        uint32_t count = 0;
        read_book(
            [](const CrashBook& book, void* context) {
                *static_cast<uint32_t*>(context) = uint32_t(book.module_count());
            },
            &count);
        return count;
    }

    static Status module(void*, uint32_t index, api::ModuleCrashes* out) {
        if (out == nullptr) return Errno::InvalidArgument;
        RowRequest request{index, out, false};
        read_book(
            [](const CrashBook& book, void* context) {
                auto& request = *static_cast<RowRequest*>(context);
                const ModuleCrashes* row = book.module(request.index);
                if (row == nullptr) return;
                api::ModuleCrashes& out = *request.out;
                out = api::ModuleCrashes{};
                copy_text(out.module, row->module);
                out.health = api::Health(uint8_t(row->health));
                out.crashes = row->crashes;
                out.restarts = row->restarts;
                out.last_sequence = row->last_sequence;
                request.found = true;
            },
            &request);
        return request.found ? Status::ok() : Status(Errno::NotFound);
    }
};

struct FaultInjectionService {
    static Status arm(void*, const char* module_data, uint64_t module_length, api::FaultKind kind) {
        char module[kNameBytes];
        if (module_data == nullptr || module_length == 0 ||
            !umka::copy_name(module, sizeof module, module_data, module_length)) {
            return Errno::InvalidArgument;
        }
        return arm_fault(module, uint32_t(kind));
    }

    static Status disarm(void*) { return disarm_fault(); }
};

constexpr api::CrashesVtable kCrashesVtable = api::make_crashes_vtable<CrashesService>();
constexpr api::FaultInjectionVtable kFaultInjectionVtable =
    api::make_fault_injection_vtable<FaultInjectionService>();

}  // namespace

Status publish_containment(modules::ServiceRegistry& registry, modules::Diagnostic& diagnostic) {
    configure_policy(loader::module_system().inventory());
    configure_domains(loader::module_system().inventory());
    configure_direct_guards(loader::module_system().inventory());
    TRY(loader::publish_vtable(registry, "containment", "Crashes",
                               reinterpret_cast<const umka_kabi_vtable_header*>(&kCrashesVtable),
                               kCrashesVtable.version, diagnostic));
    return loader::publish_vtable(
        registry, "containment", "FaultInjection",
        reinterpret_cast<const umka_kabi_vtable_header*>(&kFaultInjectionVtable),
        kFaultInjectionVtable.version, diagnostic);
}

}  // namespace umka::containment
