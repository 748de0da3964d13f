#include "nucleus/lib/lock_checks.h"

#if UMKA_LOCK_CHECKS

#include <stddef.h>

#include "nucleus/lib/verify.h"

namespace umka::lock_checks {
namespace {

// One entry per level held: levels strictly increase from the first entry to the last, so
// there are never more entries than levels. A run of nested run-queue locks is one entry
// counting them; its `top` ordinal stays until the whole run is released, so after giving
// back part of a run, no further lock of that level may be taken until the rest is.
struct Held {
    const void* lock;  // the last one taken at this level
    LockLevel level;
    uint16_t top;    // the greatest ordinal taken at this level
    uint16_t depth;  // how many locks of this level are held
};

struct CpuRecord {
    Held held[size_t(LockLevel::Count)];
    uint32_t count;
};

#if defined(UMKA_KERNEL)
constinit CpuRecord records[kCheckedCpus];

CpuRecord* record_of(uint32_t cpu) {
    return cpu < kCheckedCpus ? &records[cpu] : nullptr;
}
#else
CpuRecord* record_of(uint32_t) {
    thread_local CpuRecord record{};
    return &record;
}
#endif

[[noreturn]] void order_broken(Site site, const void* lock, LockLevel level, uint16_t ordinal,
                               const Held& inner, const char* rule) {
    umka_verify_failed(detail::file_name_of(site.file), site.line,
                       "lock order: taking %s lock #%u (%p) while holding %s lock #%u (%p): %s",
                       lock_level_name(level), unsigned(ordinal), lock,
                       lock_level_name(inner.level), unsigned(inner.top), inner.lock, rule);
}

}  // namespace

void acquire(const void* lock, LockLevel level, uint16_t ordinal, uint32_t cpu, Site site) {
    if (level == LockLevel::Unset || level >= LockLevel::Count) {
        umka_verify_failed(detail::file_name_of(site.file), site.line, "lock %p has no lock level",
                           lock);
    }
    CpuRecord* record = record_of(cpu);
    if (record == nullptr) return;
    if (record->count != 0) {
        Held& inner = record->held[record->count - 1];
        if (lock_level_is_leaf(inner.level)) {
            order_broken(site, lock, level, ordinal, inner, "a leaf lock takes nothing");
        }
        if (level == inner.level) {
            if (!lock_level_nests_in_order(level)) {
                order_broken(site, lock, level, ordinal, inner, "two locks of one level");
            }
            if (ordinal <= inner.top) {
                order_broken(site, lock, level, ordinal, inner, "same level out of order");
            }
            inner.lock = lock;
            inner.top = ordinal;
            ++inner.depth;
            return;
        }
        if (level < inner.level) {
            order_broken(site, lock, level, ordinal, inner, "outer lock taken inside");
        }
    }
    record->held[record->count++] = Held{lock, level, ordinal, 1};
}

void release(const void* lock, LockLevel level, uint32_t cpu, Site site) {
    CpuRecord* record = record_of(cpu);
    if (record == nullptr) return;
    for (uint32_t index = record->count; index-- > 0;) {
        Held& held = record->held[index];
        bool match = lock_level_nests_in_order(level) ? held.level == level : held.lock == lock;
        if (!match) continue;
        if (--held.depth != 0) return;
        for (uint32_t next = index + 1; next < record->count; ++next) {
            record->held[next - 1] = record->held[next];
        }
        --record->count;
        return;
    }
    umka_verify_failed(detail::file_name_of(site.file), site.line,
                       "releasing %s lock %p, which cpu %u does not hold", lock_level_name(level),
                       lock, cpu);
}

void verify_nothing_held(uint32_t cpu, const char* what, Site site) {
    CpuRecord* record = record_of(cpu);
    if (record == nullptr || record->count == 0) return;
    const Held& inner = record->held[record->count - 1];
    umka_verify_failed(detail::file_name_of(site.file), site.line, "holding %s lock %p across %s",
                       lock_level_name(inner.level), inner.lock, what);
}

uint32_t held_count(uint32_t cpu) {
    CpuRecord* record = record_of(cpu);
    return record == nullptr ? 0 : record->count;
}

}  // namespace umka::lock_checks

#endif
