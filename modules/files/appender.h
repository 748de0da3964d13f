// `append PATH LINES` (appender.cpp): the background writer of the file console.
#pragma once

#include "file_commands.h"
#include "umka/kabi/file_console_state.hpp"
#include "umka/kabi/kernel_services.hpp"
#include "umka/module_entry.h"

namespace umka::files {

using AppenderState = kabi::file_console::FileConsoleState;

// Manifest order of kabi-idl/modules/file_console.kabi.
inline constexpr uint32_t kAppenderVfs = 1;
inline constexpr uint32_t kAppenderThreads = 2;

inline AppenderState& appender_state(const UmkaModuleBinding* binding) {
    return *kabi::module_state<AppenderState>(binding);
}

// `append PATH LINES` starts the writer (EBUSY while one runs); `append` reports progress.
Status append_command(const UmkaModuleBinding* binding, const char* const* words, uint32_t count,
                      Output& out);

}  // namespace umka::files
