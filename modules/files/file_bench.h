// `fbench DIR FILES MIB` (file_bench.cpp): the file-system workload bench/files_bench.py
// times against Linux doing the same in the same QEMU (bench/linux_files_bench.c).
#pragma once

#include "appender.h"

namespace umka::files {

// Manifest order of kabi-idl/modules/file_console.kabi.
inline constexpr uint32_t kBenchClock = 3;
// Bounds on one run, so a typo cannot fill a disk for an hour.
inline constexpr uint64_t kMaximumBenchFiles = 100'000;
inline constexpr uint64_t kMaximumBenchMebibytes = 1024;

Status bench_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                     Output& out);

}  // namespace umka::files
