#include "initramfs/tools/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace

std::optional<std::vector<uint8_t>> read_file(const std::string& path, std::string& error) {
    int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) {
        error = system_error("cannot open", path);
        return std::nullopt;
    }
    std::vector<uint8_t> bytes;
    uint8_t chunk[65536];
    for (;;) {
        ssize_t count = ::read(descriptor, chunk, sizeof(chunk));
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
