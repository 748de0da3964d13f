// The VFS's name cache (services/vfs/name_cache.h): what it answers, what it forgets, and that
// a full set keeps serving (the bound holds), against a map as the model.
#include "name_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace umka::vfs {
namespace {

class NameCacheTest : public ::testing::Test {
protected:
    NameCacheTest() : memory_(kNameCacheEntries), cache_(memory_.data()) {}
    bool find(uint32_t mount, uint64_t directory, const std::string& name, uint64_t* inode) {
        return cache_.find(mount, directory, name.data(), uint32_t(name.size()), inode);
    }
    void insert(uint32_t mount, uint64_t directory, const std::string& name, uint64_t inode) {
        cache_.insert(mount, directory, name.data(), uint32_t(name.size()), inode);
    }
    std::vector<NameCacheEntry> memory_;
    NameCache cache_;
};

TEST_F(NameCacheTest, AnswersWhatWasInsertedForThatMountDirectoryAndNameOnly) {
    insert(1, 2, "etc", 12);
    uint64_t inode = 0;
    ASSERT_TRUE(find(1, 2, "etc", &inode));
    EXPECT_EQ(inode, 12u);
    EXPECT_FALSE(find(0, 2, "etc", &inode));
    EXPECT_FALSE(find(1, 3, "etc", &inode));
    EXPECT_FALSE(find(1, 2, "et", &inode));
    EXPECT_FALSE(find(1, 2, "etcc", &inode));
    insert(1, 2, "etc", 13);  // the same name again replaces, never duplicates
    ASSERT_TRUE(find(1, 2, "etc", &inode));
    EXPECT_EQ(inode, 13u);
}

TEST_F(NameCacheTest, LongAndEmptyNamesAreNeverKept) {
    std::string longest(kCachedNameMaximum, 'a');
    std::string longer(kCachedNameMaximum + 1, 'a');
    insert(0, 1, longest, 5);
    insert(0, 1, longer, 6);
    insert(0, 1, "", 7);
    uint64_t inode = 0;
    EXPECT_TRUE(find(0, 1, longest, &inode));
    EXPECT_FALSE(find(0, 1, longer, &inode));
    EXPECT_FALSE(find(0, 1, "", &inode));
}

TEST_F(NameCacheTest, ForgetsANameAndEveryNameOfAMount) {
    insert(1, 2, "a", 10);
    insert(1, 2, "b", 11);
    insert(2, 2, "a", 20);
    cache_.forget(1, 2, "a", 1);
    uint64_t inode = 0;
    EXPECT_FALSE(find(1, 2, "a", &inode));
    EXPECT_TRUE(find(1, 2, "b", &inode));
    cache_.forget_mount(1);
    EXPECT_FALSE(find(1, 2, "b", &inode));
    ASSERT_TRUE(find(2, 2, "a", &inode));
    EXPECT_EQ(inode, 20u);
}

// Far more names than entries: every answer the cache gives is the model's (a miss is
// allowed, a wrong inode never), and names just inserted are found.
TEST_F(NameCacheTest, UnderPressureEveryAnswerIsRightAndTheLatestNamesAreThere) {
    std::map<std::tuple<uint32_t, uint64_t, std::string>, uint64_t> model;
    std::mt19937_64 random(7);
    uint64_t hits = 0;
    for (uint32_t step = 0; step < 200000; ++step) {
        uint32_t mount = uint32_t(random() % 3);
        uint64_t directory = random() % 50;
        std::string name = "n" + std::to_string(random() % 2000);
        uint64_t inode = 0;
        switch (random() % 4) {
        case 0:
        case 1: {
            uint64_t value = random();
            insert(mount, directory, name, value);
            model[{mount, directory, name}] = value;
            ASSERT_TRUE(find(mount, directory, name, &inode));
            ASSERT_EQ(inode, value);
            break;
        }
        case 2:
            cache_.forget(mount, directory, name.data(), uint32_t(name.size()));
            model.erase({mount, directory, name});
            ASSERT_FALSE(find(mount, directory, name, &inode));
            break;
        default:
            if (find(mount, directory, name, &inode)) {
                auto known = model.find({mount, directory, name});
                ASSERT_NE(known, model.end()) << "an answer for a forgotten name";
                ASSERT_EQ(inode, known->second);
                ++hits;
            }
        }
    }
    EXPECT_GT(hits, 1000u);
}

}  // namespace
}  // namespace umka::vfs
