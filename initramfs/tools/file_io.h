// Small file helpers shared by umka-sign and umka-modcheck: whole-file reads and writes
// with error messages that name the file and the system error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace umka::tools {

// The whole file, or nullopt with `error` set ("cannot open FILE: reason").
std::optional<std::vector<uint8_t>> read_file(const std::string& path, std::string& error);

enum class Overwrite { Refuse, Replace };

// Writes `bytes` to `path` with the given permission bits. With Overwrite::Refuse an
// existing file is an error (O_EXCL); with Replace the data goes to a temporary file that
// is renamed over `path`, so readers never see a half-written file.
bool write_file(const std::string& path, const std::vector<uint8_t>& bytes, unsigned mode,
                Overwrite overwrite, std::string& error);

}  // namespace umka::tools
