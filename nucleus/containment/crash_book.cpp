// The crash book and restart policy (see crash_book.h).
#include "nucleus/containment/crash_book.h"

namespace umka::containment {
namespace {

template <size_t N>
void copy_cut(char (&field)[N], const char* text) {
    size_t length = 0;
    if (text != nullptr) {
        while (length + 1 < N && text[length] != '\0') {
            field[length] = text[length];
            ++length;
        }
    }
    for (; length < N; ++length) field[length] = '\0';
}

bool same_name(const char (&field)[kNameBytes], const char* name) {
    size_t index = 0;
    for (; index < kNameBytes; ++index) {
        if (field[index] != name[index]) return false;
        if (name[index] == '\0') return true;
    }
    return false;
}

}  // namespace

const char* health_name(Health health) {
    switch (health) {
    case Health::Running:
        return "running";
    case Health::Recovering:
        return "recovering";
    case Health::Failed:
        return "failed";
    }
    return "?";
}

ModuleCrashes* CrashBook::find(const char* module) {
    for (size_t index = 0; index < module_count_; ++index) {
        if (same_name(modules_[index].module, module)) return &modules_[index];
    }
    return nullptr;
}

const ModuleCrashes* CrashBook::find(const char* module) const {
    return const_cast<CrashBook*>(this)->find(module);
}

CrashReport* CrashBook::report_numbered(uint64_t sequence) {
    if (sequence == 0 || sequence > total_ || total_ - sequence >= kKeptReports) return nullptr;
    return &reports_[(sequence - 1) % kKeptReports];
}

const CrashReport* CrashBook::report(size_t index) const {
    if (index >= kept()) return nullptr;
    uint64_t first = total_ - kept() + 1;
    return &reports_[(first - 1 + index) % kKeptReports];
}

Status CrashBook::set_policy(const CrashPolicy& policy) {
    if (total_ != 0 || policy.crashes_to_fail == 0 ||
        policy.crashes_to_fail > kMaximumCrashesToFail || policy.window_ns < 1'000'000ull ||
        policy.window_ns > kMaximumCrashWindowMs * 1'000'000ull) {
        return Errno::InvalidArgument;
    }
    policy_ = policy;
    return Status::ok();
}

Decision CrashBook::record_crash(const CrashFacts& facts, uint64_t& sequence) {
    sequence = ++total_;
    CrashReport& report = reports_[(sequence - 1) % kKeptReports];
    report = CrashReport{};
    report.sequence = sequence;
    report.time_ns = facts.time_ns;
    report.vector = facts.vector;
    report.instruction = facts.instruction;
    report.offset = facts.offset;
    report.fault_address = facts.fault_address;
    report.error_code = facts.error_code;
    report.cpu = facts.cpu;
    report.phase = facts.phase;
    copy_cut(report.module, facts.module);
    copy_cut(report.fault, facts.fault_name);
    copy_cut(report.symbol, facts.symbol);

    ModuleCrashes* entry = find(facts.module);
    if (entry == nullptr) {
        if (module_count_ == kTrackedModules) {
            // No row to count its crashes in: the policy cannot be kept, so no restart.
            report.outcome = Health::Failed;
            report.restart_error = Errno::NoSpace;
            return Decision::Fail;
        }
        entry = &modules_[module_count_++];
        *entry = ModuleCrashes{};
        copy_cut(entry->module, facts.module);
    }
    const uint32_t limit = policy_.crashes_to_fail;
    entry->recent_ns[entry->crashes % limit] = facts.time_ns;
    ++entry->crashes;
    entry->last_sequence = sequence;
    if (entry->health == Health::Failed) {
        report.outcome = Health::Failed;
        return Decision::Fail;
    }
    if (entry->health == Health::Recovering && facts.phase != CrashPhase::StartUp) {
        report.outcome = Health::Recovering;
        return Decision::AwaitRestart;
    }
    // The oldest of the last `limit` crash times, when there are that many.
    if (entry->crashes >= limit) {
        uint64_t oldest = entry->recent_ns[entry->crashes % limit];
        if (facts.time_ns - oldest < policy_.window_ns) {
            entry->health = Health::Failed;
            report.outcome = Health::Failed;
            return Decision::Fail;
        }
    }
    entry->health = Health::Recovering;
    report.outcome = Health::Recovering;
    return Decision::Restart;
}

void CrashBook::restarted(const char* module, uint64_t sequence, uint64_t recovery_ns,
                          RestartState state) {
    ModuleCrashes* entry = find(module);
    if (entry == nullptr) return;
    entry->health = Health::Running;
    ++entry->restarts;
    if (CrashReport* report = report_numbered(sequence)) {
        report->recovery_ns = recovery_ns;
        report->outcome = Health::Running;
        report->restart_state = state;
    }
}

void CrashBook::restart_failed(const char* module, uint64_t sequence, Errno error) {
    ModuleCrashes* entry = find(module);
    if (entry == nullptr) return;
    entry->health = Health::Failed;
    if (CrashReport* report = report_numbered(sequence)) {
        report->restart_error = error;
        report->outcome = Health::Failed;
    }
}

void CrashBook::restart_crashed(uint64_t sequence) {
    if (CrashReport* report = report_numbered(sequence)) report->restart_error = Errno::IoError;
}

bool CrashBook::decision_of(uint64_t sequence, Decided& decided) const {
    const CrashReport* report = const_cast<CrashBook*>(this)->report_numbered(sequence);
    if (report == nullptr) return false;
    decided.decision = report->outcome == Health::Failed ? Decision::Fail : Decision::Restart;
    decided.time_ns = report->time_ns;
    __builtin_memcpy(decided.module, report->module, kNameBytes);
    return true;
}

Health CrashBook::health_of(const char* module) const {
    const ModuleCrashes* entry = find(module);
    return entry == nullptr ? Health::Running : entry->health;
}

bool CrashBook::set_watchdog_limit(const char* module, uint64_t limit_ns) {
    size_t index = 0;
    while (index < watchdog_limit_count_ && !same_name(watchdog_limits_[index].module, module)) {
        ++index;
    }
    if (index == kTrackedModules) return false;
    if (index == watchdog_limit_count_) {
        ++watchdog_limit_count_;
        copy_cut(watchdog_limits_[index].module, module);
    }
    watchdog_limits_[index].limit_ns = limit_ns;
    return true;
}

uint64_t CrashBook::watchdog_limit_ns(const char* module) const {
    for (size_t index = 0; module != nullptr && index < watchdog_limit_count_; ++index) {
        if (same_name(watchdog_limits_[index].module, module))
            return watchdog_limits_[index].limit_ns;
    }
    return 0;
}

}  // namespace umka::containment
