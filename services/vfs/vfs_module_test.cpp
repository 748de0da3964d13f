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
        ASSERT_TRUE(vfs_.make_directory("/mnt", 4, 0755).is_ok());
        Status mounted = vfs_.mount_at("vda", 3, "/mnt", 4, "ext2", 4);
        ASSERT_TRUE(mounted.is_ok()) << errno_name(mounted.code());
    }

    void TearDown() override {
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
    std::string vfs_answer(const std::string& operation, const std::string& first,
                           const std::string& second, const std::string& data);
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

std::string VfsOnExt2::vfs_answer(const std::string& operation, const std::string& first,
                                  const std::string& second, const std::string& data) {
    std::string path = "/mnt/" + first;
    std::string other = "/mnt/" + second;
    if (operation == "mkdir") return answer(vfs_.make_directory(path.data(), path.size(), 0755));
    if (operation == "rmdir") return answer(vfs_.remove_directory(path.data(), path.size()));
    if (operation == "unlink") return answer(vfs_.unlink_path(path.data(), path.size()));
    if (operation == "rename") {
        return answer(vfs_.rename_path(path.data(), path.size(), other.data(), other.size()));
    }
    if (operation == "link") {
        return answer(vfs_.link_path(path.data(), path.size(), other.data(), other.size()));
    }
    if (operation == "symlink") {
        return answer(vfs_.symlink_path(second.data(), second.size(), path.data(), path.size()));
    }
    if (operation == "stat") {
        api::NodeAttributes attributes{};
        Status found = vfs_.stat_path(path.data(), path.size(), 0, &attributes);
        std::string kind = kind_of(attributes.mode);
        return answer(found, kind == "dir" ? kind
                                           : kind + " " + std::to_string(attributes.size) + " " +
                                                 std::to_string(attributes.link_count));
    }
    uint32_t descriptor = 0;
    if (operation == "write") {
        auto flags = api::OpenFlags::WriteOnly | api::OpenFlags::Create | api::OpenFlags::Truncate;
        Status opened = vfs_.open_file(path.data(), path.size(), flags, 0644, &descriptor);
        if (opened.is_error()) return answer(opened);
        uint64_t written = 0;
        Status put = vfs_.write_file(descriptor, data.data(), data.size(), &written);
        EXPECT_TRUE(vfs_.close_file(descriptor).is_ok());
        return answer(put, std::to_string(written));
    }
    // read
    Status opened = vfs_.open_file(path.data(), path.size(), api::OpenFlags{}, 0, &descriptor);
    if (opened.is_error()) return answer(opened);
    std::string contents(4096, '\0');
    uint64_t read = 0;
    Status got = vfs_.read_file(descriptor, contents.data(), contents.size(), &read);
    EXPECT_TRUE(vfs_.close_file(descriptor).is_ok());
    contents.resize(read);
    return answer(got, contents);
}

std::string VfsOnExt2::linux_answer(const std::string& operation, const std::string& first,
                                    const std::string& second, const std::string& data) {
    std::string path = (directory_path_ / "linux" / first).string();
    std::string other = (directory_path_ / "linux" / second).string();
    if (operation == "mkdir") return linux_result(mkdir(path.c_str(), 0755));
    if (operation == "rmdir") return linux_result(rmdir(path.c_str()));
    if (operation == "unlink") return linux_result(unlink(path.c_str()));
    if (operation == "rename") return linux_result(rename(path.c_str(), other.c_str()));
    if (operation == "link") return linux_result(link(path.c_str(), other.c_str()));
    if (operation == "symlink") return linux_result(symlink(second.c_str(), path.c_str()));
    if (operation == "stat") {
        struct stat attributes {};
        int result = lstat(path.c_str(), &attributes);
        std::string kind = kind_of(attributes.st_mode);
        return linux_result(result, kind == "dir"
                                        ? kind
                                        : kind + " " + std::to_string(attributes.st_size) + " " +
                                              std::to_string(attributes.st_nlink));
    }
    if (operation == "write") {
        int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (file < 0) return errno_name(errno);
        ssize_t written = ::write(file, data.data(), data.size());
        close(file);
        return linux_result(written < 0 ? -1 : 0, std::to_string(written));
    }
    int file = open(path.c_str(), O_RDONLY);
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
TEST_F(VfsOnExt2, RandomOperationsAnswerAsLinuxAndLeaveACleanImage) {
    const char* names[] = {"a", "b", "c", "a/b", "a/c", "b/a", "a/b/c", "c/a/b"};
    const char* operations[] = {"mkdir",  "mkdir", "write",  "write", "read",   "stat",
                                "unlink", "rmdir", "rename", "link",  "symlink"};
    for (uint32_t seed : {1u, 2u, 3u}) {
        std::mt19937 random(seed);
        std::string base = "s" + std::to_string(seed);
        ASSERT_EQ(vfs_answer("mkdir", base, "", ""), linux_answer("mkdir", base, "", ""));
        uint32_t refused = 0;
        for (int step = 0; step < 400; ++step) {
            std::string operation = operations[random() % std::size(operations)];
            std::string first = base + "/" + names[random() % std::size(names)];
            std::string second = base + "/" + names[random() % std::size(names)];
            std::string data(random() % 3000, char('a' + step % 26));
            if (operation == "symlink") second = names[random() % std::size(names)];
            std::string mine = vfs_answer(operation, first, second, data);
            std::string theirs = linux_answer(operation, first, second, data);
            ASSERT_EQ(mine, theirs) << "seed " << seed << " step " << step << ": " << operation
                                    << " " << first << " " << second;
            refused += theirs.rfind("ok", 0) == 0 ? 0 : 1;
        }
        EXPECT_GT(refused, 40u) << "seed " << seed << " tests too little";
    }
    Status unmounted = vfs_.unmount_at("/mnt", 4);
    ASSERT_TRUE(unmounted.is_ok()) << errno_name(unmounted.code());
    write_image();
    std::string check = "e2fsck -fn " + image_path_.string() + " 2>&1";
    std::string report;
    FILE* output = popen(check.c_str(), "r");
    ASSERT_NE(output, nullptr);
    char line[512];
    while (fgets(line, sizeof line, output) != nullptr) report += line;
    EXPECT_EQ(pclose(output), 0) << "e2fsck -fn found problems:\n" << report;
    ASSERT_TRUE(vfs_.mount_at("vda", 3, "/mnt", 4, "ext2", 4).is_ok());
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(directory_path_ / "linux")) {
        std::string relative =
            std::filesystem::relative(entry.path(), directory_path_ / "linux").string();
        EXPECT_EQ(vfs_answer("stat", relative, "", ""), linux_answer("stat", relative, "", ""))
            << relative << " after the remount";
    }
}

}  // namespace
