// introspection.Scheduling (threads, ring bindings) and introspection.EvolutionHistory
// (the evolution log with its chain check).
#include "nucleus/evolution/evolution_service.h"
#include "nucleus/introspection/introspection.h"
#include "nucleus/introspection/record_text.h"
#include "nucleus/sched/scheduler.h"

namespace umka::introspection {
namespace {

namespace api = umka::kabi::introspection;

struct SchedulingService {
    static uint8_t running(void*) { return sched::running() ? 1 : 0; }
    static uint32_t thread_slot_count(void*) { return sched::thread_slot_count(); }
    static Status thread(void*, uint32_t slot, api::ThreadRecord* record) {
        return sched::thread_record(slot, *record);
    }
    static uint32_t ring_slot_count(void*) { return loader::ring_slot_count(); }
    static Status ring(void*, uint32_t slot, api::RingRecord* record) {
        return loader::ring_record(slot, *record);
    }
};

struct HistoryService {
    static uint32_t entry_count(void*) { return uint32_t(evolution::evolution_log().count()); }

    static Status entry(void*, uint32_t index, api::EvolutionEntry* out) {
        const evolution::EvolutionLog& log = evolution::evolution_log();
        if (index >= log.count()) return Errno::NotFound;
        const evolution::LogEntry& entry = log.entry(index);
        static_assert(sizeof out->hash == evolution::kHashSize);
        *out = api::EvolutionEntry{};
        out->sequence = entry.sequence;
        out->time_us = entry.time_us;
        copy_text(out->service, entry.service);
        copy_text(out->new_module, entry.new_module);
        out->old_version = entry.old_version;
        out->new_version = entry.new_version;
        out->outcome = api::EvolutionOutcome(uint8_t(entry.outcome));
        out->downgrade = entry.downgrade == evolution::Downgrade::Allowed ? 1 : 0;
        __builtin_memcpy(out->old_image_hash, entry.old_image_hash, evolution::kHashSize);
        __builtin_memcpy(out->new_image_hash, entry.new_image_hash, evolution::kHashSize);
        __builtin_memcpy(out->previous_hash, entry.previous_hash, evolution::kHashSize);
        __builtin_memcpy(out->hash, entry.hash, evolution::kHashSize);
        return Status::ok();
    }

    static Status check_chain(void*, api::ChainCheck* out) {
        const evolution::EvolutionLog& log = evolution::evolution_log();
        if (log.count() == 0) return Errno::NotFound;
        evolution::ChainCheck check = log.verify();
        *out = api::ChainCheck{};
        out->state = check.valid ? api::ChainState::Valid : api::ChainState::Broken;
        out->first_bad_sequence = check.valid ? 0 : log.entry(check.first_bad).sequence;
        __builtin_memcpy(out->head, log.entry(log.count() - 1).hash, evolution::kHashSize);
        return Status::ok();
    }
};

}  // namespace

const api::SchedulingVtable kSchedulingVtable = api::make_scheduling_vtable<SchedulingService>();
const api::EvolutionHistoryVtable kHistoryVtable =
    api::make_evolution_history_vtable<HistoryService>();

}  // namespace umka::introspection
