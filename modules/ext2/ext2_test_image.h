// Host-side scaffolding for the ext2 core's tests: a Device over an image file, the memory
// region, and e2fsprogs (mke2fs, e2fsck, debugfs) as the oracle.
#pragma once

#include <gtest/gtest.h>
#include <stdint.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ext2_volume.h"

namespace umka::ext2::testing {

// pread/pwrite on an image; counts writes so a read-only mount can be shown to write nothing.
class FileDevice final : public Device {
public:
    explicit FileDevice(const std::string& path);
    ~FileDevice();
    FileDevice(const FileDevice&) = delete;
    FileDevice& operator=(const FileDevice&) = delete;

    Status read(uint64_t offset, void* buffer, uint32_t length) override;
    Status write(uint64_t offset, const void* data, uint32_t length) override;
    Status flush() override;

    bool is_open() const { return descriptor_ >= 0; }
    uint64_t size() const;
    uint64_t writes() const { return writes_; }
    uint64_t reads() const { return reads_; }

private:
    int descriptor_ = -1;
    uint64_t writes_ = 0;
    uint64_t reads_ = 0;
};

// The memory a Volume lives in: 4096-aligned, filled with junk so nothing relies on zeros.
class Region {
public:
    explicit Region(uint64_t length);
    ~Region();
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    void* data() const { return data_; }
    uint64_t length() const { return length_; }

private:
    void* data_ = nullptr;
    uint64_t length_ = 0;
};

// A fresh directory under $TMPDIR (or /tmp), removed with its contents by the destructor.
class TemporaryDirectory {
public:
    TemporaryDirectory();
    ~TemporaryDirectory();
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Runs `command` through /bin/sh; returns the exit status, stdout+stderr into *output.
int run(const std::string& command, std::string* output = nullptr);
std::string quote(const std::string& text);
bool tools_available();

// mke2fs -q -F -t ext2 -b block_size [-d tree] [extra] image size_kib.
bool make_image(const std::string& image, uint32_t block_size, uint64_t size_kib,
                const std::string& tree = "", const std::string& extra = "");
// e2fsck -fn: exit status and transcript.
int check_image(const std::string& image, std::string* transcript);
// debugfs -w -R request (-w only when `write`).
int debugfs(const std::string& image, const std::string& request, bool write,
            std::string* output = nullptr);
std::string file_hash(const std::string& path);
void write_file(const std::string& path, const std::string& data);
std::string read_file(const std::string& path);

// A model of a tree: path (relative, "/"-separated) -> node.
struct ModelNode {
    enum class Kind { File, Directory, Symlink } kind;
    std::string data;  // contents or link target; sample() of files over kSampleThreshold
    uint64_t size = 0;
    uint32_t links = 0;  // 0: not compared
    bool operator==(const ModelNode&) const = default;
};
using Model = std::map<std::string, ModelNode>;
inline constexpr uint64_t kSampleThreshold = 256ull << 20;
inline constexpr uint64_t kSampleBytes = 64 * 1024;
// Reads a host tree (lstat: symlinks are not followed) into a model.
Model scan_host_tree(const std::string& root, bool with_links = true);

// Walks a mounted volume the same way: read_directory from the root, attributes, read and
// read_link. Any failure is a gtest failure naming the path.
Model walk_volume(Volume& volume, bool with_links = true);
// The inode of a "/"-separated path relative to the root (no symlink following).
Status resolve(Volume& volume, const std::string& path, uint64_t* inode);
// The parent directory's inode and the last component of `path`.
Status resolve_parent(Volume& volume, const std::string& path, uint64_t* directory,
                      std::string* name);
std::string read_whole(Volume& volume, uint64_t inode, uint64_t size);
void write_at(const std::string& path, uint64_t offset, const std::string& data);
// Deterministic bytes for test file contents.
std::string pattern(uint64_t length, uint32_t seed);

#define EXPECT_STATUS(expression, expected) EXPECT_EQ((expression).code(), (expected))
#define ASSERT_STATUS(expression, expected) ASSERT_EQ((expression).code(), (expected))
#define ASSERT_OK(expression) ASSERT_EQ((expression).code(), 0)
#define EXPECT_OK(expression) EXPECT_EQ((expression).code(), 0)

// An image in a temporary directory, a device on it and a region to mount it in.
class Ext2Fixture : public ::testing::Test {
protected:
    void SetUp() override;
    Status mount(MountMode mode = MountMode::ReadWrite, uint64_t region_bytes = 1 << 20,
                 const char** reason = nullptr);
    void unmount();
    // e2fsck -fn exits 0; the transcript is printed otherwise.
    void expect_clean();

    // Path-based conveniences over the volume (paths relative to the root).
    Status create(const std::string& path, NodeKind kind, uint64_t* inode = nullptr);
    Status put(const std::string& path, uint64_t offset, const std::string& data);
    Status remove(const std::string& path);
    Status remove_directory(const std::string& path);
    Status rename(const std::string& from, const std::string& to);
    Status link(const std::string& existing, const std::string& path);
    Status symlink(const std::string& path, const std::string& target);
    Status truncate(const std::string& path, uint64_t size);
    uint64_t inode_of(const std::string& path);
    std::string contents(const std::string& path);

    TemporaryDirectory directory_;
    std::string image_;
    std::unique_ptr<Region> region_;
    std::unique_ptr<FileDevice> device_;
    Volume volume_;
    // Ahead of every image's recorded times (mke2fs runs now): the volume takes it as is.
    uint64_t now_ = 3000000000ull * 1000000000ull;
};

}  // namespace umka::ext2::testing
