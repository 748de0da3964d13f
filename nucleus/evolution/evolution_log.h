// The evolution log: one entry per evolution attempt (swap, dry run or refusal), each
// carrying SHA-256 over the previous entry's hash and its own fields, so changing, removing
// or reordering any entry breaks every later hash — tamper-evident like a measured-boot
// PCR. docs/evolution.md gives the exact byte layout that is hashed. Pure; the storage
// comes from the caller. When it is full the oldest entry is dropped and its hash becomes
// the anchor the remaining chain starts from.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/crypto/sha256.h"

namespace umka::evolution {

inline constexpr size_t kLogNameSize = 32;
inline constexpr size_t kHashSize = crypto::kSha256DigestSize;

enum class LogOutcome : uint8_t {
    Swapped = 1,        // the new module serves; the old image unloaded
    SwappedParked = 2,  // the new module serves; the old image is kept until it is unused
    DryRunPassed = 3,   // validated, nothing changed
    Refused = 4,        // failed before the swap: the old module serves, untouched
};
const char* log_outcome_name(LogOutcome outcome);

// A replacement whose module version is below the running one's: refused unless the caller
// allowed it explicitly (a downgrade can bring back a fixed bug), and then marked.
enum class Downgrade : uint8_t {
    No = 0,
    Allowed = 1,
};

// What the caller supplies; the log adds the sequence number and the hashes.
struct LogFields {
    uint64_t time_us;
    const char* service;     // the running provider's module name
    const char* new_module;  // the bundle file asked for
    uint32_t old_version;
    uint32_t new_version;  // 0 when the file never loaded
    LogOutcome outcome;
    const uint8_t* old_image_hash;  // SHA-256 of the old module's signed file (kHashSize)
    const uint8_t* new_image_hash;  // of the new one; nullptr: not read (all zero)
    Downgrade downgrade = Downgrade::No;
};

struct LogEntry {
    uint64_t sequence;  // 1 for the first entry ever appended
    uint64_t time_us;
    char service[kLogNameSize];
    char new_module[kLogNameSize];
    uint32_t old_version;
    uint32_t new_version;
    LogOutcome outcome;
    Downgrade downgrade;
    uint8_t old_image_hash[kHashSize];
    uint8_t new_image_hash[kHashSize];
    uint8_t previous_hash[kHashSize];
    uint8_t hash[kHashSize];
};

// Where a check of the chain stopped.
struct ChainCheck {
    bool valid;
    size_t first_bad;  // index (oldest = 0) of the first entry whose hash does not follow
};

class EvolutionLog {
public:
    constexpr EvolutionLog() = default;
    EvolutionLog(LogEntry* storage, size_t capacity);

    bool has_storage() const { return storage_ != nullptr; }
    const LogEntry& append(const LogFields& fields);
    size_t count() const { return count_; }
    // index 0 is the oldest entry kept.
    const LogEntry& entry(size_t index) const;
    LogEntry& entry_for_test(size_t index) { return storage_[slot_of(index)]; }
    // The hash the oldest kept entry's previous_hash must equal (zero until one is dropped).
    const uint8_t* anchor() const { return anchor_; }
    ChainCheck verify() const;

    static void hash_entry(const LogEntry& entry, uint8_t out[kHashSize]);

private:
    size_t slot_of(size_t index) const { return (first_ + index) % capacity_; }

    LogEntry* storage_ = nullptr;
    size_t capacity_ = 0;
    size_t first_ = 0;
    size_t count_ = 0;
    uint64_t next_sequence_ = 1;
    uint8_t anchor_[kHashSize] = {};
    uint8_t last_hash_[kHashSize] = {};
};

}  // namespace umka::evolution
