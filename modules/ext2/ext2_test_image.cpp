// Host-side scaffolding for the ext2 core's tests (ext2_test_image.h).
#include "ext2_test_image.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace umka::ext2::testing {

FileDevice::FileDevice(const std::string& path) {
    descriptor_ = ::open(path.c_str(), O_RDWR);
}

FileDevice::~FileDevice() {
    if (descriptor_ >= 0) ::close(descriptor_);
}

uint64_t FileDevice::size() const {
    struct stat status {};
    if (fstat(descriptor_, &status) != 0) return 0;
    return static_cast<uint64_t>(status.st_size);
}

Status FileDevice::read(uint64_t offset, void* buffer, uint32_t length) {
    if (offset % 512 != 0 || length % 512 != 0) return UMKA_KABI_EINVAL;
    reads_ += 1;
    auto* out = static_cast<uint8_t*>(buffer);
    uint32_t done = 0;
    while (done < length) {
        ssize_t got = ::pread(descriptor_, out + done, length - done, offset + done);
        if (got <= 0) return UMKA_KABI_EIO;
        done += static_cast<uint32_t>(got);
    }
    return Status::ok();
}

Status FileDevice::write(uint64_t offset, const void* data, uint32_t length) {
    if (offset % 512 != 0 || length % 512 != 0) return UMKA_KABI_EINVAL;
    writes_ += 1;
    const auto* in = static_cast<const uint8_t*>(data);
    uint32_t done = 0;
    while (done < length) {
        ssize_t put = ::pwrite(descriptor_, in + done, length - done, offset + done);
        if (put <= 0) return UMKA_KABI_EIO;
        done += static_cast<uint32_t>(put);
    }
    return Status::ok();
}

Status FileDevice::flush() {
    return ::fdatasync(descriptor_) == 0 ? Status::ok() : Status(UMKA_KABI_EIO);
}

Region::Region(uint64_t length) : length_(length) {
    data_ = std::aligned_alloc(4096, length);
    std::memset(data_, 0xA5, length);
}

Region::~Region() {
    std::free(data_);
}

TemporaryDirectory::TemporaryDirectory() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/ext2-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) != nullptr) path_ = buffer.data();
}

TemporaryDirectory::~TemporaryDirectory() {
    if (!path_.empty() && std::getenv("EXT2_TEST_KEEP") == nullptr) run("rm -rf " + quote(path_));
}

std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

int run(const std::string& command, std::string* output) {
    std::string full = "PATH=/usr/sbin:/sbin:$PATH " + command + " 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    if (pipe == nullptr) return -1;
    std::string text;
    char chunk[4096];
    size_t got = 0;
    while ((got = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) text.append(chunk, got);
    int status = ::pclose(pipe);
    if (output != nullptr) *output = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool tools_available() {
    return run("command -v mke2fs && command -v e2fsck && command -v debugfs") == 0;
}

bool make_image(const std::string& image, uint32_t block_size, uint64_t size_kib,
                const std::string& tree, const std::string& extra) {
    std::string command = "mke2fs -q -F -t ext2 -b " + std::to_string(block_size) + " ";
    if (!tree.empty()) command += "-d " + quote(tree) + " ";
    command += extra + " " + quote(image) + " " + std::to_string(size_kib) + "k";
    std::string output;
    int status = run(command, &output);
    if (status != 0) std::fprintf(stderr, "%s\n%s\n", command.c_str(), output.c_str());
    return status == 0;
}

int check_image(const std::string& image, std::string* transcript) {
    return run("e2fsck -fn " + quote(image), transcript);
}

int debugfs(const std::string& image, const std::string& request, bool write, std::string* output) {
    return run(std::string("debugfs ") + (write ? "-w " : "") + "-R " + quote(request) + " " +
                   quote(image),
               output);
}

std::string file_hash(const std::string& path) {
    std::string output;
    run("sha256sum " + quote(path), &output);
    return output.substr(0, 64);
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

namespace {

void scan(const std::string& root, const std::string& relative, bool links, Model* model) {
    std::string directory = relative.empty() ? root : root + "/" + relative;
    DIR* handle = opendir(directory.c_str());
    if (handle == nullptr) return;
    while (dirent* entry = readdir(handle)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        std::string path = relative.empty() ? name : relative + "/" + name;
        std::string full = root + "/" + path;
        struct stat status {};
        if (lstat(full.c_str(), &status) != 0) continue;
        if (S_ISDIR(status.st_mode)) {
            (*model)[path] = ModelNode{ModelNode::Kind::Directory, "", 0,
                                       links ? static_cast<uint32_t>(status.st_nlink) : 0};
            scan(root, path, links, model);
        } else if (S_ISLNK(status.st_mode)) {
            std::vector<char> target(4096);
            ssize_t length = readlink(full.c_str(), target.data(), target.size());
            std::string text(target.data(), length > 0 ? length : 0);
            (*model)[path] = ModelNode{ModelNode::Kind::Symlink, text, text.size(),
                                       links ? static_cast<uint32_t>(status.st_nlink) : 0};
        } else if (S_ISREG(status.st_mode)) {
            uint64_t size = static_cast<uint64_t>(status.st_size);
            std::string data;
            if (size > kSampleThreshold) {
                std::ifstream in(full, std::ios::binary);
                data.resize(2 * kSampleBytes);
                in.read(data.data(), kSampleBytes);
                in.seekg(static_cast<std::streamoff>(size - kSampleBytes));
                in.read(data.data() + kSampleBytes, kSampleBytes);
            } else {
                data = read_file(full);
            }
            (*model)[path] = ModelNode{ModelNode::Kind::File, data, size,
                                       links ? static_cast<uint32_t>(status.st_nlink) : 0};
        }
    }
    closedir(handle);
}

}  // namespace

Model scan_host_tree(const std::string& root, bool with_links) {
    Model model;
    scan(root, "", with_links, &model);
    return model;
}

std::string read_whole(Volume& volume, uint64_t inode, uint64_t size) {
    std::string data(size, '\0');
    uint64_t transferred = 0;
    Status status = volume.read(inode, 0, data.data(), size, &transferred);
    EXPECT_EQ(status.code(), 0);
    EXPECT_EQ(transferred, size);
    return data;
}

namespace {

std::string sample(Volume& volume, uint64_t inode, uint64_t size) {
    if (size <= kSampleThreshold) return read_whole(volume, inode, size);
    std::string data(2 * kSampleBytes, '\0');
    uint64_t transferred = 0;
    EXPECT_EQ(volume.read(inode, 0, data.data(), kSampleBytes, &transferred).code(), 0);
    EXPECT_EQ(volume
                  .read(inode, size - kSampleBytes, data.data() + kSampleBytes, kSampleBytes,
                        &transferred)
                  .code(),
              0);
    return data;
}

void walk(Volume& volume, uint64_t directory, const std::string& prefix, bool links, Model* model,
          int depth) {
    ASSERT_LT(depth, 100) << prefix;
    Entry entry{};
    uint64_t cookie = 0;
    uint64_t next = 0;
    int index = 0;
    Status status;
    while ((status = volume.read_directory(directory, cookie, &entry, &next)).is_ok()) {
        ASSERT_GT(next, cookie);
        cookie = next;
        std::string name(entry.name, entry.name_length);
        ASSERT_EQ(std::strlen(entry.name), entry.name_length);
        // "." and ".." come first, as stored.
        if (index++ < 2) {
            EXPECT_EQ(name, index == 1 ? "." : "..") << prefix;
            continue;
        }
        std::string path = prefix.empty() ? name : prefix + "/" + name;
        Attributes attributes{};
        ASSERT_EQ(volume.attributes(entry.inode, &attributes).code(), 0) << path;
        EXPECT_EQ(attributes.kind, entry.kind) << path;
        ModelNode node{};
        node.size = attributes.size;
        node.links = links ? attributes.link_count : 0;
        if (entry.kind == NodeKind::Directory) {
            node.kind = ModelNode::Kind::Directory;
            node.size = 0;
            (*model)[path] = node;
            uint64_t parent = 0;
            EXPECT_EQ(volume.lookup(entry.inode, "..", 2, &parent).code(), 0);
            EXPECT_EQ(parent, directory) << path;
            walk(volume, entry.inode, path, links, model, depth + 1);
        } else if (entry.kind == NodeKind::Symlink) {
            node.kind = ModelNode::Kind::Symlink;
            char target[4096];
            uint32_t length = 0;
            EXPECT_EQ(volume.read_link(entry.inode, target, sizeof target, &length).code(), 0)
                << path;
            node.data.assign(target, length);
            (*model)[path] = node;
        } else if (entry.kind == NodeKind::Regular) {
            node.kind = ModelNode::Kind::File;
            node.data = sample(volume, entry.inode, attributes.size);
            (*model)[path] = node;
        }
    }
    EXPECT_EQ(status.code(), UMKA_KABI_ENOENT) << prefix;
}

}  // namespace

Model walk_volume(Volume& volume, bool with_links) {
    Model model;
    walk(volume, kRootInode, "", with_links, &model, 0);
    return model;
}

Status resolve(Volume& volume, const std::string& path, uint64_t* inode) {
    uint64_t current = kRootInode;
    size_t start = 0;
    while (start < path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        std::string component = path.substr(start, end - start);
        if (!component.empty()) {
            Status status = volume.lookup(current, component.data(),
                                          static_cast<uint32_t>(component.size()), &current);
            if (status.is_error()) return status;
        }
        start = end + 1;
    }
    *inode = current;
    return Status::ok();
}

Status resolve_parent(Volume& volume, const std::string& path, uint64_t* directory,
                      std::string* name) {
    size_t slash = path.rfind('/');
    *name = slash == std::string::npos ? path : path.substr(slash + 1);
    Status status =
        resolve(volume, slash == std::string::npos ? "" : path.substr(0, slash), directory);
    if (status.is_error()) return status;
    // Like a kernel path walk, a parent that is not a directory fails the walk itself.
    Attributes attributes{};
    if ((status = volume.attributes(*directory, &attributes)).is_error()) return status;
    return attributes.kind == NodeKind::Directory ? Status::ok() : Status(UMKA_KABI_ENOTDIR);
}

void write_at(const std::string& path, uint64_t offset, const std::string& data) {
    int descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(descriptor, 0) << path;
    ASSERT_EQ(::pwrite(descriptor, data.data(), data.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(data.size()));
    ::close(descriptor);
}

std::string pattern(uint64_t length, uint32_t seed) {
    std::string data(length, '\0');
    uint32_t state = seed * 2654435761u + 1;
    for (uint64_t index = 0; index < length; ++index) {
        state = state * 1103515245u + 12345u;
        data[index] = static_cast<char>(state >> 24);
    }
    return data;
}

void Ext2Fixture::SetUp() {
    if (!tools_available()) GTEST_SKIP() << "e2fsprogs (mke2fs, e2fsck, debugfs) not installed";
    ASSERT_FALSE(directory_.path().empty());
    image_ = directory_.path() + "/image";
}

Status Ext2Fixture::mount(MountMode mode, uint64_t region_bytes, const char** reason) {
    device_ = std::make_unique<FileDevice>(image_);
    EXPECT_TRUE(device_->is_open()) << image_;
    region_ = std::make_unique<Region>(region_bytes);
    return Volume::mount(region_->data(), region_->length(), device_.get(), device_->size(), mode,
                         ++now_, &volume_, reason);
}

void Ext2Fixture::unmount() {
    ASSERT_OK(volume_.unmount(++now_));
    device_.reset();
}

void Ext2Fixture::expect_clean() {
    std::string transcript;
    int status = check_image(image_, &transcript);
    EXPECT_EQ(status, 0) << transcript;
}

Status Ext2Fixture::create(const std::string& path, NodeKind kind, uint64_t* inode) {
    uint64_t directory = 0;
    std::string name;
    Status status = resolve_parent(volume_, path, &directory, &name);
    if (status.is_error()) return status;
    uint64_t created = 0;
    status = volume_.create(directory, name.data(), static_cast<uint32_t>(name.size()), kind,
                            kind == NodeKind::Directory ? 0755 : 0644, ++now_, &created);
    if (inode != nullptr) *inode = created;
    return status;
}

Status Ext2Fixture::put(const std::string& path, uint64_t offset, const std::string& data) {
    uint64_t inode = 0;
    Status status = resolve(volume_, path, &inode);
    if (status.is_error()) return status;
    uint64_t written = 0;
    status = volume_.write(inode, offset, data.data(), data.size(), ++now_, &written);
    if (status.is_ok() && written != data.size()) return UMKA_KABI_ENOSPC;
    return status;
}

Status Ext2Fixture::remove(const std::string& path) {
    uint64_t directory = 0;
    std::string name;
    Status status = resolve_parent(volume_, path, &directory, &name);
    if (status.is_error()) return status;
    return volume_.unlink(directory, name.data(), static_cast<uint32_t>(name.size()), ++now_);
}

Status Ext2Fixture::remove_directory(const std::string& path) {
    uint64_t directory = 0;
    std::string name;
    Status status = resolve_parent(volume_, path, &directory, &name);
    if (status.is_error()) return status;
    return volume_.remove_directory(directory, name.data(), static_cast<uint32_t>(name.size()),
                                    ++now_);
}

Status Ext2Fixture::rename(const std::string& from, const std::string& to) {
    uint64_t from_directory = 0;
    uint64_t to_directory = 0;
    std::string from_name;
    std::string to_name;
    Status status = resolve_parent(volume_, from, &from_directory, &from_name);
    if (status.is_error()) return status;
    if ((status = resolve_parent(volume_, to, &to_directory, &to_name)).is_error()) return status;
    return volume_.rename(from_directory, from_name.data(), static_cast<uint32_t>(from_name.size()),
                          to_directory, to_name.data(), static_cast<uint32_t>(to_name.size()),
                          ++now_);
}

Status Ext2Fixture::link(const std::string& existing, const std::string& path) {
    uint64_t inode = 0;
    Status status = resolve(volume_, existing, &inode);
    if (status.is_error()) return status;
    uint64_t directory = 0;
    std::string name;
    if ((status = resolve_parent(volume_, path, &directory, &name)).is_error()) return status;
    return volume_.link(directory, name.data(), static_cast<uint32_t>(name.size()), inode, ++now_);
}

Status Ext2Fixture::symlink(const std::string& path, const std::string& target) {
    uint64_t directory = 0;
    std::string name;
    Status status = resolve_parent(volume_, path, &directory, &name);
    if (status.is_error()) return status;
    uint64_t inode = 0;
    return volume_.symlink(directory, name.data(), static_cast<uint32_t>(name.size()),
                           target.data(), static_cast<uint32_t>(target.size()), ++now_, &inode);
}

Status Ext2Fixture::truncate(const std::string& path, uint64_t size) {
    uint64_t inode = 0;
    Status status = resolve(volume_, path, &inode);
    if (status.is_error()) return status;
    return volume_.truncate(inode, size, ++now_);
}

uint64_t Ext2Fixture::inode_of(const std::string& path) {
    uint64_t inode = 0;
    EXPECT_OK(resolve(volume_, path, &inode)) << path;
    return inode;
}

std::string Ext2Fixture::contents(const std::string& path) {
    uint64_t inode = inode_of(path);
    Attributes attributes{};
    EXPECT_OK(volume_.attributes(inode, &attributes)) << path;
    return read_whole(volume_, inode, attributes.size);
}

}  // namespace umka::ext2::testing
