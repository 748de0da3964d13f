// Small file helpers shared by umka-sign, umka-modcheck and kabi-gen: bounded whole-file
// reads and writes with error messages that name the file and the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace umka::tools {

// The whole of a regular file of at most `size_limit` bytes, or nullopt with `error` set:
// "cannot open FILE: reason", "FILE: is a directory", "FILE: not a regular file (a
// character device)", "FILE: larger than the limit of N bytes". Inputs are untrusted: a
// device, pipe or huge file must be refused, not read until memory runs out.
std::optional<std::vector<uint8_t>> read_file(const std::string& path, size_t size_limit,
                                              std::string& error);

// Key files are 32 or 64 bytes; this bound only keeps a wrong path (a disk image, a device)
// from being read whole, the exact size check then names what is wrong.
inline constexpr size_t kKeyFileSizeLimit = 4096;

enum class Overwrite { Refuse, Replace };

// Writes `bytes` to `path` with the given permission bits. With Overwrite::Refuse an
// existing file is an error (O_EXCL); with Replace the data goes to a temporary file that
// is renamed over `path`, so readers never see a half-written file.
bool write_file(const std::string& path, const std::vector<uint8_t>& bytes, unsigned mode,
                Overwrite overwrite, std::string& error);

}  // namespace umka::tools
