// Handles the nucleus gives modules for threads and wait queues (nucleus/sched/handle_table.h):
// stale after the object is gone, refused for another owner, never live when forged from
// small or zero values, and busy while a caller is inside.
#include "nucleus/sched/handle_table.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace umka::sched {
namespace {

constexpr uint32_t kOwner = 3;
constexpr uint32_t kOtherOwner = 4;

class HandleTableTest : public ::testing::Test {
protected:
    explicit HandleTableTest(size_t capacity = 4)
        : slots_(capacity), table_(slots_.data(), capacity) {}

    uint64_t create(uint32_t owner = kOwner) {
        Result<uint64_t> handle = table_.create(owner);
        EXPECT_TRUE(handle.is_ok());
        return handle.is_ok() ? handle.value() : 0;
    }

    std::vector<HandleSlot> slots_;
    HandleTable table_;
};

TEST(SlotHandleTest, EncodesSlotAndGenerationAndZeroIsNoSlot) {
    uint64_t handle = SlotHandle::make(7, 9);
    EXPECT_EQ(SlotHandle::slot(handle), 7u);
    EXPECT_EQ(SlotHandle::generation(handle), 9u);
    EXPECT_NE(handle, 0u);
    EXPECT_EQ(handle_slot(0, 16), kNoSlot);
    EXPECT_EQ(handle_slot(SlotHandle::make(7, 0), 16), kNoSlot);   // generation 0 is never issued
    EXPECT_EQ(handle_slot(SlotHandle::make(16, 1), 16), kNoSlot);  // past the table
    EXPECT_EQ(handle_slot(SlotHandle::make(15, 1), 16), 15u);
    EXPECT_EQ(handle_slot(uint64_t(5) << 32, 16), kNoSlot);  // low half 0: no slot
}

TEST(SlotHandleTest, GenerationsSkipZeroOnWrap) {
    EXPECT_EQ(next_generation(1), 2u);
    EXPECT_EQ(next_generation(0xFFFFFFFFu), 1u);
}

TEST(SlotHandleTest, CheckHandleOrdersStaleBeforeOwner) {
    uint64_t handle = SlotHandle::make(2, 5);
    EXPECT_EQ(check_handle(handle, {true, 5, kOwner}, kOwner), HandleCheck::Valid);
    EXPECT_EQ(check_handle(handle, {true, 5, kOwner}, kOtherOwner), HandleCheck::NotOwner);
    EXPECT_EQ(check_handle(handle, {true, 6, kOwner}, kOwner), HandleCheck::Stale);
    EXPECT_EQ(check_handle(handle, {false, 5, kOwner}, kOwner), HandleCheck::Stale);
    // An object that is gone is stale for every caller, its owner or not.
    EXPECT_EQ(check_handle(handle, {false, 5, kOwner}, kOtherOwner), HandleCheck::Stale);
    EXPECT_STREQ(handle_check_name(HandleCheck::NotOwner), "not-owner");
}

TEST_F(HandleTableTest, CreatedHandleIsValidForItsOwnerOnly) {
    uint64_t handle = create();
    uint32_t slot = 99;
    EXPECT_EQ(table_.check(handle, kOwner, &slot), HandleCheck::Valid);
    EXPECT_EQ(slot, SlotHandle::slot(handle));
    EXPECT_EQ(table_.check(handle, kOtherOwner, &slot), HandleCheck::NotOwner);
    EXPECT_EQ(table_.destroy(handle, kOtherOwner), Status(Errno::InvalidArgument));
    EXPECT_EQ(table_.check(handle, kOwner, &slot), HandleCheck::Valid);  // still there
}

TEST_F(HandleTableTest, DestroyedHandleIsStaleAndSlotReuseGetsANewGeneration) {
    uint64_t first = create();
    ASSERT_TRUE(table_.destroy(first, kOwner).is_ok());
    uint32_t slot = 0;
    EXPECT_EQ(table_.check(first, kOwner, &slot), HandleCheck::Stale);
    EXPECT_EQ(table_.destroy(first, kOwner), Status(Errno::InvalidArgument));
    uint64_t second = create();
    EXPECT_EQ(SlotHandle::slot(second), SlotHandle::slot(first));
    EXPECT_NE(second, first);
    EXPECT_EQ(table_.check(first, kOwner, &slot), HandleCheck::Stale);
    EXPECT_EQ(table_.check(second, kOwner, &slot), HandleCheck::Valid);
}

TEST_F(HandleTableTest, ForgedHandlesAreMalformedOrStale) {
    (void)create();
    uint32_t slot = 0;
    EXPECT_EQ(table_.check(0, kOwner, &slot), HandleCheck::Malformed);
    EXPECT_EQ(table_.check(0x77, kOwner, &slot), HandleCheck::Malformed);  // generation 0
    EXPECT_EQ(table_.check(SlotHandle::make(1000, 1), kOwner, &slot), HandleCheck::Malformed);
    EXPECT_EQ(table_.check(SlotHandle::make(0, 2), kOwner, &slot), HandleCheck::Stale);
    EXPECT_EQ(table_.check(SlotHandle::make(1, 1), kOwner, &slot),
              HandleCheck::Stale);  // free slot
}

TEST_F(HandleTableTest, FullTableSaysTryAgainAndRecovers) {
    std::vector<uint64_t> handles;
    for (int index = 0; index < 4; ++index) handles.push_back(create());
    Result<uint64_t> refused = table_.create(kOwner);
    ASSERT_TRUE(refused.is_error());
    EXPECT_EQ(refused.error(), Errno::TryAgain);
    ASSERT_TRUE(table_.destroy(handles[2], kOwner).is_ok());
    EXPECT_TRUE(table_.create(kOtherOwner).is_ok());
}

TEST_F(HandleTableTest, DestroyWhileInUseIsBusyUntilReleased) {
    uint64_t handle = create();
    uint32_t slot = 0;
    ASSERT_EQ(table_.acquire(handle, kOwner, &slot), HandleCheck::Valid);
    ASSERT_EQ(table_.acquire(handle, kOwner, &slot), HandleCheck::Valid);
    EXPECT_EQ(table_.destroy(handle, kOwner), Status(Errno::Busy));
    table_.release(slot);
    EXPECT_EQ(table_.destroy(handle, kOwner), Status(Errno::Busy));
    table_.release(slot);
    EXPECT_TRUE(table_.destroy(handle, kOwner).is_ok());
    EXPECT_EQ(table_.acquire(handle, kOwner, &slot), HandleCheck::Stale);
}

// Random create/destroy against a model: every handle ever destroyed stays stale, every
// live one stays valid for its owner alone, and no two live handles are equal.
// A live swap: the successor instance's owner takes exactly the old owner's live slots, under
// the handles the old instance stored in its state.
TEST_F(HandleTableTest, TransferMovesOnlyTheOldOwnersLiveSlots) {
    uint64_t first = create(kOwner);
    uint64_t other = create(kOtherOwner);
    uint64_t gone = create(kOwner);
    ASSERT_TRUE(table_.destroy(gone, kOwner).is_ok());
    constexpr uint32_t kSuccessor = 9;
    EXPECT_EQ(table_.transfer(kOwner, kSuccessor), 1u);
    uint32_t slot = 0;
    EXPECT_EQ(table_.check(first, kSuccessor, &slot), HandleCheck::Valid);
    EXPECT_EQ(table_.check(first, kOwner, &slot), HandleCheck::NotOwner);
    EXPECT_EQ(table_.check(other, kOtherOwner, &slot), HandleCheck::Valid);
    EXPECT_EQ(table_.check(gone, kSuccessor, &slot), HandleCheck::Stale);
    EXPECT_EQ(table_.transfer(kOwner, kSuccessor), 0u);
}

TEST(HandleTableProperty, RandomLifetimesNeverRevalidateAnOldHandle) {
    std::vector<HandleSlot> slots(8);
    HandleTable table(slots.data(), slots.size());
    std::mt19937 random(12345);
    std::vector<std::pair<uint64_t, uint32_t>> live;
    std::set<uint64_t> dead;
    for (int step = 0; step < 20000; ++step) {
        if (live.empty() || (random() % 2 == 0 && live.size() < slots.size())) {
            uint32_t owner = 1 + random() % 3;
            Result<uint64_t> handle = table.create(owner);
            ASSERT_TRUE(handle.is_ok());
            ASSERT_EQ(dead.count(handle.value()), 0u)
                << "a destroyed handle came back at step " << step;
            live.emplace_back(handle.value(), owner);
        } else {
            size_t pick = random() % live.size();
            ASSERT_TRUE(table.destroy(live[pick].first, live[pick].second).is_ok());
            dead.insert(live[pick].first);
            live.erase(live.begin() + long(pick));
        }
        uint32_t slot = 0;
        for (auto [handle, owner] : live) {
            ASSERT_EQ(table.check(handle, owner, &slot), HandleCheck::Valid);
            ASSERT_EQ(table.check(handle, owner + 10, &slot), HandleCheck::NotOwner);
        }
        if (step % 97 == 0) {
            for (uint64_t handle : dead)
                ASSERT_EQ(table.check(handle, 1, &slot), HandleCheck::Stale);
        }
    }
}

}  // namespace
}  // namespace umka::sched
