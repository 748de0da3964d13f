// Bad input: images mount refuses with a reason, and corruption found while mounted, which
// answers EUCLEAN for the damaged file only and leaves the rest of the volume usable.
#include <sys/stat.h>

#include <cstring>
#include <sstream>

#include "ext2_test_image.h"

namespace umka::ext2::testing {
namespace {

using layout::GroupDescriptor;
using layout::Superblock;

template <typename Value>
void poke(const std::string& image, uint64_t offset, Value value) {
    write_at(image, offset, std::string(reinterpret_cast<const char*>(&value), sizeof value));
}

template <typename Value>
Value peek(const std::string& image, uint64_t offset) {
    std::string bytes = read_file(image).substr(offset, sizeof(Value));
    Value value{};
    std::memcpy(&value, bytes.data(), sizeof value);
    return value;
}

// The numbers debugfs prints for `request`, its banner line left out.
std::vector<uint64_t> debugfs_numbers(const std::string& image, const std::string& request) {
    std::string output;
    EXPECT_EQ(debugfs(image, request, false, &output), 0) << output;
    std::vector<uint64_t> numbers;
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("debugfs ", 0) == 0) continue;
        std::istringstream words(line);
        uint64_t number = 0;
        while (words >> number) numbers.push_back(number);
    }
    return numbers;
}

uint32_t debugfs_inode(const std::string& image, const std::string& path) {
    std::string output;
    EXPECT_EQ(debugfs(image, "stat " + path, false, &output), 0) << output;
    size_t at = output.find("Inode:");
    return at == std::string::npos ? 0 : static_cast<uint32_t>(std::stoul(output.substr(at + 6)));
}

class Ext2Corruption : public Ext2Fixture {
protected:
    void make_base() {
        std::string tree = directory_.path() + "/tree";
        ::mkdir(tree.c_str(), 0755);
        ::mkdir((tree + "/good").c_str(), 0755);
        for (int index = 0; index < 5; ++index) {
            write_at(tree + "/good/f" + std::to_string(index), 0, pattern(3000 + index, index));
        }
        ASSERT_TRUE(make_image(image_, 1024, 2 * 1024, tree));
        base_ = read_file(image_);
    }
    void restore() { write_file(image_, base_); }
    // Mount must refuse with `expected` and a reason containing `words`, writing nothing.
    void expect_refused(int expected, const std::string& words, uint64_t device_bytes = 0) {
        std::string hash = file_hash(image_);
        device_ = std::make_unique<FileDevice>(image_);
        region_ = std::make_unique<Region>(256 * 1024);
        const char* reason = nullptr;
        Volume volume;
        Status status = Volume::mount(region_->data(), region_->length(), device_.get(),
                                      device_bytes != 0 ? device_bytes : device_->size(),
                                      MountMode::ReadWrite, 1, &volume, &reason);
        EXPECT_EQ(status.code(), expected) << words;
        ASSERT_NE(reason, nullptr) << words;
        EXPECT_NE(std::string(reason).find(words), std::string::npos) << reason;
        device_.reset();
        EXPECT_EQ(file_hash(image_), hash) << words;
        restore();
    }

    std::string base_;
};

constexpr uint64_t kSuper = 1024;
constexpr uint64_t kDescriptors = 2048;  // 1 KiB blocks: the table is block 2

TEST_F(Ext2Corruption, MountRefusesBrokenSuperblocksAndDescriptors) {
    make_base();
    ASSERT_OK(mount());
    unmount();
    restore();
    poke<uint16_t>(image_, kSuper + offsetof(Superblock, magic), 0x1234);
    expect_refused(UMKA_KABI_EINVAL, "magic");
    write_file(image_, std::string(base_.size(), '\0'));
    expect_refused(UMKA_KABI_EINVAL, "magic");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, revision), 2);
    expect_refused(UMKA_KABI_EINVAL, "revision");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, log_block_size), 7);
    expect_refused(UMKA_KABI_EINVAL, "s_log_block_size");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, feature_incompat), 0x42);
    expect_refused(UMKA_KABI_EINVAL, "unsupported incompatible feature 0x40 (extents)");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, feature_incompat), 0x12);
    expect_refused(UMKA_KABI_EINVAL, "0x10 (meta_bg)");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, blocks_per_group), 0);
    expect_refused(UMKA_KABI_EUCLEAN, "s_blocks_per_group");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, blocks_per_group), 8 * 1024 + 8);
    expect_refused(UMKA_KABI_EUCLEAN, "s_blocks_per_group");
    uint32_t inodes = peek<uint32_t>(image_, kSuper + offsetof(Superblock, inodes_count));
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, inodes_count), inodes + 8);
    expect_refused(UMKA_KABI_EUCLEAN, "s_inodes_count");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, inodes_per_group), 0);
    expect_refused(UMKA_KABI_EUCLEAN, "s_inodes_per_group");
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, first_data_block), 0);
    expect_refused(UMKA_KABI_EUCLEAN, "s_first_data_block");
    expect_refused(UMKA_KABI_EUCLEAN, "past the end of the device", base_.size() / 2);
    poke<uint32_t>(image_, kSuper + offsetof(Superblock, blocks_count), 1u << 30);
    expect_refused(UMKA_KABI_EUCLEAN, "past the end of the device");
    poke<uint32_t>(image_, kDescriptors + offsetof(GroupDescriptor, inode_table), 99999);
    expect_refused(UMKA_KABI_EUCLEAN, "inode table");
    poke<uint32_t>(image_, kDescriptors + offsetof(GroupDescriptor, block_bitmap), 0);
    expect_refused(UMKA_KABI_EUCLEAN, "block bitmap");
    poke<uint16_t>(image_, kDescriptors + offsetof(GroupDescriptor, free_blocks_count), 60000);
    expect_refused(UMKA_KABI_EUCLEAN, "free blocks");
    poke<uint16_t>(image_, kSuper + offsetof(Superblock, inode_size), 100);
    expect_refused(UMKA_KABI_EUCLEAN, "s_inode_size");
    // The root inode must be a directory.
    ASSERT_EQ(debugfs(image_, "sif <2> mode 0100644", true), 0);
    expect_refused(UMKA_KABI_EUCLEAN, "root");
}

TEST_F(Ext2Corruption, DamageFoundWhileMountedFailsOnlyThatFile) {
    std::string tree = directory_.path() + "/tree";
    ::mkdir(tree.c_str(), 0755);
    for (const char* path : {"/good", "/bad_dir", "/bad_dir2", "/bad_size", "/p", "/p/q", "/loop",
                             "/loop/a", "/loop/a/b", "/anc", "/anc/child", "/mover", "/mover2"}) {
        ::mkdir((tree + path).c_str(), 0755);
    }
    for (int index = 0; index < 5; ++index) {
        write_at(tree + "/good/f" + std::to_string(index), 0, pattern(3000 + index, index));
        write_at(tree + "/bad_dir/x" + std::to_string(index), 0, "x");
        write_at(tree + "/bad_dir2/y" + std::to_string(index), 0, "y");
    }
    write_at(tree + "/bad_ptr", 0, pattern(20000, 42));
    write_at(tree + "/bad_bitmap", 0, pattern(10000, 43));
    ASSERT_TRUE(make_image(image_, 1024, 4 * 1024, tree));

    // A block pointer past the device; rec_len 0; a rec_len past the block; a ".." loop of
    // one directory and of two; an entry naming an ancestor; blocks in use marked free.
    ASSERT_EQ(debugfs(image_, "sif /bad_ptr block[2] 9999999", true), 0);
    // A directory claiming far more blocks than it has: refused before any walk.
    ASSERT_EQ(debugfs(image_, "sif /bad_size size 1073741824", true), 0);
    uint64_t bad_dir = debugfs_numbers(image_, "bmap /bad_dir 0").at(0);
    poke<uint16_t>(image_, bad_dir * 1024 + 4, 0);
    uint64_t bad_dir2 = debugfs_numbers(image_, "bmap /bad_dir2 0").at(0);
    poke<uint16_t>(image_, bad_dir2 * 1024 + 12 + 4, 2000);
    uint64_t q_block = debugfs_numbers(image_, "bmap /p/q 0").at(0);
    uint64_t a_block = debugfs_numbers(image_, "bmap /loop/a 0").at(0);
    ASSERT_EQ(debugfs(image_, "ln /anc /anc/child/up", true), 0);
    std::vector<uint64_t> bitmap_blocks = debugfs_numbers(image_, "blocks /bad_bitmap");
    ASSERT_FALSE(bitmap_blocks.empty());
    uint32_t bitmap =
        peek<uint32_t>(image_, kDescriptors + offsetof(GroupDescriptor, block_bitmap));
    std::string bits = read_file(image_).substr(bitmap * 1024, 1024);
    for (uint64_t block : bitmap_blocks) {
        uint64_t bit = block - 1;
        bits[bit / 8] = static_cast<char>(bits[bit / 8] & ~(1 << (bit % 8)));
    }
    write_at(image_, bitmap * 1024, bits);

    poke<uint32_t>(image_, q_block * 1024 + 12, debugfs_inode(image_, "/p/q"));
    poke<uint32_t>(image_, a_block * 1024 + 12, debugfs_inode(image_, "/loop/a/b"));
    ASSERT_OK(mount());
    ASSERT_EQ(volume_.mode(), MountMode::ReadWrite);

    uint64_t bad_ptr = inode_of("bad_ptr");
    std::string buffer(20000, '\0');
    uint64_t transferred = 0;
    EXPECT_STATUS(volume_.read(bad_ptr, 0, buffer.data(), buffer.size(), &transferred),
                  UMKA_KABI_EUCLEAN);
    EXPECT_OK(volume_.read(bad_ptr, 0, buffer.data(), 2048, &transferred));  // blocks 0-1 fine
    EXPECT_EQ(buffer.substr(0, 2048), pattern(20000, 42).substr(0, 2048));
    EXPECT_STATUS(volume_.truncate(bad_ptr, 100, ++now_), UMKA_KABI_EUCLEAN);

    uint64_t inode = 0;
    uint64_t directory = inode_of("bad_dir");
    EXPECT_STATUS(volume_.lookup(directory, "x1", 2, &inode), UMKA_KABI_EUCLEAN);
    Entry entry{};
    uint64_t next = 0;
    EXPECT_STATUS(volume_.read_directory(directory, 0, &entry, &next), UMKA_KABI_EUCLEAN);
    EXPECT_STATUS(volume_.create(directory, "new", 3, NodeKind::Regular, 0644, ++now_, &inode),
                  UMKA_KABI_EUCLEAN);
    EXPECT_STATUS(volume_.lookup(inode_of("bad_dir2"), "y1", 2, &inode), UMKA_KABI_EUCLEAN);
    uint64_t bad_size = 0;
    ASSERT_OK(volume_.lookup(kRootInode, "bad_size", 8, &bad_size));
    EXPECT_STATUS(volume_.read_directory(bad_size, 0, &entry, &next), UMKA_KABI_EUCLEAN);

    EXPECT_STATUS(rename("mover", "p/q/mover"), UMKA_KABI_EUCLEAN);
    EXPECT_STATUS(rename("mover2", "loop/a/b/mover2"), UMKA_KABI_EUCLEAN);
    EXPECT_STATUS(rename("anc", "anc/child/up/again"), UMKA_KABI_EINVAL);
    EXPECT_STATUS(remove("bad_bitmap"), UMKA_KABI_EUCLEAN);

    // The rest of the volume works, reads and writes alike.
    for (int index = 0; index < 5; ++index) {
        EXPECT_EQ(contents("good/f" + std::to_string(index)), pattern(3000 + index, index));
    }
    ASSERT_OK(create("good/new", NodeKind::Regular));
    ASSERT_OK(put("good/new", 0, "still writable"));
    ASSERT_OK(rename("mover", "good/mover"));
    EXPECT_EQ(contents("good/new"), "still writable");
    unmount();
    uint16_t state = peek<uint16_t>(image_, kSuper + offsetof(Superblock, state));
    EXPECT_EQ(state, layout::kStateError);
}

TEST_F(Ext2Corruption, CountsThatPromiseMissingBlocksAreCaught) {
    make_base();
    // Every block marked in use while the descriptor still counts free ones.
    uint32_t bitmap =
        peek<uint32_t>(image_, kDescriptors + offsetof(GroupDescriptor, block_bitmap));
    write_at(image_, bitmap * 1024, std::string(1024, '\xff'));
    ASSERT_OK(mount());
    uint64_t inode = 0;
    ASSERT_OK(create("good/f9", NodeKind::Regular, &inode));  // the directory has room
    uint64_t written = 0;
    EXPECT_STATUS(volume_.write(inode, 0, "data", 4, ++now_, &written), UMKA_KABI_EUCLEAN);
    EXPECT_EQ(written, 0u);
    EXPECT_EQ(contents("good/f1"), pattern(3001, 1));
    unmount();
    EXPECT_EQ(peek<uint16_t>(image_, kSuper + offsetof(Superblock, state)), layout::kStateError);
}

}  // namespace
}  // namespace umka::ext2::testing
