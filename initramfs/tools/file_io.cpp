#include "initramfs/tools/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace umka::tools {
namespace {

std::string system_error(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

bool write_all(int descriptor, const std::vector<uint8_t>& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t written = ::write(descriptor, bytes.data() + done, bytes.size() - done);
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += size_t(written);
    }
    return true;
}

const char* file_kind(mode_t mode) {
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a pipe";
    if (S_ISSOCK(mode)) return "a socket";
    return "a special file";
}

}  // namespace

std::optional<std::vector<uint8_t>> read_file(const std::string& path, size_t size_limit,
                                              std::string& error) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before it can be refused.
    int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (descriptor < 0) {
        error = system_error("cannot open", path);
        return std::nullopt;
    }
    struct stat status;
    if (::fstat(descriptor, &status) != 0) {
        error = system_error("cannot stat", path);
        ::close(descriptor);
        return std::nullopt;
    }
    if (!S_ISREG(status.st_mode)) {
        error = S_ISDIR(status.st_mode)
                    ? path + ": is a directory"
                    : path + ": not a regular file (" + file_kind(status.st_mode) + ")";
        ::close(descriptor);
        return std::nullopt;
    }
    std::string too_large =
        path + ": larger than the limit of " + std::to_string(size_limit) + " bytes";
    if (uint64_t(status.st_size) > size_limit) {
        error = too_large;
        ::close(descriptor);
        return std::nullopt;
    }
    // The size can change after fstat: the loop itself stops one byte past the limit.
    std::vector<uint8_t> bytes;
    bytes.reserve(size_t(status.st_size));
    uint8_t chunk[65536];
    while (bytes.size() <= size_limit) {
        size_t wanted = std::min(sizeof(chunk), size_limit + 1 - bytes.size());
        ssize_t count = ::read(descriptor, chunk, wanted);
        if (count < 0) {
            if (errno == EINTR) continue;
            error = system_error("cannot read", path);
            ::close(descriptor);
            return std::nullopt;
        }
        if (count == 0) break;
        bytes.insert(bytes.end(), chunk, chunk + count);
    }
    ::close(descriptor);
    if (bytes.size() > size_limit) {
        error = too_large;
        return std::nullopt;
    }
    return bytes;
}

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes, unsigned mode,
                Overwrite overwrite, std::string& error) {
    if (overwrite == Overwrite::Refuse) {
        int descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (descriptor < 0) {
            error = errno == EEXIST ? "refusing to overwrite existing " + path
                                    : system_error("cannot create", path);
            return false;
        }
        bool written = write_all(descriptor, bytes);
        if (!written) error = system_error("cannot write", path);
        if (::close(descriptor) != 0 && written) {
            error = system_error("cannot close", path);
            written = false;
        }
        if (!written) ::unlink(path.c_str());
        return written;
    }

    std::string temporary = path + ".tmp." + std::to_string(::getpid());
    int descriptor = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (descriptor < 0) {
        error = system_error("cannot create", temporary);
        return false;
    }
    bool written = write_all(descriptor, bytes);
    if (!written) error = system_error("cannot write", temporary);
    if (::close(descriptor) != 0 && written) {
        error = system_error("cannot close", temporary);
        written = false;
    }
    if (written && ::rename(temporary.c_str(), path.c_str()) != 0) {
        error = system_error("cannot rename " + temporary + " to", path);
        written = false;
    }
    if (!written) ::unlink(temporary.c_str());
    return written;
}

}  // namespace umka::tools
