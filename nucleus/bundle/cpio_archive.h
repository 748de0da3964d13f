// Reading the boot bundle: a cpio archive in the "newc" format (070701 headers, 4-byte
// alignment, terminated by TRAILER!!!). Pure, so the host tests share it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"

namespace umka::bundle {

struct Entry {
    const char* name;    // not NUL-terminated
    size_t name_length;  // without the terminating NUL
    const uint8_t* data;
    size_t size;
    uint32_t mode;
};

struct ArchiveError {
    size_t offset;  // byte offset in the archive where the problem was found
    const char* reason;
};

// Calls `visit` for each entry before the trailer. On a malformed archive returns EBADMSG
// (or ENOENT for an empty one) and fills `error` with where and why.
Status for_each_entry(const uint8_t* archive, size_t size,
                      void (*visit)(void* context, const Entry& entry), void* context,
                      ArchiveError& error);

}  // namespace umka::bundle
