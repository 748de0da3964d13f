#include "nucleus/evolution/evolution_log.h"

namespace umka::evolution {
namespace {

void copy_name(char (&out)[kLogNameSize], const char* text) {
    size_t length = 0;
    if (text != nullptr) {
        while (text[length] != '\0' && length + 1 < kLogNameSize) ++length;
        __builtin_memcpy(out, text, length);
    }
    __builtin_memset(out + length, 0, kLogNameSize - length);
}

void copy_hash(uint8_t (&out)[kHashSize], const uint8_t* hash) {
    if (hash == nullptr) {
        __builtin_memset(out, 0, kHashSize);
    } else {
        __builtin_memcpy(out, hash, kHashSize);
    }
}

void update_little_endian(crypto::Sha256& hasher, uint64_t value, size_t bytes) {
    uint8_t encoded[8];
    for (size_t index = 0; index < bytes; ++index) encoded[index] = uint8_t(value >> (8 * index));
    hasher.update(encoded, bytes);
}

}  // namespace

const char* log_outcome_name(LogOutcome outcome) {
    switch (outcome) {
    case LogOutcome::Swapped:
        return "swapped";
    case LogOutcome::SwappedParked:
        return "swapped, old image parked";
    case LogOutcome::DryRunPassed:
        return "dry run passed";
    case LogOutcome::Refused:
        return "refused";
    }
    return "?";
}

EvolutionLog::EvolutionLog(LogEntry* storage, size_t capacity)
    : storage_(storage), capacity_(capacity) {}

// previous_hash | sequence (8, little-endian) | time_us (8) | service (32, NUL-padded) |
// new_module (32) | old_version (4) | new_version (4) | outcome (1) | downgrade (1) |
// old_image_hash (32) | new_image_hash (32).
void EvolutionLog::hash_entry(const LogEntry& entry, uint8_t out[kHashSize]) {
    crypto::Sha256 hasher;
    hasher.update(entry.previous_hash, kHashSize);
    update_little_endian(hasher, entry.sequence, 8);
    update_little_endian(hasher, entry.time_us, 8);
    hasher.update(reinterpret_cast<const uint8_t*>(entry.service), kLogNameSize);
    hasher.update(reinterpret_cast<const uint8_t*>(entry.new_module), kLogNameSize);
    update_little_endian(hasher, entry.old_version, 4);
    update_little_endian(hasher, entry.new_version, 4);
    update_little_endian(hasher, uint8_t(entry.outcome), 1);
    update_little_endian(hasher, uint8_t(entry.downgrade), 1);
    hasher.update(entry.old_image_hash, kHashSize);
    hasher.update(entry.new_image_hash, kHashSize);
    hasher.finish(out);
}

const LogEntry& EvolutionLog::append(const LogFields& fields) {
    if (count_ == capacity_) {
        // The oldest entry goes; its hash anchors the chain that remains.
        __builtin_memcpy(anchor_, storage_[first_].hash, kHashSize);
        first_ = (first_ + 1) % capacity_;
        --count_;
    }
    LogEntry& entry = storage_[slot_of(count_)];
    entry.sequence = next_sequence_++;
    entry.time_us = fields.time_us;
    copy_name(entry.service, fields.service);
    copy_name(entry.new_module, fields.new_module);
    entry.old_version = fields.old_version;
    entry.new_version = fields.new_version;
    entry.outcome = fields.outcome;
    entry.downgrade = fields.downgrade;
    copy_hash(entry.old_image_hash, fields.old_image_hash);
    copy_hash(entry.new_image_hash, fields.new_image_hash);
    __builtin_memcpy(entry.previous_hash, last_hash_, kHashSize);
    hash_entry(entry, entry.hash);
    __builtin_memcpy(last_hash_, entry.hash, kHashSize);
    ++count_;
    return entry;
}

const LogEntry& EvolutionLog::entry(size_t index) const {
    return storage_[slot_of(index)];
}

ChainCheck EvolutionLog::verify() const {
    const uint8_t* expected_previous = anchor_;
    for (size_t index = 0; index < count_; ++index) {
        const LogEntry& current = entry(index);
        uint8_t hash[kHashSize];
        hash_entry(current, hash);
        if (__builtin_memcmp(current.previous_hash, expected_previous, kHashSize) != 0 ||
            __builtin_memcmp(current.hash, hash, kHashSize) != 0 ||
            (index > 0 && current.sequence != entry(index - 1).sequence + 1)) {
            return ChainCheck{false, index};
        }
        expected_previous = current.hash;
    }
    // The newest entry must be the one the log appended last (a dropped tail shows here).
    if (count_ > 0 && __builtin_memcmp(entry(count_ - 1).hash, last_hash_, kHashSize) != 0) {
        return ChainCheck{false, count_ - 1};
    }
    return ChainCheck{true, count_};
}

}  // namespace umka::evolution
