// Randomized differential test: the same operations on an ext2 Volume and, through the host
// kernel, on a directory of the host file system must give the same results and errnos and
// leave the same tree; e2fsck must find the image clean afterwards.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "ext2_test_image.h"

namespace umka::ext2::testing {
namespace {

const char* const kParents[] = {"", "a", "b", "a/b", "b/c", "a/x"};
const char* const kNames[] = {"a", "b", "c", "x", "y", "s"};

class Ext2Random : public Ext2Fixture, public ::testing::WithParamInterface<uint32_t> {
protected:
    std::string host(const std::string& path) const {
        return path.empty() ? host_ : host_ + "/" + path;
    }
    std::string pick(std::mt19937& random) {
        std::string parent = kParents[random() % std::size(kParents)];
        std::string name = kNames[random() % std::size(kNames)];
        return parent.empty() ? name : parent + "/" + name;
    }
    // The host follows symlinks inside a path and the resolver does not: skip those paths.
    bool through_symlink(const std::string& path) const {
        for (size_t slash = path.find('/'); slash != std::string::npos;
             slash = path.find('/', slash + 1)) {
            struct stat status {};
            if (lstat(host(path.substr(0, slash)).c_str(), &status) == 0 &&
                S_ISLNK(status.st_mode)) {
                return true;
            }
        }
        return false;
    }
    bool host_kind(const std::string& path, mode_t* type) const {
        struct stat status {};
        if (lstat(host(path).c_str(), &status) != 0) return false;
        *type = status.st_mode & S_IFMT;
        return true;
    }
    static int result(int returned) { return returned == 0 ? 0 : errno; }

    std::string host_;
};

TEST_P(Ext2Random, MatchesTheHostKernel) {
    uint32_t seed = GetParam();
    const uint32_t block_sizes[] = {1024, 2048, 4096};
    uint32_t block_size = block_sizes[seed % 3];
    ASSERT_TRUE(make_image(image_, block_size, 8 * 1024));
    host_ = directory_.path() + "/host";
    ASSERT_EQ(::mkdir(host_.c_str(), 0755), 0);
    ASSERT_OK(mount(MountMode::ReadWrite, 256 * 1024));
    // Most parents exist from the start, so most operations get past path resolution.
    for (const char* path : {"a", "b", "a/b", "b/c"}) {
        ASSERT_EQ(::mkdir(host(path).c_str(), 0755), 0);
        ASSERT_OK(create(path, NodeKind::Directory));
    }
    std::mt19937 random(seed);
    int compared = 0;
    for (int step = 0; step < 300; ++step) {
        std::string path = pick(random);
        std::string other = pick(random);
        if (through_symlink(path) || through_symlink(other)) continue;
        int operation = static_cast<int>(random() % 11);
        int expected = 0;
        int actual = 0;
        std::string what;
        mode_t type = 0;
        bool exists = host_kind(path, &type);
        switch (operation) {
        case 0: {
            what = "create " + path;
            int descriptor = ::open(host(path).c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
            expected = descriptor >= 0 ? 0 : errno;
            if (descriptor >= 0) ::close(descriptor);
            actual = create(path, NodeKind::Regular).code();
            break;
        }
        case 1:
            what = "mkdir " + path;
            expected = result(::mkdir(host(path).c_str(), 0755));
            actual = create(path, NodeKind::Directory).code();
            break;
        case 2:
        case 3: {
            if (exists && type == S_IFLNK) continue;
            uint64_t offset = random() % 40000;
            std::string data = pattern(random() % 9000, step);
            what = "write " + path + " at " + std::to_string(offset);
            int descriptor = ::open(host(path).c_str(), O_WRONLY);
            expected = descriptor >= 0 ? 0 : errno;
            if (descriptor >= 0) {
                EXPECT_EQ(::pwrite(descriptor, data.data(), data.size(), offset),
                          static_cast<ssize_t>(data.size()));
                ::close(descriptor);
            }
            actual = put(path, offset, data).code();
            break;
        }
        case 4: {
            if (exists && type == S_IFLNK) continue;
            uint64_t size = random() % 100000;
            what = "truncate " + path + " to " + std::to_string(size);
            expected = result(::truncate(host(path).c_str(), static_cast<off_t>(size)));
            actual = truncate(path, size).code();
            break;
        }
        case 5:
            what = "unlink " + path;
            expected = result(::unlink(host(path).c_str()));
            actual = remove(path).code();
            break;
        case 6:
            what = "rmdir " + path;
            expected = result(::rmdir(host(path).c_str()));
            actual = remove_directory(path).code();
            break;
        case 7:
        case 8:
            what = "rename " + path + " " + other;
            expected = result(::rename(host(path).c_str(), host(other).c_str()));
            actual = rename(path, other).code();
            break;
        case 9:
            what = "link " + path + " " + other;
            expected = result(::link(host(path).c_str(), host(other).c_str()));
            actual = link(path, other).code();
            break;
        default: {
            std::string target = random() % 2 ? std::string("t") + std::to_string(step)
                                              : "/long/" + std::string(90, 'z');
            what = "symlink " + path + " -> " + target;
            expected = result(::symlink(target.c_str(), host(path).c_str()));
            actual = symlink(path, target).code();
            break;
        }
        }
        ASSERT_EQ(actual, expected) << "seed " << seed << " step " << step << ": " << what;
        ++compared;
        if (exists && type == S_IFREG && step % 7 == 0 && host_kind(path, &type) &&
            type == S_IFREG) {
            ASSERT_EQ(contents(path), read_file(host(path))) << path;
        }
    }
    EXPECT_GT(compared, 100);
    RecordProperty("compared", compared);
    std::printf("seed %u: %d operations compared, %zu paths\n", seed, compared,
                scan_host_tree(host_).size());
    Model expected = scan_host_tree(host_);
    Model actual = walk_volume(volume_);
    actual.erase("lost+found");
    EXPECT_EQ(expected.size(), actual.size());
    for (const auto& [path, node] : expected) {
        auto found = actual.find(path);
        ASSERT_NE(found, actual.end()) << path;
        EXPECT_EQ(found->second.kind, node.kind) << path;
        EXPECT_EQ(found->second.data, node.data) << path;
        EXPECT_EQ(found->second.links, node.links) << path;
    }
    unmount();
    expect_clean();
}

INSTANTIATE_TEST_SUITE_P(Seeds, Ext2Random, ::testing::Values(1u, 2u, 3u));

}  // namespace
}  // namespace umka::ext2::testing
