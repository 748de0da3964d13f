// The hash-chained evolution log: appends chain, every kind of tampering (a field, a hash,
// a removed or reordered entry) is detected at the right entry, a full log drops the
// oldest entry and anchors the chain on its hash.
#include "nucleus/evolution/evolution_log.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace umka::evolution {
namespace {

LogFields fields(uint64_t time, LogOutcome outcome = LogOutcome::Swapped) {
    static const uint8_t kOld[kHashSize] = {0xaa};
    static const uint8_t kNew[kHashSize] = {0xbb};
    return LogFields{time, "scheduler", "scheduler-v2.umod", 1, 2, outcome, kOld, kNew};
}

class EvolutionLogTest : public ::testing::Test {
protected:
    void fill(size_t count) {
        for (size_t index = 0; index < count; ++index) log_.append(fields(100 + index));
    }
    LogEntry storage_[4]{};
    EvolutionLog log_{storage_, 4};
};

TEST_F(EvolutionLogTest, EachEntryChainsOnThePreviousHash) {
    fill(3);
    ASSERT_EQ(log_.count(), 3u);
    uint8_t zero[kHashSize] = {};
    EXPECT_EQ(std::memcmp(log_.entry(0).previous_hash, zero, kHashSize), 0);
    EXPECT_EQ(std::memcmp(log_.entry(1).previous_hash, log_.entry(0).hash, kHashSize), 0);
    EXPECT_EQ(std::memcmp(log_.entry(2).previous_hash, log_.entry(1).hash, kHashSize), 0);
    EXPECT_EQ(log_.entry(2).sequence, 3u);
    ChainCheck check = log_.verify();
    EXPECT_TRUE(check.valid);
    EXPECT_EQ(check.first_bad, 3u);
}

TEST_F(EvolutionLogTest, TheSameFieldsGiveTheSameHashAndAnyFieldChangesIt) {
    fill(1);
    uint8_t again[kHashSize];
    EvolutionLog::hash_entry(log_.entry(0), again);
    EXPECT_EQ(std::memcmp(again, log_.entry(0).hash, kHashSize), 0);
    LogEntry edited = log_.entry(0);
    edited.new_version = 3;
    EvolutionLog::hash_entry(edited, again);
    EXPECT_NE(std::memcmp(again, log_.entry(0).hash, kHashSize), 0);
}

TEST_F(EvolutionLogTest, TheDowngradeMarkIsHashed) {
    fill(2);
    log_.entry_for_test(0).downgrade = Downgrade::Allowed;  // marking an entry afterwards
    ChainCheck check = log_.verify();
    EXPECT_FALSE(check.valid);
    EXPECT_EQ(check.first_bad, 0u);
}

TEST_F(EvolutionLogTest, AnEditedFieldIsDetectedAtItsEntry) {
    fill(3);
    log_.entry_for_test(1).outcome = LogOutcome::Refused;
    ChainCheck check = log_.verify();
    EXPECT_FALSE(check.valid);
    EXPECT_EQ(check.first_bad, 1u);
}

TEST_F(EvolutionLogTest, AnEntryRewrittenWithAFreshHashBreaksTheNextLink) {
    fill(3);
    LogEntry& middle = log_.entry_for_test(1);
    middle.old_image_hash[0] ^= 1;
    EvolutionLog::hash_entry(middle, middle.hash);  // the forger recomputes its own hash
    ChainCheck check = log_.verify();
    EXPECT_FALSE(check.valid);
    EXPECT_EQ(check.first_bad, 2u);
}

TEST_F(EvolutionLogTest, SwappedEntriesAreDetected) {
    fill(3);
    std::swap(log_.entry_for_test(0), log_.entry_for_test(1));
    EXPECT_FALSE(log_.verify().valid);
}

TEST_F(EvolutionLogTest, ARewrittenLastEntryIsDetected) {
    fill(2);
    LogEntry& last = log_.entry_for_test(1);
    last.time_us += 1;
    EvolutionLog::hash_entry(last, last.hash);
    ChainCheck check = log_.verify();
    EXPECT_FALSE(check.valid);
    EXPECT_EQ(check.first_bad, 1u);
}

TEST_F(EvolutionLogTest, AFullLogDropsTheOldestAndAnchorsOnItsHash) {
    fill(4);
    uint8_t dropped[kHashSize];
    std::memcpy(dropped, log_.entry(0).hash, kHashSize);
    log_.append(fields(999, LogOutcome::Refused));
    ASSERT_EQ(log_.count(), 4u);
    EXPECT_EQ(log_.entry(0).sequence, 2u);
    EXPECT_EQ(log_.entry(3).sequence, 5u);
    EXPECT_EQ(std::memcmp(log_.anchor(), dropped, kHashSize), 0);
    EXPECT_TRUE(log_.verify().valid);
    log_.entry_for_test(0).previous_hash[5] ^= 0x10;
    EXPECT_FALSE(log_.verify().valid);
}

TEST_F(EvolutionLogTest, LongNamesAreCutAndTerminated) {
    std::string name(100, 'x');
    LogFields long_fields = fields(1);
    long_fields.service = name.c_str();
    long_fields.new_image_hash = nullptr;
    const LogEntry& entry = log_.append(long_fields);
    EXPECT_EQ(std::strlen(entry.service), kLogNameSize - 1);
    uint8_t zero[kHashSize] = {};
    EXPECT_EQ(std::memcmp(entry.new_image_hash, zero, kHashSize), 0);
    EXPECT_TRUE(log_.verify().valid);
}

}  // namespace
}  // namespace umka::evolution
