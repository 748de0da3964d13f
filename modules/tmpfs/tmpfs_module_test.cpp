// Host test of the tmpfs module: the harness loads the very ELF the build signs, binds it to
// HostModuleMemory (services/memory), the harness's Log and Clock and a BootFiles fake
// holding a small root/ tree, and drives it through the vfs.FileSystem v2 vtable it
// provides. The store's own rules are tested in tmpfs_store_test; this test is about the
// glue: mounting from the boot files, volume slots and their memory, the errnos of the
// vtable's argument checks, and a live swap that keeps every file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "host_module_memory.h"
#include "module_harness.h"
#include "umka/kabi/boot_files.hpp"
#include "umka/kabi/tmpfs_state.hpp"
#include "umka/kabi/vfs.hpp"

namespace {

namespace boot = umka::kabi::boot_files;
namespace vfs = umka::kabi::vfs;
using umka::harness::HostModule;
using umka::harness::ModuleHarness;
using umka::heap_test::HostModuleMemory;
using Status = umka::kabi::Status;

constexpr uint64_t kRootInode = 1;
constexpr uint64_t kVolumeBytes = 4ull << 20;  // what the module documents per volume
constexpr uint32_t kVolumeSlots = 4;

// Bytes no two files share, so a file read from the wrong place shows.
std::vector<uint8_t> pattern(size_t length, uint32_t seed) {
    std::vector<uint8_t> bytes(length);
    uint32_t value = seed * 2654435761u + 1;
    for (auto& byte : bytes) {
        value = value * 1103515245u + 12345u;
        byte = uint8_t(value >> 16);
    }
    return bytes;
}

std::vector<uint8_t> text(const std::string& contents) {
    return std::vector<uint8_t>(contents.begin(), contents.end());
}

// boot_files.BootFiles over files the test lists, in the order it lists them.
class BootFilesFake {
public:
    struct File {
        std::string name;
        uint32_t mode;
        std::vector<uint8_t> bytes;
    };

    BootFilesFake() { vtable_ = boot::make_boot_files_vtable<BootFilesFake>(); }
    const boot::BootFilesVtable* vtable() const { return &vtable_; }

    void add(const std::string& name, uint32_t mode, std::vector<uint8_t> bytes) {
        files_.push_back(File{name, mode, std::move(bytes)});
    }
    const std::vector<File>& files() const { return files_; }
    uint64_t reads() const { return reads_; }

    static Status file(void* context, uint32_t index, boot::BootFile* file) {
        auto* self = static_cast<BootFilesFake*>(context);
        if (index >= self->files_.size()) return UMKA_KABI_ENOENT;
        const File& listed = self->files_[index];
        *file = boot::BootFile{};
        file->size = listed.bytes.size();
        file->name_length = uint32_t(listed.name.size());
        file->mode = listed.mode;
        std::memcpy(file->name, listed.name.c_str(), listed.name.size() + 1);
        return Status::ok();
    }
    static Status read(void* context, uint32_t index, uint64_t offset, void* buffer,
                       uint64_t length, uint64_t* transferred) {
        auto* self = static_cast<BootFilesFake*>(context);
        if (index >= self->files_.size()) return UMKA_KABI_ENOENT;
        const std::vector<uint8_t>& bytes = self->files_[index].bytes;
        ++self->reads_;
        *transferred = 0;
        if (offset >= bytes.size()) return Status::ok();
        uint64_t count = std::min<uint64_t>(length, bytes.size() - offset);
        std::memcpy(buffer, bytes.data() + offset, count);
        *transferred = count;
        return Status::ok();
    }

private:
    boot::BootFilesVtable vtable_;
    std::vector<File> files_;
    uint64_t reads_ = 0;
};

class TmpfsModule : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(
            harness_.provide("kernel_services", "ModuleMemory", memory_.vtable(), &memory_).is_ok())
            << harness_.last_reason();
        ASSERT_TRUE(harness_.provide("boot_files", "BootFiles", files_.vtable(), &files_).is_ok())
            << harness_.last_reason();
        module_ = harness_.load(umka::harness::module_under_test());
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(harness_.bind_provided(*module_, "vfs", "FileSystem", &fs_).is_ok());
    }

    // The tree every boot-volume test mounts: a nested path, a file of many blocks (past the
    // 12 direct ones), an empty file and files sharing directories.
    void add_boot_tree() {
        files_.add("etc/motd", 0100644, text("Welcome to UmkaOS\n"));
        files_.add("etc/deep/a/b/file", 0100600, text("deep"));
        files_.add("bin/big", 0100755, pattern(100 * 1024, 7));
        files_.add("etc/empty", 0100640, {});
        files_.add("etc/deep/a/sibling", 0100444, pattern(4097, 3));
    }

    const umka::kabi::tmpfs::TmpfsState& state() const {
        return *static_cast<const umka::kabi::tmpfs::TmpfsState*>(module_->states[0].base);
    }

    int32_t mount(const std::string& source, uint32_t* volume, uint64_t* root = nullptr) {
        uint64_t root_inode = 0;
        Status status = fs_.mount_volume(source.data(), source.size(), volume, &root_inode);
        if (root != nullptr) *root = root_inode;
        return status.code();
    }
    uint32_t mount_ok(const std::string& source) {
        uint32_t volume = ~0u;
        uint64_t root = 0;
        EXPECT_EQ(mount(source, &volume, &root), 0) << "mount " << source;
        EXPECT_EQ(root, kRootInode);
        return volume;
    }

    // Walks `path` component by component from the root; 0 when a step fails.
    uint64_t walk(uint32_t volume, const std::string& path) {
        uint64_t at = kRootInode;
        size_t start = 0;
        while (start <= path.size()) {
            size_t end = path.find('/', start);
            if (end == std::string::npos) end = path.size();
            std::string component = path.substr(start, end - start);
            uint64_t next = 0;
            Status found = fs_.lookup_name(volume, at, component.data(), component.size(), &next);
            EXPECT_TRUE(found.is_ok())
                << "lookup '" << component << "' of " << path << ": errno " << found.code();
            if (found.is_error()) return 0;
            at = next;
            start = end + 1;
        }
        return at;
    }

    vfs::NodeAttributes attributes(uint32_t volume, uint64_t inode) {
        vfs::NodeAttributes found{};
        EXPECT_TRUE(fs_.node_attributes(volume, inode, &found).is_ok()) << "inode " << inode;
        return found;
    }

    std::vector<uint8_t> read_all(uint32_t volume, uint64_t inode) {
        std::vector<uint8_t> bytes;
        uint8_t chunk[3000];  // not a block multiple, so reads straddle blocks
        for (;;) {
            uint64_t transferred = 0;
            Status read =
                fs_.read_node(volume, inode, bytes.size(), chunk, sizeof chunk, &transferred);
            EXPECT_TRUE(read.is_ok()) << "read errno " << read.code();
            if (read.is_error() || transferred == 0) return bytes;
            bytes.insert(bytes.end(), chunk, chunk + transferred);
        }
    }

    // name → kind of every record read_directory_record lists (a name twice fails).
    std::map<std::string, vfs::NodeKind> list(uint32_t volume, uint64_t directory) {
        std::map<std::string, vfs::NodeKind> entries;
        uint64_t cookie = 0;
        for (int guard = 0; guard < 10000; ++guard) {
            vfs::DirectoryRecord record{};
            uint64_t next = 0;
            Status read =
                fs_.read_directory_record(volume, directory, cookie, &record, sizeof record, &next);
            if (read.code() == UMKA_KABI_ENOENT) return entries;
            EXPECT_TRUE(read.is_ok()) << "errno " << read.code();
            if (read.is_error()) return entries;
            std::string name(reinterpret_cast<const char*>(record.name), record.name_length);
            EXPECT_EQ(std::strlen(reinterpret_cast<const char*>(record.name)), record.name_length);
            EXPECT_TRUE(entries.emplace(name, record.kind).second) << name << " listed twice";
            EXPECT_GT(next, cookie);
            cookie = next;
        }
        ADD_FAILURE() << "the listing does not end";
        return entries;
    }

    // Every boot file's path, attributes and bytes as the fake holds them.
    void expect_boot_files(uint32_t volume) {
        for (const auto& file : files_.files()) {
            SCOPED_TRACE(file.name);
            uint64_t inode = walk(volume, file.name);
            ASSERT_NE(inode, 0u);
            vfs::NodeAttributes found = attributes(volume, inode);
            EXPECT_EQ(found.inode, inode);
            EXPECT_EQ(found.kind, vfs::NodeKind::Regular);
            EXPECT_EQ(found.mode, 0100000u | (file.mode & 07777));
            EXPECT_EQ(found.size, file.bytes.size());
            EXPECT_EQ(found.link_count, 1u);
            EXPECT_EQ(found.blocks, (file.bytes.size() + 4095) / 4096 * 8 +
                                        (file.bytes.size() > 12 * 4096 ? 8 : 0));
            EXPECT_TRUE(read_all(volume, inode) == file.bytes);
        }
    }

    uint64_t create(uint32_t volume, uint64_t directory, const std::string& name,
                    vfs::NodeKind kind = vfs::NodeKind::Regular, uint32_t permissions = 0644) {
        uint64_t inode = 0;
        Status created =
            fs_.create_node(volume, directory, name.data(), name.size(), kind, permissions, &inode);
        EXPECT_TRUE(created.is_ok()) << "create " << name << ": errno " << created.code();
        return inode;
    }
    void write(uint32_t volume, uint64_t inode, uint64_t offset,
               const std::vector<uint8_t>& bytes) {
        uint64_t transferred = 0;
        ASSERT_TRUE(fs_.write_node(volume, inode, offset, bytes.data(), bytes.size(), &transferred)
                        .is_ok());
        ASSERT_EQ(transferred, bytes.size());
    }
    int32_t lookup(uint32_t volume, uint64_t directory, const std::string& name,
                   uint64_t* inode = nullptr) {
        uint64_t found = 0;
        int32_t code = fs_.lookup_name(volume, directory, name.data(), name.size(), &found).code();
        if (inode != nullptr) *inode = found;
        return code;
    }

    HostModuleMemory memory_;
    BootFilesFake files_;
    ModuleHarness harness_;
    HostModule* module_ = nullptr;
    vfs::FileSystemRef fs_;
};

TEST_F(TmpfsModule, BootVolumeHoldsEveryBootFile) {
    add_boot_tree();
    uint32_t volume = mount_ok("boot");
    expect_boot_files(volume);

    std::map<std::string, vfs::NodeKind> root = list(volume, kRootInode);
    EXPECT_EQ(root, (std::map<std::string, vfs::NodeKind>{{".", vfs::NodeKind::Directory},
                                                          {"..", vfs::NodeKind::Directory},
                                                          {"etc", vfs::NodeKind::Directory},
                                                          {"bin", vfs::NodeKind::Directory}}));
    uint64_t etc = walk(volume, "etc");
    EXPECT_EQ(list(volume, etc),
              (std::map<std::string, vfs::NodeKind>{{".", vfs::NodeKind::Directory},
                                                    {"..", vfs::NodeKind::Directory},
                                                    {"motd", vfs::NodeKind::Regular},
                                                    {"deep", vfs::NodeKind::Directory},
                                                    {"empty", vfs::NodeKind::Regular}}));
    uint64_t a = walk(volume, "etc/deep/a");
    EXPECT_EQ(list(volume, a),
              (std::map<std::string, vfs::NodeKind>{{".", vfs::NodeKind::Directory},
                                                    {"..", vfs::NodeKind::Directory},
                                                    {"b", vfs::NodeKind::Directory},
                                                    {"sibling", vfs::NodeKind::Regular}}));
    EXPECT_EQ(list(volume, walk(volume, "etc/deep/a/b")).size(), 3u);

    // Directories the paths implied: 0755, one link per subdirectory plus "." and its entry.
    for (const char* path : {"etc", "etc/deep", "etc/deep/a", "etc/deep/a/b", "bin"}) {
        SCOPED_TRACE(path);
        vfs::NodeAttributes found = attributes(volume, walk(volume, path));
        EXPECT_EQ(found.kind, vfs::NodeKind::Directory);
        EXPECT_EQ(found.mode, 0040755u);
    }
    EXPECT_EQ(attributes(volume, etc).link_count, 3u);
    EXPECT_EQ(attributes(volume, a).link_count, 3u);
    EXPECT_EQ(attributes(volume, kRootInode).link_count, 4u);
    uint64_t parent = 0;
    EXPECT_EQ(lookup(volume, a, "..", &parent), 0);
    EXPECT_EQ(parent, walk(volume, "etc/deep"));
    EXPECT_EQ(lookup(volume, etc, "missing"), UMKA_KABI_ENOENT);
    EXPECT_EQ(lookup(volume, walk(volume, "etc/motd"), "x"), UMKA_KABI_ENOTDIR);

    uint64_t transferred = 1;
    uint8_t byte = 0;
    EXPECT_TRUE(
        fs_.read_node(volume, walk(volume, "etc/motd"), 1000, &byte, 1, &transferred).is_ok());
    EXPECT_EQ(transferred, 0u);
    EXPECT_EQ(fs_.read_node(volume, etc, 0, &byte, 1, &transferred).code(), UMKA_KABI_EISDIR);

    vfs::FileSystemUsage usage{};
    ASSERT_TRUE(fs_.volume_usage(volume, &usage).is_ok());
    EXPECT_EQ(usage.block_size, 4096u);
    EXPECT_LT(usage.free_blocks, usage.total_blocks);
    EXPECT_TRUE(fs_.sync_volume(volume).is_ok());
}

TEST_F(TmpfsModule, EmptyVolumeHasOnlyItsRoot) {
    add_boot_tree();  // not read for an empty volume
    uint32_t volume = mount_ok("empty");
    EXPECT_EQ(files_.reads(), 0u);
    EXPECT_EQ(list(volume, kRootInode).size(), 2u);
    vfs::NodeAttributes root = attributes(volume, kRootInode);
    EXPECT_EQ(root.kind, vfs::NodeKind::Directory);
    EXPECT_EQ(root.mode, 0040755u);
    EXPECT_EQ(root.link_count, 2u);
    EXPECT_EQ(lookup(volume, kRootInode, "etc"), UMKA_KABI_ENOENT);
    vfs::FileSystemUsage usage{};
    ASSERT_TRUE(fs_.volume_usage(volume, &usage).is_ok());
    EXPECT_EQ(usage.free_blocks, usage.total_blocks);
    EXPECT_EQ(usage.free_inodes, usage.total_inodes - 1);
    EXPECT_LE(usage.total_blocks * 4096, kVolumeBytes);
}

TEST_F(TmpfsModule, UnknownSourceIsNoDevice) {
    uint32_t volume = 77;
    for (const char* source : {"", "boo", "boots", "EMPTY", "/dev/sda"}) {
        EXPECT_EQ(mount(source, &volume), UMKA_KABI_ENODEV) << source;
    }
    EXPECT_EQ(volume, 77u);
    EXPECT_EQ(memory_.live_regions(), 0u);
}

TEST_F(TmpfsModule, FourVolumesAtOnceAndUnmountFreesTheSlot) {
    std::vector<uint32_t> volumes;
    for (uint32_t index = 0; index < kVolumeSlots; ++index) volumes.push_back(mount_ok("empty"));
    EXPECT_EQ(volumes, (std::vector<uint32_t>{0, 1, 2, 3}));
    EXPECT_EQ(memory_.live_regions(), 4u);
    uint32_t fifth = 99;
    EXPECT_EQ(mount("empty", &fifth), UMKA_KABI_ENOSPC);
    EXPECT_EQ(mount("boot", &fifth), UMKA_KABI_ENOSPC);
    EXPECT_EQ(memory_.live_regions(), 4u);

    // Volumes are separate: a file in one is not in another.
    create(volumes[1], kRootInode, "only-in-1");
    EXPECT_EQ(lookup(volumes[2], kRootInode, "only-in-1"), UMKA_KABI_ENOENT);

    ASSERT_TRUE(fs_.unmount_volume(volumes[1]).is_ok());
    EXPECT_EQ(memory_.live_regions(), 3u);
    EXPECT_EQ(state().volumes[1].region, 0u);
    EXPECT_EQ(lookup(volumes[1], kRootInode, "only-in-1"), UMKA_KABI_EINVAL);
    EXPECT_EQ(fs_.unmount_volume(volumes[1]).code(), UMKA_KABI_EINVAL);

    uint32_t again = mount_ok("empty");
    EXPECT_EQ(again, volumes[1]);
    EXPECT_EQ(lookup(again, kRootInode, "only-in-1"), UMKA_KABI_ENOENT);  // a fresh volume
    EXPECT_EQ(memory_.live_regions(), 4u);

    for (uint32_t volume : volumes) EXPECT_TRUE(fs_.unmount_volume(volume).is_ok());
    EXPECT_EQ(memory_.live_regions(), 0u);
    EXPECT_EQ(memory_.live_bytes(), 0u);
}

TEST_F(TmpfsModule, BootFileTooBigForTheVolumeLeavesNoVolume) {
    files_.add("etc/motd", 0100644, text("hello\n"));
    files_.add("var/huge", 0100644, pattern(kVolumeBytes + 4096, 11));
    uint32_t volume = 55;
    EXPECT_EQ(mount("boot", &volume), UMKA_KABI_ENOSPC);
    EXPECT_EQ(volume, 55u);
    EXPECT_EQ(memory_.live_regions(), 0u);
    EXPECT_EQ(memory_.allocations(), 1u);
    for (const auto& record : state().volumes) EXPECT_EQ(record.region, 0u);
    EXPECT_THAT(harness_.log().lines(),
                testing::Contains(testing::HasSubstr("tmpfs: root/var/huge: copying it failed "
                                                     "(errno 28)")));
    EXPECT_EQ(lookup(0, kRootInode, "etc"), UMKA_KABI_EINVAL);

    // The slot it would have taken is free: all four mount.
    for (uint32_t index = 0; index < kVolumeSlots; ++index) EXPECT_EQ(mount_ok("empty"), index);
}

// A name the tree cannot hold costs that entry, logged, not the whole root.
TEST_F(TmpfsModule, BootFileUnderAFileIsSkippedAndLogged) {
    files_.add("etc", 0100644, text("a file"));
    files_.add("etc/motd", 0100644, text("hello\n"));
    files_.add("etc2/motd", 0100644, text("kept\n"));
    uint32_t volume = 0;
    ASSERT_EQ(mount("boot", &volume), UMKA_KABI_OK);
    EXPECT_EQ(memory_.live_regions(), 1u);
    EXPECT_EQ(lookup(volume, walk(volume, "etc"), "motd"), UMKA_KABI_ENOTDIR);
    EXPECT_EQ(lookup(volume, walk(volume, "etc2"), "motd"), UMKA_KABI_OK);
    EXPECT_THAT(harness_.log().lines(),
                testing::Contains(testing::HasSubstr("tmpfs: root/etc/motd: placing it failed")));
}

TEST_F(TmpfsModule, BadVolumeIsInvalid) {
    uint32_t volume = mount_ok("empty");
    uint64_t inode = 0;
    uint8_t buffer[16];
    uint64_t transferred = 0;
    vfs::NodeAttributes found{};
    for (uint32_t bad : {volume + 1, kVolumeSlots, 1000u, ~0u}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(fs_.lookup_name(bad, kRootInode, "a", 1, &inode).code(), UMKA_KABI_EINVAL);
        EXPECT_EQ(fs_.node_attributes(bad, kRootInode, &found).code(), UMKA_KABI_EINVAL);
        EXPECT_EQ(fs_.read_node(bad, kRootInode, 0, buffer, 1, &transferred).code(),
                  UMKA_KABI_EINVAL);
        EXPECT_EQ(fs_.write_node(bad, 2, 0, buffer, 1, &transferred).code(), UMKA_KABI_EINVAL);
        EXPECT_EQ(
            fs_.create_node(bad, kRootInode, "a", 1, vfs::NodeKind::Regular, 0644, &inode).code(),
            UMKA_KABI_EINVAL);
        EXPECT_EQ(fs_.unmount_volume(bad).code(), UMKA_KABI_EINVAL);
        EXPECT_EQ(fs_.sync_volume(bad).code(), UMKA_KABI_EINVAL);
        vfs::DirectoryRecord record{};
        uint64_t next = 0;
        EXPECT_EQ(
            fs_.read_directory_record(bad, kRootInode, 0, &record, sizeof record, &next).code(),
            UMKA_KABI_EINVAL);
    }
}

TEST_F(TmpfsModule, ShortDirectoryRecordBufferIsInvalid) {
    uint32_t volume = mount_ok("empty");
    std::vector<uint8_t> buffer(sizeof(vfs::DirectoryRecord) + 8, 0xEE);
    uint64_t next = 123;
    EXPECT_EQ(fs_.read_directory_record(volume, kRootInode, 0, buffer.data(),
                                        sizeof(vfs::DirectoryRecord) - 1, &next)
                  .code(),
              UMKA_KABI_EINVAL);
    EXPECT_EQ(next, 123u);
    EXPECT_EQ(buffer[0], 0xEE);
    // A longer buffer is fine and only its first record's worth is written.
    ASSERT_TRUE(
        fs_.read_directory_record(volume, kRootInode, 0, buffer.data(), buffer.size(), &next)
            .is_ok());
    EXPECT_EQ(buffer[sizeof(vfs::DirectoryRecord)], 0xEE);
    EXPECT_EQ(next, 1u);
}

TEST_F(TmpfsModule, TypeNameIsTmpfs) {
    char name[16] = {};
    uint64_t length = 0;
    ASSERT_TRUE(fs_.type_name(name, sizeof name, &length).is_ok());
    EXPECT_EQ(std::string(name, length), "tmpfs");
    EXPECT_EQ(fs_.type_name(name, 4, &length).code(), UMKA_KABI_ENOSPC);
    EXPECT_TRUE(fs_.type_name(name, 5, &length).is_ok());
}

TEST_F(TmpfsModule, NamesLongerThan255AreTooLong) {
    uint32_t volume = mount_ok("empty");
    std::string longest(255, 'n');
    std::string too_long(256, 'n');
    uint64_t file = create(volume, kRootInode, longest);
    EXPECT_EQ(list(volume, kRootInode).count(longest), 1u);
    uint64_t inode = 0;
    EXPECT_EQ(lookup(volume, kRootInode, longest, &inode), 0);
    EXPECT_EQ(inode, file);
    EXPECT_EQ(lookup(volume, kRootInode, too_long), UMKA_KABI_ENAMETOOLONG);
    auto code = [](Status status) { return status.code(); };
    EXPECT_EQ(code(fs_.create_node(volume, kRootInode, too_long.data(), too_long.size(),
                                   vfs::NodeKind::Regular, 0644, &inode)),
              UMKA_KABI_ENAMETOOLONG);
    // A 64-bit length is not cut to 32 bits on its way to the store: 2^32 + 3 is not 3.
    uint64_t wrapped = (uint64_t{1} << 32) + 3;
    EXPECT_EQ(code(fs_.lookup_name(volume, kRootInode, "abc", wrapped, &inode)),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(code(fs_.create_node(volume, kRootInode, "abc", wrapped, vfs::NodeKind::Regular, 0644,
                                   &inode)),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(code(fs_.create_symlink(volume, kRootInode, too_long.data(), too_long.size(), "t", 1,
                                      &inode)),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(code(fs_.link_node(volume, kRootInode, too_long.data(), too_long.size(), file)),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(code(fs_.unlink_name(volume, kRootInode, too_long.data(), too_long.size())),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(code(fs_.remove_directory_name(volume, kRootInode, too_long.data(), too_long.size())),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(code(fs_.rename_name(volume, kRootInode, longest.data(), longest.size(), kRootInode,
                                   too_long.data(), too_long.size())),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(code(fs_.rename_name(volume, kRootInode, "abc", wrapped, kRootInode, "x", 1)),
              UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(lookup(volume, kRootInode, "abc"), UMKA_KABI_ENOENT);
    EXPECT_EQ(lookup(volume, kRootInode, "x"), UMKA_KABI_ENOENT);
}

TEST_F(TmpfsModule, WriteReadAndTruncate) {
    uint32_t volume = mount_ok("empty");
    harness_.clock().set_ns(5000);
    uint64_t file = create(volume, kRootInode, "data", vfs::NodeKind::Regular, 0100640);
    vfs::NodeAttributes created = attributes(volume, file);
    EXPECT_EQ(created.mode, 0100640u);  // type bits in the permissions are not taken
    EXPECT_EQ(created.modified_ns, 5000u);

    std::vector<uint8_t> bytes = pattern(70000, 5);
    harness_.clock().set_ns(6000);
    ASSERT_NO_FATAL_FAILURE(write(volume, file, 0, bytes));
    EXPECT_TRUE(read_all(volume, file) == bytes);
    EXPECT_EQ(attributes(volume, file).size, 70000u);
    EXPECT_EQ(attributes(volume, file).modified_ns, 6000u);

    // Writing past the end leaves a hole that reads as zeros.
    ASSERT_NO_FATAL_FAILURE(write(volume, file, 100000, text("tail")));
    std::vector<uint8_t> expected = bytes;
    expected.resize(100000, 0);
    for (char c : std::string("tail")) expected.push_back(uint8_t(c));
    EXPECT_TRUE(read_all(volume, file) == expected);

    ASSERT_TRUE(fs_.truncate_node(volume, file, 10).is_ok());
    EXPECT_EQ(attributes(volume, file).size, 10u);
    ASSERT_TRUE(fs_.truncate_node(volume, file, 20).is_ok());
    expected.assign(bytes.begin(), bytes.begin() + 10);
    expected.resize(20, 0);
    EXPECT_TRUE(read_all(volume, file) == expected);

    uint64_t directory = create(volume, kRootInode, "dir", vfs::NodeKind::Directory, 0700);
    uint64_t transferred = 0;
    EXPECT_EQ(fs_.write_node(volume, directory, 0, "x", 1, &transferred).code(), UMKA_KABI_EISDIR);
    EXPECT_EQ(fs_.truncate_node(volume, directory, 0).code(), UMKA_KABI_EISDIR);
    EXPECT_EQ(fs_.write_node(volume, 999, 0, "x", 1, &transferred).code(), UMKA_KABI_ENOENT);
    EXPECT_EQ(fs_.write_node(volume, file, uint64_t{1} << 60, "x", 1, &transferred).code(),
              UMKA_KABI_EFBIG);

    // A write that does not fit keeps what fit and says how much (a short write).
    uint64_t big = create(volume, kRootInode, "big");
    std::vector<uint8_t> huge = pattern(kVolumeBytes, 9);
    ASSERT_TRUE(fs_.write_node(volume, big, 0, huge.data(), huge.size(), &transferred).is_ok());
    EXPECT_GT(transferred, 0u);
    EXPECT_LT(transferred, huge.size());
    EXPECT_EQ(attributes(volume, big).size, transferred);
    EXPECT_EQ(fs_.write_node(volume, big, transferred, huge.data(), 4096, &transferred).code(),
              UMKA_KABI_ENOSPC);
    EXPECT_EQ(transferred, 0u);
}

TEST_F(TmpfsModule, CreateKindsAndErrors) {
    uint32_t volume = mount_ok("empty");
    uint64_t inode = 0;
    auto create_code = [&](const std::string& name, vfs::NodeKind kind, uint64_t directory) {
        return fs_.create_node(volume, directory, name.data(), name.size(), kind, 0644, &inode)
            .code();
    };
    for (vfs::NodeKind kind :
         {vfs::NodeKind::Symlink, vfs::NodeKind::CharDevice, vfs::NodeKind::BlockDevice,
          vfs::NodeKind::Fifo, vfs::NodeKind::Socket, vfs::NodeKind(200)}) {
        EXPECT_EQ(create_code("node", kind, kRootInode), UMKA_KABI_EINVAL) << int(kind);
    }
    EXPECT_EQ(lookup(volume, kRootInode, "node"), UMKA_KABI_ENOENT);
    uint64_t file = create(volume, kRootInode, "file");
    EXPECT_EQ(create_code("file", vfs::NodeKind::Regular, kRootInode), UMKA_KABI_EEXIST);
    EXPECT_EQ(create_code("file", vfs::NodeKind::Directory, kRootInode), UMKA_KABI_EEXIST);
    EXPECT_EQ(create_code("x", vfs::NodeKind::Regular, file), UMKA_KABI_ENOTDIR);
    EXPECT_EQ(create_code("a/b", vfs::NodeKind::Regular, kRootInode), UMKA_KABI_EINVAL);
    EXPECT_EQ(create_code(".", vfs::NodeKind::Regular, kRootInode), UMKA_KABI_EINVAL);
    EXPECT_EQ(create_code("..", vfs::NodeKind::Directory, kRootInode), UMKA_KABI_EINVAL);
    EXPECT_EQ(create_code("", vfs::NodeKind::Regular, kRootInode), UMKA_KABI_EINVAL);
    EXPECT_EQ(create_code("x", vfs::NodeKind::Regular, 999), UMKA_KABI_ENOENT);
    uint64_t directory = create(volume, kRootInode, "dir", vfs::NodeKind::Directory, 0750);
    EXPECT_EQ(attributes(volume, directory).mode, 0040750u);
    EXPECT_EQ(attributes(volume, directory).link_count, 2u);
    EXPECT_EQ(attributes(volume, kRootInode).link_count, 3u);
}

TEST_F(TmpfsModule, SymlinksThroughTheVtable) {
    uint32_t volume = mount_ok("empty");
    uint64_t link = 0;
    const std::string target = "../etc/motd";
    ASSERT_TRUE(
        fs_.create_symlink(volume, kRootInode, "motd", 4, target.data(), target.size(), &link)
            .is_ok());
    vfs::NodeAttributes found = attributes(volume, link);
    EXPECT_EQ(found.kind, vfs::NodeKind::Symlink);
    EXPECT_EQ(found.mode, 0120777u);
    EXPECT_EQ(found.size, target.size());
    EXPECT_EQ(list(volume, kRootInode).at("motd"), vfs::NodeKind::Symlink);

    char buffer[4200];
    uint64_t length = 0;
    ASSERT_TRUE(fs_.read_symlink(volume, link, buffer, sizeof buffer, &length).is_ok());
    EXPECT_EQ(std::string(buffer, length), target);
    // A short buffer gets the start; the length is the whole target's, like readlink's need.
    std::memset(buffer, 0, sizeof buffer);
    ASSERT_TRUE(fs_.read_symlink(volume, link, buffer, 3, &length).is_ok());
    EXPECT_EQ(length, target.size());
    EXPECT_EQ(std::string(buffer, 4), std::string("../\0", 4));

    std::string longest(4095, 't');
    uint64_t inode = 0;
    ASSERT_TRUE(
        fs_.create_symlink(volume, kRootInode, "long", 4, longest.data(), longest.size(), &inode)
            .is_ok());
    ASSERT_TRUE(fs_.read_symlink(volume, inode, buffer, sizeof buffer, &length).is_ok());
    EXPECT_EQ(std::string(buffer, length), longest);
    std::string too_long(4096, 't');
    EXPECT_EQ(
        fs_.create_symlink(volume, kRootInode, "x", 1, too_long.data(), too_long.size(), &inode)
            .code(),
        UMKA_KABI_ENAMETOOLONG);
    // 2^32 + 1 must not become a 1-byte target.
    EXPECT_EQ(
        fs_.create_symlink(volume, kRootInode, "x", 1, "t", (uint64_t{1} << 32) + 1, &inode).code(),
        UMKA_KABI_ENAMETOOLONG);
    EXPECT_EQ(fs_.create_symlink(volume, kRootInode, "x", 1, "t", 0, &inode).code(),
              UMKA_KABI_EINVAL);
    EXPECT_EQ(fs_.create_symlink(volume, kRootInode, "motd", 4, "t", 1, &inode).code(),
              UMKA_KABI_EEXIST);
    uint64_t file = create(volume, kRootInode, "file");
    EXPECT_EQ(fs_.read_symlink(volume, file, buffer, sizeof buffer, &length).code(),
              UMKA_KABI_EINVAL);
    uint64_t transferred = 0;
    EXPECT_EQ(fs_.read_node(volume, link, 0, buffer, 1, &transferred).code(), UMKA_KABI_EINVAL);
}

TEST_F(TmpfsModule, LinkUnlinkAndRemoveDirectory) {
    uint32_t volume = mount_ok("empty");
    uint64_t file = create(volume, kRootInode, "file");
    ASSERT_NO_FATAL_FAILURE(write(volume, file, 0, text("shared")));
    uint64_t directory = create(volume, kRootInode, "dir", vfs::NodeKind::Directory);
    ASSERT_TRUE(fs_.link_node(volume, directory, "again", 5, file).is_ok());
    EXPECT_EQ(attributes(volume, file).link_count, 2u);
    uint64_t inode = 0;
    EXPECT_EQ(lookup(volume, directory, "again", &inode), 0);
    EXPECT_EQ(inode, file);
    EXPECT_EQ(fs_.link_node(volume, directory, "again", 5, file).code(), UMKA_KABI_EEXIST);
    EXPECT_EQ(fs_.link_node(volume, kRootInode, "d2", 2, directory).code(), UMKA_KABI_EPERM);
    EXPECT_EQ(fs_.link_node(volume, kRootInode, "gone", 4, 999).code(), UMKA_KABI_ENOENT);

    EXPECT_EQ(fs_.unlink_name(volume, kRootInode, "dir", 3).code(), UMKA_KABI_EISDIR);
    EXPECT_EQ(fs_.unlink_name(volume, kRootInode, "nothing", 7).code(), UMKA_KABI_ENOENT);
    ASSERT_TRUE(fs_.unlink_name(volume, kRootInode, "file", 4).is_ok());
    EXPECT_EQ(lookup(volume, kRootInode, "file"), UMKA_KABI_ENOENT);
    EXPECT_EQ(attributes(volume, file).link_count, 1u);
    EXPECT_TRUE(read_all(volume, file) == text("shared"));

    EXPECT_EQ(fs_.remove_directory_name(volume, kRootInode, "dir", 3).code(), UMKA_KABI_ENOTEMPTY);
    EXPECT_EQ(fs_.remove_directory_name(volume, directory, "again", 5).code(), UMKA_KABI_ENOTDIR);
    EXPECT_EQ(fs_.remove_directory_name(volume, kRootInode, ".", 1).code(), UMKA_KABI_EINVAL);
    EXPECT_EQ(fs_.remove_directory_name(volume, kRootInode, "..", 2).code(), UMKA_KABI_EBUSY);

    // An open reference keeps the unlinked file's bytes until it is released.
    ASSERT_TRUE(fs_.retain_node(volume, file).is_ok());
    ASSERT_TRUE(fs_.unlink_name(volume, directory, "again", 5).is_ok());
    EXPECT_EQ(attributes(volume, file).link_count, 0u);
    EXPECT_TRUE(read_all(volume, file) == text("shared"));
    ASSERT_TRUE(fs_.release_node(volume, file).is_ok());
    vfs::NodeAttributes gone{};
    EXPECT_EQ(fs_.node_attributes(volume, file, &gone).code(), UMKA_KABI_ENOENT);
    EXPECT_EQ(fs_.release_node(volume, file).code(), UMKA_KABI_ENOENT);

    ASSERT_TRUE(fs_.remove_directory_name(volume, kRootInode, "dir", 3).is_ok());
    EXPECT_EQ(lookup(volume, kRootInode, "dir"), UMKA_KABI_ENOENT);
    EXPECT_EQ(attributes(volume, kRootInode).link_count, 2u);
    EXPECT_EQ(list(volume, kRootInode).size(), 2u);
}

TEST_F(TmpfsModule, RenameThroughTheVtable) {
    uint32_t volume = mount_ok("empty");
    uint64_t file = create(volume, kRootInode, "file");
    uint64_t other = create(volume, kRootInode, "other");
    uint64_t from = create(volume, kRootInode, "from", vfs::NodeKind::Directory);
    uint64_t to = create(volume, kRootInode, "to", vfs::NodeKind::Directory);
    auto rename = [&](uint64_t from_directory, const std::string& from_name, uint64_t to_directory,
                      const std::string& to_name) {
        return fs_
            .rename_name(volume, from_directory, from_name.data(), from_name.size(), to_directory,
                         to_name.data(), to_name.size())
            .code();
    };
    EXPECT_EQ(rename(kRootInode, "file", from, "moved"), 0);
    uint64_t inode = 0;
    EXPECT_EQ(lookup(volume, from, "moved", &inode), 0);
    EXPECT_EQ(inode, file);
    EXPECT_EQ(lookup(volume, kRootInode, "file"), UMKA_KABI_ENOENT);

    EXPECT_EQ(rename(kRootInode, "other", from, "moved"), 0);  // file over file
    EXPECT_EQ(lookup(volume, from, "moved", &inode), 0);
    EXPECT_EQ(inode, other);
    vfs::NodeAttributes gone{};
    EXPECT_EQ(fs_.node_attributes(volume, file, &gone).code(), UMKA_KABI_ENOENT);

    EXPECT_EQ(rename(kRootInode, "from", to, "inner"), 0);  // a directory moves with ".."
    uint64_t parent = 0;
    EXPECT_EQ(lookup(volume, from, "..", &parent), 0);
    EXPECT_EQ(parent, to);
    EXPECT_EQ(attributes(volume, to).link_count, 3u);
    EXPECT_EQ(attributes(volume, kRootInode).link_count, 3u);

    EXPECT_EQ(rename(kRootInode, "to", from, "loop"), UMKA_KABI_EINVAL);
    EXPECT_EQ(rename(kRootInode, "missing", kRootInode, "x"), UMKA_KABI_ENOENT);
    EXPECT_EQ(rename(from, "moved", kRootInode, "to"), UMKA_KABI_EISDIR);
    EXPECT_EQ(rename(to, "inner", from, "moved"), UMKA_KABI_EINVAL);  // into itself
    uint64_t sub = create(volume, kRootInode, "sub", vfs::NodeKind::Directory);
    EXPECT_EQ(rename(kRootInode, "sub", from, "moved"), UMKA_KABI_ENOTDIR);
    create(volume, sub, "child");
    EXPECT_EQ(rename(to, "inner", kRootInode, "sub"), UMKA_KABI_ENOTEMPTY);
    EXPECT_EQ(rename(kRootInode, ".", kRootInode, "x"), UMKA_KABI_EINVAL);
    EXPECT_EQ(rename(kRootInode, "sub", 999, "x"), UMKA_KABI_ENOENT);
}

TEST_F(TmpfsModule, LiveSwapKeepsEveryFile) {
    add_boot_tree();
    uint32_t boot_volume = mount_ok("boot");
    uint32_t scratch = mount_ok("empty");
    uint64_t file = create(scratch, kRootInode, "notes");
    std::vector<uint8_t> notes = pattern(50000, 21);
    ASSERT_NO_FATAL_FAILURE(write(scratch, file, 0, notes));
    uint64_t link = 0;
    ASSERT_TRUE(fs_.create_symlink(scratch, kRootInode, "to-notes", 8, "notes", 5, &link).is_ok());
    ASSERT_TRUE(fs_.retain_node(scratch, file).is_ok());
    ASSERT_TRUE(fs_.unmount_volume(mount_ok("empty")).is_ok());  // a freed slot stays free
    vfs::FileSystemUsage before{};
    ASSERT_TRUE(fs_.volume_usage(boot_volume, &before).is_ok());
    size_t regions = memory_.live_regions();

    HostModule* replacement = harness_.evolve(module_, umka::harness::module_under_test());
    ASSERT_NE(replacement, nullptr) << harness_.last_reason();
    module_ = replacement;
    ASSERT_TRUE(harness_.bind_provided(*module_, "vfs", "FileSystem", &fs_).is_ok());
    EXPECT_EQ(memory_.live_regions(), regions);  // the arenas were handed over, not copied

    expect_boot_files(boot_volume);
    vfs::FileSystemUsage after{};
    ASSERT_TRUE(fs_.volume_usage(boot_volume, &after).is_ok());
    EXPECT_EQ(std::memcmp(&before, &after, sizeof before), 0);
    EXPECT_TRUE(read_all(scratch, walk(scratch, "notes")) == notes);
    char target[16];
    uint64_t length = 0;
    ASSERT_TRUE(fs_.read_symlink(scratch, link, target, sizeof target, &length).is_ok());
    EXPECT_EQ(std::string(target, length), "notes");
    // The reference taken before the swap is still held: the unlinked file stays readable.
    ASSERT_TRUE(fs_.unlink_name(scratch, kRootInode, "notes", 5).is_ok());
    EXPECT_TRUE(read_all(scratch, file) == notes);
    ASSERT_TRUE(fs_.release_node(scratch, file).is_ok());

    // The successor mounts into the slots its predecessor left free, and unmounts the rest.
    EXPECT_EQ(mount_ok("empty"), 2u);
    EXPECT_EQ(mount_ok("empty"), 3u);
    uint32_t none = 0;
    EXPECT_EQ(mount("empty", &none), UMKA_KABI_ENOSPC);
    for (uint32_t volume = 0; volume < kVolumeSlots; ++volume) {
        EXPECT_TRUE(fs_.unmount_volume(volume).is_ok()) << volume;
    }
    EXPECT_EQ(memory_.live_regions(), 0u);
}

}  // namespace
