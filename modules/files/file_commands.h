// The console's file commands (file_commands.cpp) over vfs.Vfs.
#pragma once

#include <stdint.h>

#include "umka/command_output.h"
#include "umka/kabi/vfs.hpp"
#include "umka/line_text.h"

namespace umka::files {

using kabi::Status;
using Output = CommandOutput;
namespace api = kabi::vfs;

// A path the commands build (ls -l's children): PATH_MAX.
inline constexpr uint64_t kPathCapacity = 4096;
// fill's largest file: the documented bound, so one command cannot take all of tmpfs by a typo.
inline constexpr uint64_t kMaximumFillBytes = 64ull << 20;

inline uint64_t length_of(const char* text) {
    uint64_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}

// Who calls the VFS: its vfs.Vfs and the descriptor table it owns, whose working directory
// its relative paths start at (the console's is table 0; fbench makes its own).
struct Owner {
    api::VfsRef vfs;
    api::DescriptorTable table;
};

// A descriptor table of its own for a worker, destroyed with it: whatever the worker left
// open is closed then.
class OwnTable {
public:
    explicit OwnTable(const api::VfsRef& vfs)
        : owner_{vfs, api::DescriptorTable{}}, status_(vfs.create_table(&owner_.table)) {}
    ~OwnTable() {
        if (status_.is_ok()) (void)owner_.vfs.destroy_table(owner_.table);
    }
    OwnTable(const OwnTable&) = delete;
    OwnTable& operator=(const OwnTable&) = delete;
    Status status() const { return status_; }
    const Owner& owner() const { return owner_; }

private:
    Owner owner_;
    Status status_;
};

// Closes the descriptor when the command is done with it, whatever path it leaves by.
class OpenFile {
public:
    OpenFile(const Owner& owner, const char* path, api::OpenFlags flags, uint32_t mode)
        : owner_(owner),
          status_(owner.vfs.open_file_in(owner.table, path, length_of(path), flags, mode,
                                         &descriptor_)) {}
    ~OpenFile() {
        if (status_.is_ok()) (void)owner_.vfs.close_file_in(owner_.table, descriptor_);
    }
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    Status status() const { return status_; }
    uint32_t descriptor() const { return descriptor_; }

private:
    const Owner& owner_;
    uint32_t descriptor_ = 0;
    Status status_;
};

// Whether `command` is one of the file commands.
bool knows(const char* command);
// Runs words[0] (knows() said yes) with its words.
Status run_file_command(const Owner& owner, const char* const* words, uint32_t count, Output& out);

}  // namespace umka::files
