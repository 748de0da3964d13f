// Host test of the VFS ELF with the ext2 and tmpfs ELFs: the harness loads the three very
// files the build signs, a RAM disk stands behind block_device.BlockDevice (completing on its
// own thread, through the BlockCompletion ext2 names), and the VFS is driven through its
// vfs.Vfs vtable. The disk is an image mke2fs made; the oracle for every answer is this
// machine's Linux doing the same operation in a temporary directory, and after the run
// e2fsck must find the image clean.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "host_block_device.h"
#include "host_directory.h"
#include "host_dma.h"
#include "host_module_memory.h"
#include "host_threads.h"
#include "module_harness.h"
#include "umka/errno_text.h"
#include "umka/kabi/boot_files.hpp"
#include "umka/kabi/vfs.hpp"

namespace {

namespace api = umka::kabi::vfs;
namespace boot = umka::kabi::boot_files;
using Status = umka::kabi::Status;
using umka::harness::HostBlockDriver;
using umka::harness::RamDisk;

constexpr uint64_t kImageBytes = 8ull << 20;
constexpr api::DescriptorTable kConsole{0};

// An empty root tree: tmpfs mounts "boot" with nothing in it.
struct NoBootFiles {
    static Status file(void*, uint32_t, boot::BootFile*) { return UMKA_KABI_ENOENT; }
    static Status read(void*, uint32_t, uint64_t, void*, uint64_t, uint64_t*) {
        return UMKA_KABI_ENOENT;
    }
};
constexpr boot::BootFilesVtable kNoBootFiles = boot::make_boot_files_vtable<NoBootFiles>();

std::string errno_name(int code) {
    return umka::errno_text(code);
}

class VfsOnExt2 : public ::testing::Test {
protected:
    void SetUp() override {
        directory_path_ =
            std::filesystem::temp_directory_path() / ("umka-vfs-test-" + std::to_string(getpid()));
        std::filesystem::remove_all(directory_path_);
        std::filesystem::create_directories(directory_path_ / "linux");
        image_path_ = directory_path_ / "disk.img";
        std::string command = "mke2fs -q -F -t ext2 -b 1024 " + image_path_.string() + " 8M";
        ASSERT_EQ(std::system(command.c_str()), 0) << "mke2fs (apt-get install e2fsprogs)";
        std::ifstream image(image_path_, std::ios::binary);
        std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(image)), {});
        ASSERT_EQ(bytes.size(), kImageBytes);
        std::vector<RamDisk> disks;
        disks.emplace_back(kImageBytes / 512, 512, 256, 64, false);
        disks[0].bytes = bytes;
        driver_ = std::make_unique<HostBlockDriver>(dma_, std::move(disks));

        ASSERT_TRUE(harness_
                        .provide("kernel_services", "Threads", umka::harness::HostThreads::vtable(),
                                 &threads_)
                        .is_ok());
        ASSERT_TRUE(harness_.provide("kernel_services", "ModuleMemory", memory_.vtable(), &memory_)
                        .is_ok());
        ASSERT_TRUE(
            harness_.provide("bus_access", "Dma", umka::harness::HostDma::vtable(), &dma_).is_ok());
        ASSERT_TRUE(harness_
                        .provide("service_directory", "Directory",
                                 umka::harness::HostDirectory::vtable(), &directory_)
                        .is_ok());
        ASSERT_TRUE(
            harness_.provide("boot_files", "BootFiles", &kNoBootFiles, &no_boot_files_).is_ok());
        ASSERT_TRUE(harness_
                        .provide("block_device", "BlockDevice", HostBlockDriver::vtable(),
                                 driver_.get(), "ramdisk0")
                        .is_ok());
        directory_.list("vfs", "FileSystem", {"tmpfs", "ext2"});
        tmpfs_ = harness_.load(UMKA_TMPFS_MODULE);
        ASSERT_NE(tmpfs_, nullptr) << harness_.last_reason();
        ext2_ = harness_.load(UMKA_EXT2_MODULE);
        ASSERT_NE(ext2_, nullptr) << harness_.last_reason();
        // ext2 asks for its own BlockCompletion slot, to name it in its requests.
        directory_.set_caller("ext2");
        umka::kabi::block_device::BlockCompletionRef completion;
        ASSERT_TRUE(
            harness_.bind_provided(*ext2_, "block_device", "BlockCompletion", &completion).is_ok());
        driver_->attach(completion);
        vfs_module_ = harness_.load(umka::harness::module_under_test());
        ASSERT_NE(vfs_module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(harness_.bind_provided(*vfs_module_, "vfs", "Vfs", &vfs_).is_ok());
        ASSERT_TRUE(vfs_.make_directory_in(kConsole, "/mnt", 4, 0755).is_ok());
        Status mounted = vfs_.mount_at_in(kConsole, "vda", 3, "/mnt", 4, "ext2", 4);
        ASSERT_TRUE(mounted.is_ok()) << errno_name(mounted.code());
        linux_directory_ = open((directory_path_ / "linux").c_str(), O_DIRECTORY | O_RDONLY);
        ASSERT_GE(linux_directory_, 0);
    }

    void TearDown() override {
        if (linux_directory_ >= 0) close(linux_directory_);
        driver_.reset();  // its thread calls into ext2: stopped before the harness unloads
        // UMKA_KEEP_TEST_IMAGE=1 keeps the image and the Linux tree for a look after a failure.
        if (std::getenv("UMKA_KEEP_TEST_IMAGE") == nullptr) {
            std::filesystem::remove_all(directory_path_);
        }
    }

    // The disk's bytes into the image file, for e2fsck.
    void write_image() {
        std::ofstream image(image_path_, std::ios::binary | std::ios::trunc);
        const std::vector<uint8_t>& bytes = driver_->disk(0).bytes;
        image.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }

    // What the VFS answers for one operation, as Linux's would read: "EEXIST", "ok", "ok 5".
    // Paths are relative: to the working directory of `table`, and on Linux to the test's
    // directory (the *at system calls).
    std::string vfs_answer(api::DescriptorTable table, const std::string& operation,
                           const std::string& first, const std::string& second,
                           const std::string& data);
    std::string linux_answer(const std::string& operation, const std::string& first,
                             const std::string& second, const std::string& data);

    umka::harness::ModuleHarness harness_;
    umka::harness::HostThreads threads_;
    umka::harness::HostDma dma_;
    umka::harness::HostDirectory directory_{harness_};
    umka::heap_test::HostModuleMemory memory_;
    std::unique_ptr<HostBlockDriver> driver_;
    umka::harness::HostModule* tmpfs_ = nullptr;
    umka::harness::HostModule* ext2_ = nullptr;
    umka::harness::HostModule* vfs_module_ = nullptr;
    api::VfsRef vfs_;
    int linux_directory_ = -1;
    NoBootFiles no_boot_files_;
    std::filesystem::path directory_path_;
    std::filesystem::path image_path_;
};

std::string answer(Status status, const std::string& detail = "") {
    if (status.is_error()) return errno_name(status.code());
    return detail.empty() ? "ok" : "ok " + detail;
}

std::string linux_result(int result, const std::string& detail = "") {
    if (result != 0) return errno_name(errno);
    return detail.empty() ? "ok" : "ok " + detail;
}

std::string kind_of(uint32_t mode) {
    uint32_t type = mode & S_IFMT;
    return type == S_IFDIR ? "dir" : type == S_IFLNK ? "link" : "file";
}

std::string VfsOnExt2::vfs_answer(api::DescriptorTable table, const std::string& operation,
                                  const std::string& first, const std::string& second,
                                  const std::string& data) {
    const std::string& path = first;
    const std::string& other = second;
    if (operation == "mkdir") {
        return answer(vfs_.make_directory_in(table, path.data(), path.size(), 0755));
    }
    if (operation == "rmdir")
        return answer(vfs_.remove_directory_in(table, path.data(), path.size()));
    if (operation == "unlink") return answer(vfs_.unlink_path_in(table, path.data(), path.size()));
    if (operation == "rename") {
        return answer(
            vfs_.rename_path_in(table, path.data(), path.size(), other.data(), other.size()));
    }
    if (operation == "link") {
        return answer(
            vfs_.link_path_in(table, path.data(), path.size(), other.data(), other.size()));
    }
    if (operation == "symlink") {
        return answer(
            vfs_.symlink_path_in(table, second.data(), second.size(), path.data(), path.size()));
    }
    if (operation == "stat") {
        api::NodeAttributes attributes{};
        Status found = vfs_.stat_path_in(table, path.data(), path.size(), 0, &attributes);
        std::string kind = kind_of(attributes.mode);
        return answer(found, kind == "dir" ? kind
                                           : kind + " " + std::to_string(attributes.size) + " " +
                                                 std::to_string(attributes.link_count));
    }
    uint32_t descriptor = 0;
    if (operation == "write") {
        auto flags = api::OpenFlags::WriteOnly | api::OpenFlags::Create | api::OpenFlags::Truncate;
        Status opened =
            vfs_.open_file_in(table, path.data(), path.size(), flags, 0644, &descriptor);
        if (opened.is_error()) return answer(opened);
        uint64_t written = 0;
        Status put = vfs_.write_file_in(table, descriptor, data.data(), data.size(), &written);
        EXPECT_TRUE(vfs_.close_file_in(table, descriptor).is_ok());
        return answer(put, std::to_string(written));
    }
    // read
    Status opened =
        vfs_.open_file_in(table, path.data(), path.size(), api::OpenFlags{}, 0, &descriptor);
    if (opened.is_error()) return answer(opened);
    std::string contents(4096, '\0');
    uint64_t read = 0;
    Status got = vfs_.read_file_in(table, descriptor, contents.data(), contents.size(), &read);
    EXPECT_TRUE(vfs_.close_file_in(table, descriptor).is_ok());
    contents.resize(read);
    return answer(got, contents);
}

std::string VfsOnExt2::linux_answer(const std::string& operation, const std::string& first,
                                    const std::string& second, const std::string& data) {
    const char* path = first.c_str();
    const char* other = second.c_str();
    int at = linux_directory_;
    if (operation == "mkdir") return linux_result(mkdirat(at, path, 0755));
    if (operation == "rmdir") return linux_result(unlinkat(at, path, AT_REMOVEDIR));
    if (operation == "unlink") return linux_result(unlinkat(at, path, 0));
    if (operation == "rename") return linux_result(renameat(at, path, at, other));
    if (operation == "link") return linux_result(linkat(at, path, at, other, 0));
    if (operation == "symlink") return linux_result(symlinkat(other, at, path));
    if (operation == "stat") {
        struct stat attributes {};
        int result = fstatat(at, path, &attributes, AT_SYMLINK_NOFOLLOW);
        std::string kind = kind_of(attributes.st_mode);
        return linux_result(result, kind == "dir"
                                        ? kind
                                        : kind + " " + std::to_string(attributes.st_size) + " " +
                                              std::to_string(attributes.st_nlink));
    }
    if (operation == "write") {
        int file = openat(at, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (file < 0) return errno_name(errno);
        ssize_t written = ::write(file, data.data(), data.size());
        close(file);
        return linux_result(written < 0 ? -1 : 0, std::to_string(written));
    }
    int file = openat(at, path, O_RDONLY);
    if (file < 0) return errno_name(errno);
    std::string contents(4096, '\0');
    ssize_t read = ::read(file, contents.data(), contents.size());
    int saved = errno;
    close(file);
    errno = saved;
    if (read >= 0) contents.resize(size_t(read));
    return linux_result(read < 0 ? -1 : 0, contents);
}

// Random operations on colliding names up to three levels deep, on the VFS over ext2 and on
// Linux: the same answer each time (errno names, bytes, kinds, sizes, link counts); then
// the image is clean by e2fsck and what the VFS shows after a remount is what Linux has.
// The VFS side is an owner of its own, sitting in /mnt: every path is relative to its
// working directory, as Linux's are to the test's directory.
TEST_F(VfsOnExt2, RandomOperationsAnswerAsLinuxAndLeaveACleanImage) {
    api::DescriptorTable owner{};
    ASSERT_TRUE(vfs_.create_table(&owner).is_ok());
    ASSERT_NE(owner.value, kConsole.value);
    ASSERT_TRUE(vfs_.change_directory(owner, "/mnt", 4).is_ok());
    const char* names[] = {"a", "b", "c", "a/b", "a/c", "b/a", "a/b/c", "c/a/b"};
    const char* operations[] = {"mkdir",  "mkdir", "write",  "write", "read",   "stat",
                                "unlink", "rmdir", "rename", "link",  "symlink"};
    for (uint32_t seed : {1u, 2u, 3u}) {
        std::mt19937 random(seed);
        std::string base = "s" + std::to_string(seed);
        ASSERT_EQ(vfs_answer(owner, "mkdir", base, "", ""), linux_answer("mkdir", base, "", ""));
        uint32_t refused = 0;
        for (int step = 0; step < 400; ++step) {
            std::string operation = operations[random() % std::size(operations)];
            std::string first = base + "/" + names[random() % std::size(names)];
            std::string second = base + "/" + names[random() % std::size(names)];
            std::string data(random() % 3000, char('a' + step % 26));
            if (operation == "symlink") second = names[random() % std::size(names)];
            std::string mine = vfs_answer(owner, operation, first, second, data);
            std::string theirs = linux_answer(operation, first, second, data);
            ASSERT_EQ(mine, theirs) << "seed " << seed << " step " << step << ": " << operation
                                    << " " << first << " " << second;
            refused += theirs.rfind("ok", 0) == 0 ? 0 : 1;
        }
        EXPECT_GT(refused, 40u) << "seed " << seed << " tests too little";
    }
    // The owner's working directory holds the mount, as a process's does on Linux.
    EXPECT_EQ(errno_name(vfs_.unmount_at_in(kConsole, "/mnt", 4).code()), "EBUSY");
    ASSERT_TRUE(vfs_.destroy_table(owner).is_ok());
    Status unmounted = vfs_.unmount_at_in(kConsole, "/mnt", 4);
    ASSERT_TRUE(unmounted.is_ok()) << errno_name(unmounted.code());
    write_image();
    std::string check = "e2fsck -fn " + image_path_.string() + " 2>&1";
    std::string report;
    FILE* output = popen(check.c_str(), "r");
    ASSERT_NE(output, nullptr);
    char line[512];
    while (fgets(line, sizeof line, output) != nullptr) report += line;
    EXPECT_EQ(pclose(output), 0) << "e2fsck -fn found problems:\n" << report;
    ASSERT_TRUE(vfs_.mount_at_in(kConsole, "vda", 3, "/mnt", 4, "ext2", 4).is_ok());
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(directory_path_ / "linux")) {
        std::string relative =
            std::filesystem::relative(entry.path(), directory_path_ / "linux").string();
        std::string absolute = "/mnt/" + relative;
        EXPECT_EQ(vfs_answer(kConsole, "stat", absolute, "", ""),
                  linux_answer("stat", relative, "", ""))
            << relative << " after the remount";
    }
}

// Helpers for the table tests: a call's errno name ("ok" for success).
std::string named(Status status) {
    return status.is_ok() ? "ok" : errno_name(status.code());
}

// Descriptor numbers are per owner; descriptions (and their offsets) are shared by dup and by
// a table copied for fork, as on Linux; a destroyed table closes what it held and its handle
// is refused from then on; the limits answer EMFILE, ENFILE and EBUSY.
TEST_F(VfsOnExt2, DescriptorTablesKeepNumbersPerOwnerAndShareDescriptions) {
    auto create = api::OpenFlags::ReadWrite | api::OpenFlags::Create;
    uint32_t console_file = 99, other_file = 99;
    ASSERT_EQ(named(vfs_.open_file_in(kConsole, "/mnt/f", 6, create, 0644, &console_file)), "ok");
    api::DescriptorTable other{};
    ASSERT_EQ(named(vfs_.create_table(&other)), "ok");
    ASSERT_EQ(
        named(vfs_.open_file_in(other, "/mnt/f", 6, api::OpenFlags::ReadWrite, 0, &other_file)),
        "ok");
    EXPECT_EQ(console_file, 0u);
    EXPECT_EQ(other_file, 0u) << "each table numbers from 0";

    // dup: one description, one offset.
    uint32_t copy = 0;
    ASSERT_EQ(named(vfs_.duplicate_descriptor(kConsole, console_file, &copy)), "ok");
    EXPECT_EQ(copy, 1u);
    uint64_t moved = 0;
    ASSERT_EQ(named(vfs_.write_file_in(kConsole, console_file, "abc", 3, &moved)), "ok");
    ASSERT_EQ(named(vfs_.write_file_in(kConsole, copy, "def", 3, &moved)), "ok");
    uint64_t position = 0;
    ASSERT_EQ(named(vfs_.seek_file_in(kConsole, console_file, 0, 1, &position)), "ok");
    EXPECT_EQ(position, 6u) << "the dup's write moved the shared offset";
    // The other owner's description has an offset of its own.
    char bytes[8] = {};
    ASSERT_EQ(named(vfs_.read_file_in(other, other_file, bytes, sizeof bytes, &moved)), "ok");
    EXPECT_EQ(std::string(bytes, moved), "abcdef");

    // Closing in one table leaves the other's descriptor alone.
    ASSERT_EQ(named(vfs_.close_file_in(other, other_file)), "ok");
    EXPECT_EQ(named(vfs_.close_file_in(other, other_file)), "EBADF");
    ASSERT_EQ(named(vfs_.seek_file_in(kConsole, copy, 0, 0, &position)), "ok");
    ASSERT_EQ(named(vfs_.read_file_in(kConsole, console_file, bytes, 3, &moved)), "ok");
    EXPECT_EQ(std::string(bytes, moved), "abc");

    // A copied table (fork) shares the descriptions under the same numbers.
    api::DescriptorTable child{};
    ASSERT_EQ(named(vfs_.copy_table(kConsole, &child)), "ok");
    ASSERT_EQ(named(vfs_.read_file_in(child, 1, bytes, 3, &moved)), "ok");
    EXPECT_EQ(std::string(bytes, moved), "def") << "the child continues at the parent's offset";
    ASSERT_EQ(named(vfs_.seek_file_in(kConsole, 0, 0, 1, &position)), "ok");
    EXPECT_EQ(position, 6u) << "and the parent sees the child's reads";
    ASSERT_EQ(named(vfs_.destroy_table(child)), "ok");
    EXPECT_EQ(named(vfs_.read_file_in(child, 1, bytes, 3, &moved)), "EINVAL") << "stale handle";
    EXPECT_EQ(named(vfs_.seek_file_in(kConsole, 1, 0, 0, &position)), "ok")
        << "the parent's descriptors outlive the child's table";
    EXPECT_EQ(named(vfs_.destroy_table(kConsole)), "EBUSY");

    // A slot's next life gets a new handle; the old one stays refused.
    api::DescriptorTable again{};
    ASSERT_EQ(named(vfs_.create_table(&again)), "ok");
    EXPECT_NE(again.value, child.value);
    EXPECT_EQ(named(vfs_.stat_file_in(child, 0, nullptr)), "EINVAL");
    EXPECT_EQ(named(vfs_.destroy_table(api::DescriptorTable{0x12345})), "EINVAL");

    // 16 tables in all (the console's among them): the next is ENFILE.
    std::vector<api::DescriptorTable> tables{other, again};
    for (;;) {
        api::DescriptorTable table{};
        Status made = vfs_.create_table(&table);
        if (made.is_error()) {
            EXPECT_EQ(named(made), "ENFILE");
            break;
        }
        tables.push_back(table);
        ASSERT_LT(tables.size(), 100u);
    }
    EXPECT_EQ(tables.size() + 1, 16u);

    // 64 descriptors per table (EMFILE), 64 open descriptions in all (ENFILE); dup takes
    // only a descriptor.
    uint32_t number = 0;
    while (vfs_.duplicate_descriptor(other, 0, &number).is_ok()) {
    }
    EXPECT_EQ(named(vfs_.duplicate_descriptor(kConsole, 0, &number)), "ok");
    uint32_t opened = 0;
    Status status = Status::ok();
    while ((status = vfs_.open_file_in(tables[2], "/mnt/f", 6, api::OpenFlags{}, 0, &number))
               .is_ok()) {
        ++opened;
    }
    EXPECT_EQ(named(status), "ENFILE") << "after " << opened;
    EXPECT_EQ(opened, 63u) << "the console's one description, then 63 more";
    while (vfs_.duplicate_descriptor(kConsole, 0, &number).is_ok()) {
    }
    EXPECT_EQ(named(vfs_.duplicate_descriptor(kConsole, 0, &number)), "EMFILE");
    EXPECT_EQ(named(vfs_.open_file_in(kConsole, "/mnt/f", 6, api::OpenFlags{}, 0, &number)),
              "EMFILE");

    // Open descriptors in any table keep the mount; destroying the tables lets it go.
    EXPECT_EQ(named(vfs_.unmount_at_in(kConsole, "/mnt", 4)), "EBUSY");
    for (api::DescriptorTable table : tables) ASSERT_EQ(named(vfs_.destroy_table(table)), "ok");
    for (uint32_t descriptor = 0; descriptor < 64; ++descriptor) {
        ASSERT_EQ(named(vfs_.close_file_in(kConsole, descriptor)), "ok") << descriptor;
    }
    EXPECT_EQ(named(vfs_.unmount_at_in(kConsole, "/mnt", 4)), "ok");
}

std::string working_directory(const api::VfsRef& vfs, api::DescriptorTable table) {
    char path[4096];
    uint64_t length = 0;
    Status got = vfs.working_directory(table, path, sizeof path, &length);
    if (got.is_error()) return errno_name(got.code());
    EXPECT_EQ(path[length - 1], '\0');
    return std::string(path, length - 1);
}

// chdir and getcwd per owner, across the mount, after renames above the directory and after
// its removal, against what Linux answers for the same steps.
TEST_F(VfsOnExt2, WorkingDirectoriesArePerOwnerAndFollowTheirDirectory) {
    api::DescriptorTable owner{};
    ASSERT_EQ(named(vfs_.create_table(&owner)), "ok");
    EXPECT_EQ(working_directory(vfs_, owner), "/");
    ASSERT_EQ(named(vfs_.make_directory_in(kConsole, "/mnt/a", 6, 0755)), "ok");
    ASSERT_EQ(named(vfs_.make_directory_in(kConsole, "/mnt/a/b", 8, 0755)), "ok");
    ASSERT_EQ(named(vfs_.change_directory(owner, "mnt/a/b", 7)), "ok");
    EXPECT_EQ(working_directory(vfs_, owner), "/mnt/a/b");
    EXPECT_EQ(working_directory(vfs_, kConsole), "/") << "the console's directory did not move";

    // Relative paths start there; absolute ones do not.
    uint32_t file = 0;
    auto create = api::OpenFlags::WriteOnly | api::OpenFlags::Create;
    ASSERT_EQ(named(vfs_.open_file_in(owner, "f", 1, create, 0644, &file)), "ok");
    ASSERT_EQ(named(vfs_.close_file_in(owner, file)), "ok");
    api::NodeAttributes attributes{};
    EXPECT_EQ(named(vfs_.stat_path_in(kConsole, "/mnt/a/b/f", 10, 1, &attributes)), "ok");
    EXPECT_EQ(named(vfs_.stat_path_in(owner, "../b/./f", 8, 1, &attributes)), "ok");
    EXPECT_EQ(named(vfs_.stat_path_in(owner, "/f", 2, 1, &attributes)), "ENOENT");

    // The directory is held by node, not by name: a rename above it is seen by getcwd.
    ASSERT_EQ(named(vfs_.rename_path_in(kConsole, "/mnt/a", 6, "/mnt/z", 6)), "ok");
    EXPECT_EQ(working_directory(vfs_, owner), "/mnt/z/b");
    EXPECT_EQ(named(vfs_.unmount_at_in(kConsole, "/mnt", 4)), "EBUSY");

    // The refusals chdir(2) gives, and the directory stays where it was.
    EXPECT_EQ(named(vfs_.change_directory(owner, "f", 1)), "ENOTDIR");
    EXPECT_EQ(named(vfs_.change_directory(owner, "nope", 4)), "ENOENT");
    EXPECT_EQ(named(vfs_.change_directory(owner, "", 0)), "ENOENT");
    EXPECT_EQ(working_directory(vfs_, owner), "/mnt/z/b");
    char small[8];
    uint64_t length = 0;
    EXPECT_EQ(named(vfs_.working_directory(owner, small, sizeof small, &length)), "ERANGE");

    // ".." from the mounted root goes up to the directory the mount covers.
    ASSERT_EQ(named(vfs_.change_directory(owner, "../../..", 8)), "ok");
    EXPECT_EQ(working_directory(vfs_, owner), "/");
    ASSERT_EQ(named(vfs_.unlink_path_in(kConsole, "/mnt/z/b/f", 10)), "ok");

    // A directory removed while an owner sits in it: getcwd and relative names are ENOENT,
    // as Linux answers after rmdir of its working directory. On ext2 and on tmpfs.
    std::filesystem::path linux_removed = directory_path_ / "gone";
    std::filesystem::create_directory(linux_removed);
    std::filesystem::path saved = std::filesystem::current_path();
    std::filesystem::current_path(linux_removed);
    ASSERT_EQ(rmdir(linux_removed.c_str()), 0);
    char buffer[4096];
    std::string linux_getcwd = getcwd(buffer, sizeof buffer) == nullptr ? errno_name(errno) : "ok";
    std::string linux_create = linux_result(open("g", O_WRONLY | O_CREAT, 0644) < 0 ? -1 : 0);
    std::string linux_list = linux_result(mkdir("d", 0755));
    std::filesystem::current_path(saved);
    ASSERT_EQ(named(vfs_.make_directory_in(kConsole, "/gone", 5, 0755)), "ok");  // on tmpfs
    for (std::string removed : {"/mnt/z/b", "/gone"}) {
        ASSERT_EQ(named(vfs_.change_directory(owner, removed.data(), removed.size())), "ok");
        ASSERT_EQ(named(vfs_.remove_directory_in(kConsole, removed.data(), removed.size())), "ok")
            << removed;
        EXPECT_EQ(working_directory(vfs_, owner), linux_getcwd) << removed;
        EXPECT_EQ(named(vfs_.open_file_in(owner, "g", 1, create, 0644, &file)), linux_create)
            << removed;
        EXPECT_EQ(named(vfs_.make_directory_in(owner, "d", 1, 0755)), linux_list) << removed;
        EXPECT_EQ(named(vfs_.change_directory(owner, "/", 1)), "ok");
    }
    EXPECT_EQ(named(vfs_.change_directory(owner, "/", 1)), "ok");
    ASSERT_EQ(named(vfs_.destroy_table(owner)), "ok");
    EXPECT_EQ(named(vfs_.unmount_at_in(kConsole, "/mnt", 4)), "ok");
    write_image();
    std::string check = "e2fsck -fn " + image_path_.string() + " > /dev/null 2>&1";
    EXPECT_EQ(std::system(check.c_str()), 0) << "e2fsck -fn after the removed directory";
}

}  // namespace
