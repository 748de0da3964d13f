// CapabilityTable: handles, rights, O(1) revocation, stale use, tokens, generation
// retirement, a model-based random test and concurrent readers against a revoking writer.
#include "nucleus/module/capability_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>
#include <vector>

namespace {

using umka::Errno;
using umka::modules::CapabilityCheck;
using umka::modules::CapabilityEntry;
using umka::modules::CapabilityHandle;
using umka::modules::CapabilityInfo;
using umka::modules::CapabilityKind;
using umka::modules::CapabilityTable;
using umka::modules::CapabilityToken;
using umka::modules::Rights;

struct Table {
    explicit Table(size_t capacity) : entries(capacity), table(entries.data(), capacity) {}
    std::vector<CapabilityEntry> entries;
    CapabilityTable table;
};

int objects[8];

TEST(CapabilityTable, InsertAndLookup) {
    Table t(4);
    auto handle =
        t.table.insert(&objects[1], CapabilityKind::ServiceBinding, Rights::Call | Rights::Read, 7);
    ASSERT_TRUE(handle.is_ok());
    EXPECT_EQ(handle.value().index(), 0u);
    EXPECT_EQ(handle.value().generation(), 1u);
    auto info = t.table.lookup(handle.value(), Rights::Call);
    ASSERT_TRUE(info.is_ok());
    EXPECT_EQ(info.value().object, &objects[1]);
    EXPECT_EQ(info.value().kind, CapabilityKind::ServiceBinding);
    EXPECT_EQ(info.value().owner, 7u);
    EXPECT_EQ(t.table.live_count(), 1u);
    EXPECT_STREQ(umka::modules::capability_kind_name(info.value().kind), "service-binding");
}

TEST(CapabilityTable, MissingRightsAreNotPermitted) {
    Table t(4);
    CapabilityHandle handle =
        t.table.insert(&objects[0], CapabilityKind::StateRegion, Rights::Read, 1).value();
    EXPECT_EQ(t.table.lookup(handle, Rights::Write).error(), Errno::NotPermitted);
    EXPECT_EQ(t.table.lookup(handle, Rights::Read | Rights::Write).error(), Errno::NotPermitted);
    EXPECT_EQ(t.table.check(handle, Rights::Write, nullptr), CapabilityCheck::MissingRights);
    EXPECT_TRUE(t.table.lookup(handle, Rights::None).is_ok());
}

TEST(CapabilityTable, RevocationMakesEveryCopyStale) {
    Table t(4);
    CapabilityHandle handle =
        t.table.insert(&objects[0], CapabilityKind::ServiceBinding, Rights::Call, 1).value();
    CapabilityHandle copy = handle;
    ASSERT_TRUE(t.table.revoke(handle).is_ok());
    EXPECT_EQ(t.table.lookup(copy, Rights::Call).error(), Errno::BadAddress);
    EXPECT_EQ(t.table.check(copy, Rights::Call, nullptr), CapabilityCheck::Stale);
    EXPECT_EQ(t.table.revoke(copy).error(), Errno::BadAddress);  // twice: stale, not a crash
    EXPECT_EQ(t.table.live_count(), 0u);
}

TEST(CapabilityTable, ReusedEntryDoesNotResurrectOldHandles) {
    Table t(1);
    CapabilityHandle old =
        t.table.insert(&objects[0], CapabilityKind::ServiceBinding, Rights::Call, 1).value();
    ASSERT_TRUE(t.table.revoke(old).is_ok());
    // A guess at the next generation before anything is inserted finds nothing.
    CapabilityHandle guess = CapabilityHandle::make(old.index(), old.generation() + 1);
    EXPECT_EQ(t.table.lookup(guess, Rights::None).error(), Errno::BadAddress);
    CapabilityHandle fresh =
        t.table.insert(&objects[1], CapabilityKind::StateRegion, Rights::Read, 2).value();
    EXPECT_EQ(fresh.index(), old.index());
    EXPECT_EQ(fresh.generation(), old.generation() + 1);
    EXPECT_EQ(t.table.lookup(old, Rights::None).error(), Errno::BadAddress);
    EXPECT_EQ(t.table.lookup(fresh, Rights::Read).value().object, &objects[1]);
}

TEST(CapabilityTable, MalformedHandles) {
    Table t(2);
    EXPECT_EQ(t.table.lookup(CapabilityHandle{}, Rights::None).error(), Errno::InvalidArgument);
    EXPECT_EQ(t.table.lookup(CapabilityHandle::make(2, 1), Rights::None).error(),
              Errno::InvalidArgument);
    EXPECT_EQ(t.table.lookup(CapabilityHandle::make(0xffffffff, 9), Rights::None).error(),
              Errno::InvalidArgument);
    EXPECT_EQ(t.table.revoke(CapabilityHandle::make(5, 1)).error(), Errno::InvalidArgument);
    // Never issued: stale, like a revoked one.
    EXPECT_EQ(t.table.lookup(CapabilityHandle::make(1, 1), Rights::None).error(),
              Errno::BadAddress);
    EXPECT_EQ(t.table.insert(nullptr, CapabilityKind::Module, Rights::None, 0).error(),
              Errno::InvalidArgument);
    EXPECT_EQ(t.table.insert(&objects[0], CapabilityKind::None, Rights::None, 0).error(),
              Errno::InvalidArgument);
}

TEST(CapabilityTable, FullTable) {
    Table t(2);
    ASSERT_TRUE(t.table.insert(&objects[0], CapabilityKind::Module, Rights::None, 0).is_ok());
    ASSERT_TRUE(t.table.insert(&objects[1], CapabilityKind::Module, Rights::None, 0).is_ok());
    EXPECT_EQ(t.table.insert(&objects[2], CapabilityKind::Module, Rights::None, 0).error(),
              Errno::NoSpace);
}

TEST(CapabilityTable, TokenSkipsRevalidationUntilRevoked) {
    Table t(4);
    CapabilityHandle handle =
        t.table.insert(&objects[3], CapabilityKind::ServiceBinding, Rights::Call, 1).value();
    auto token = t.table.validate(handle, Rights::Call);
    ASSERT_TRUE(token.is_ok());
    EXPECT_TRUE(token.value().still_valid());
    EXPECT_EQ(token.value().object(), &objects[3]);
    EXPECT_EQ(token.value().rights(), Rights::Call);
    EXPECT_EQ(t.table.validate(handle, Rights::Swap).error(), Errno::NotPermitted);
    ASSERT_TRUE(t.table.revoke(handle).is_ok());
    EXPECT_FALSE(token.value().still_valid());
    // Reinserting into the same entry does not revive the old token.
    ASSERT_TRUE(
        t.table.insert(&objects[4], CapabilityKind::ServiceBinding, Rights::Call, 1).is_ok());
    EXPECT_FALSE(token.value().still_valid());
    EXPECT_FALSE(CapabilityToken().still_valid());
}

TEST(CapabilityTable, WrappedGenerationRetiresTheEntry) {
    Table t(2);
    // Pretend entry 0 has been used 2^32 - 2 times (the caller owns the storage).
    t.entries[0].next_generation = 0xffffffff;
    CapabilityHandle last =
        t.table.insert(&objects[0], CapabilityKind::Module, Rights::None, 0).value();
    EXPECT_EQ(last.index(), 0u);
    EXPECT_EQ(last.generation(), 0xffffffffu);
    ASSERT_TRUE(t.table.revoke(last).is_ok());
    // Entry 0 is never handed out again: the next inserts use entry 1, then the table is full.
    CapabilityHandle next =
        t.table.insert(&objects[1], CapabilityKind::Module, Rights::None, 0).value();
    EXPECT_EQ(next.index(), 1u);
    EXPECT_EQ(t.table.insert(&objects[2], CapabilityKind::Module, Rights::None, 0).error(),
              Errno::NoSpace);
    EXPECT_EQ(t.table.lookup(last, Rights::None).error(), Errno::BadAddress);
}

TEST(CapabilityTable, RevokeOwnedAndListing) {
    Table t(8);
    for (int index = 0; index < 5; ++index) {
        ASSERT_TRUE(
            t.table.insert(&objects[index], CapabilityKind::ServiceBinding, Rights::Call, index % 2)
                .is_ok());
    }
    std::vector<void*> owned;
    t.table.for_each_owned(
        1,
        [](void* context, CapabilityHandle, const CapabilityInfo& info) {
            static_cast<std::vector<void*>*>(context)->push_back(info.object);
        },
        &owned);
    EXPECT_EQ(owned, (std::vector<void*>{&objects[1], &objects[3]}));
    EXPECT_EQ(t.table.revoke_owned(1), 2u);
    EXPECT_EQ(t.table.live_count(), 3u);
    owned.clear();
    t.table.for_each_owned(
        1,
        [](void* context, CapabilityHandle, const CapabilityInfo& info) {
            static_cast<std::vector<void*>*>(context)->push_back(info.object);
        },
        &owned);
    EXPECT_TRUE(owned.empty());
}

// Model-based: random insert/revoke/lookup against a std::map of what should be live.
TEST(CapabilityTableProperty, MatchesAReferenceModel) {
    std::mt19937 random(77);
    Table t(16);
    struct Expected {
        void* object;
        Rights rights;
    };
    std::map<uint64_t, Expected> live;
    std::vector<CapabilityHandle> revoked;
    for (int step = 0; step < 20000; ++step) {
        int action = int(random() % 3);
        if (action == 0) {
            void* object = &objects[random() % 8];
            Rights rights = Rights(random() % 32);
            auto handle = t.table.insert(object, CapabilityKind::ServiceBinding, rights, 0);
            if (live.size() == 16) {
                EXPECT_EQ(handle.error(), Errno::NoSpace);
            } else {
                ASSERT_TRUE(handle.is_ok());
                ASSERT_EQ(live.count(handle.value().value), 0u);
                live[handle.value().value] = Expected{object, rights};
            }
        } else if (action == 1 && !live.empty()) {
            auto it = std::next(live.begin(), long(random() % live.size()));
            ASSERT_TRUE(t.table.revoke(CapabilityHandle{it->first}).is_ok());
            revoked.push_back(CapabilityHandle{it->first});
            live.erase(it);
        } else {
            for (const auto& [value, expected] : live) {
                auto info = t.table.lookup(CapabilityHandle{value}, expected.rights);
                ASSERT_TRUE(info.is_ok());
                EXPECT_EQ(info.value().object, expected.object);
            }
            if (!revoked.empty()) {
                CapabilityHandle stale = revoked[random() % revoked.size()];
                EXPECT_EQ(t.table.lookup(stale, Rights::None).error(), Errno::BadAddress);
            }
        }
        ASSERT_EQ(t.table.live_count(), live.size());
    }
}

// Readers look up and validate the current handle while a writer revokes and reinserts the
// same entry with a different object each generation. A reader that gets an answer must
// get the object of that very generation (the seqlock), and tokens must notice.
TEST(CapabilityTableConcurrency, ReadersNeverSeeAnotherGenerationsObject) {
    Table t(1);
    constexpr int kObjects = 64;
    static int pool[kObjects];
    auto object_for = [](uint32_t generation) { return &pool[generation % kObjects]; };
    std::atomic<uint64_t> current{
        t.table.insert(object_for(1), CapabilityKind::ServiceBinding, Rights::Call, 0)
            .value()
            .value};
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> answers{0}, stale{0}, mismatches{0}, token_misses{0};
    std::vector<std::thread> readers;
    for (int reader = 0; reader < 2; ++reader) {
        readers.emplace_back([&] {
            while (!stop.load(std::memory_order_relaxed)) {
                CapabilityHandle handle{current.load(std::memory_order_acquire)};
                // A guessed handle for the next generation races with the writer's insert:
                // if it answers, it must answer with the next generation's object.
                CapabilityHandle guess =
                    CapabilityHandle::make(handle.index(), handle.generation() + 1);
                auto guessed = t.table.lookup(guess, Rights::Call);
                if (guessed.is_ok() && guessed.value().object != object_for(guess.generation())) {
                    mismatches.fetch_add(1);
                }
                auto token = t.table.validate(handle, Rights::Call);
                if (token.is_error()) {
                    if (token.error() == Errno::BadAddress)
                        stale.fetch_add(1);
                    else
                        mismatches.fetch_add(1);
                    continue;
                }
                answers.fetch_add(1);
                if (token.value().object() != object_for(handle.generation()))
                    mismatches.fetch_add(1);
                // Once the writer has moved on, the token must say so.
                while (current.load(std::memory_order_acquire) == handle.value &&
                       !stop.load(std::memory_order_relaxed)) {
                    std::this_thread::yield();
                }
                if (!stop.load() && token.value().still_valid()) token_misses.fetch_add(1);
            }
        });
    }
    // Each round waits (bounded) until a reader has looked at the current handle, so the
    // test interleaves even when the machine is busy and the readers start late.
    auto wait_for_a_reader = [&](uint64_t seen) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (answers.load() + stale.load() == seen &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
    };
    for (int round = 0; round < 5000; ++round) {
        if (round % 16 == 0) wait_for_a_reader(answers.load() + stale.load());
        CapabilityHandle handle{current.load()};
        ASSERT_TRUE(t.table.revoke(handle).is_ok());
        auto next = t.table.insert(object_for(handle.generation() + 1),
                                   CapabilityKind::ServiceBinding, Rights::Call, 0);
        ASSERT_TRUE(next.is_ok());
        current.store(next.value().value, std::memory_order_release);
    }
    stop.store(true);
    for (auto& reader : readers) reader.join();
    EXPECT_EQ(mismatches.load(), 0u);
    EXPECT_EQ(token_misses.load(), 0u);
    EXPECT_GT(answers.load(), 0u);
}

}  // namespace

// A live swap hands the old instance's memory regions to the new one: same handles, new
// owner; other kinds, other owners and objects the filter refuses stay where they were.
TEST(CapabilityTable, TransferOwnedMovesOnlyTheAcceptedKindOfOneOwner) {
    Table t(8);
    auto region = t.table.insert(&objects[0], CapabilityKind::MemoryRegion, Rights::Read, 3);
    auto view = t.table.insert(&objects[1], CapabilityKind::MemoryRegion, Rights::Read, 3);
    auto binding = t.table.insert(&objects[2], CapabilityKind::ServiceBinding, Rights::Call, 3);
    auto foreign = t.table.insert(&objects[3], CapabilityKind::MemoryRegion, Rights::Read, 4);
    ASSERT_TRUE(region.is_ok() && view.is_ok() && binding.is_ok() && foreign.is_ok());
    auto not_the_view = [](void*, void* object) { return object != &objects[1]; };
    EXPECT_EQ(t.table.transfer_owned(3, 9, CapabilityKind::MemoryRegion, not_the_view, nullptr), 1u);
    EXPECT_EQ(t.table.lookup(region.value(), Rights::Read).value().owner, 9u);
    EXPECT_EQ(t.table.lookup(view.value(), Rights::Read).value().owner, 3u);
    EXPECT_EQ(t.table.lookup(binding.value(), Rights::Call).value().owner, 3u);
    EXPECT_EQ(t.table.lookup(foreign.value(), Rights::Read).value().owner, 4u);
    EXPECT_EQ(t.table.revoke_owned(3), 2u) << "the transferred region no longer goes with 3";
    EXPECT_TRUE(t.table.lookup(region.value(), Rights::Read).is_ok());
}
