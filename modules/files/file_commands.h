// The console's file commands (file_commands.cpp) over vfs.Vfs.
#pragma once

#include <stdint.h>

#include "umka/command_output.h"
#include "umka/kabi/vfs.hpp"
#include "umka/line_text.h"

namespace umka::files {

using kabi::Status;
using Output = CommandOutput;

// A path the commands build (ls -l's children): PATH_MAX.
inline constexpr uint64_t kPathCapacity = 4096;
// fill's largest file: the documented bound, so one command cannot take all of tmpfs by a typo.
inline constexpr uint64_t kMaximumFillBytes = 64ull << 20;

// Whether `command` is one of the file commands.
bool knows(const char* command);
// Runs words[0] (knows() said yes) with its words.
Status run_file_command(const kabi::vfs::VfsRef& vfs, const char* const* words, uint32_t count,
                        Output& out);

}  // namespace umka::files
