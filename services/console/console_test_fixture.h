// The console service's host test fixture: the real module ELF bound to a fake char
// device (scripted input, captured output), a fake shell module's command set (precedence 0:
// records lines, canned answers), a directory over the harness's registry, and command sets
// standing in for modules. The fake device answers EIO once its input is used up, which is how
// run() ends in every test.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "module_harness.h"
#include "umka/kabi/char_device.hpp"
#include "umka/kabi/console.hpp"
#include "umka/kabi/console_command.hpp"
#include "umka/kabi/console_service_state.hpp"
#include "umka/kabi/service_directory.hpp"

namespace umka::console_test {

using umka::harness::HostModule;
using umka::harness::LoadOptions;
using umka::harness::ModuleHarness;
namespace chardev = umka::kabi::char_device;
namespace commands = umka::kabi::console_command;
namespace directory = umka::kabi::service_directory;
using ConsoleState = umka::kabi::console_service::ConsoleState;
using umka::kabi::Status;

// char_device.CharDevice with scripted input and captured output.
struct FakeDevice {
    std::string input;
    size_t position = 0;
    std::string output;
    int32_t open_status = UMKA_KABI_OK;
    chardev::OpenMode opened_mode{};
    int open_calls = 0;
    size_t write_budget = SIZE_MAX;  // bytes accepted before writes fail with EIO
    size_t write_chunk = SIZE_MAX;   // at most this many bytes per write (short writes)
    int reads_answering_eagain = 0;  // EAGAIN before each of the first reads is served
    int crashed_writes = 0;          // writes answered EIO (a driver restart) before the rest
    int poll_calls = 0;
    // A driver restarted with fresh state: after this many writes the device is closed
    // (EBADF) until it is opened again; with stays_closed, opening does not help.
    int writes_before_reset = -1;
    bool closed = false;
    bool stays_closed = false;

    static FakeDevice& of(void* context) { return *static_cast<FakeDevice*>(context); }
    static Status info(void*, chardev::CharDeviceInfo* info) {
        *info = chardev::CharDeviceInfo{};
        std::memcpy(info->name, "ttyFAKE", 7);
        return Status::ok();
    }
    static Status open(void* context, chardev::OpenMode mode) {
        FakeDevice& self = of(context);
        ++self.open_calls;
        self.opened_mode = mode;
        if (self.open_status == UMKA_KABI_OK && !self.stays_closed) self.closed = false;
        return self.open_status;
    }
    static Status close(void*) { return Status::ok(); }
    static Status read(void* context, void* buffer, uint64_t length, uint64_t* transferred) {
        FakeDevice& self = of(context);
        *transferred = 0;
        if (self.closed) return UMKA_KABI_EBADF;
        if (self.reads_answering_eagain > 0) {
            --self.reads_answering_eagain;
            return UMKA_KABI_EAGAIN;
        }
        if (self.position == self.input.size()) return UMKA_KABI_EIO;
        size_t count = std::min<size_t>(length, self.input.size() - self.position);
        std::memcpy(buffer, self.input.data() + self.position, count);
        self.position += count;
        *transferred = count;
        return Status::ok();
    }
    static Status write(void* context, const void* data, uint64_t length, uint64_t* transferred) {
        FakeDevice& self = of(context);
        *transferred = 0;
        if (self.closed) return UMKA_KABI_EBADF;
        if (self.write_budget == 0) return UMKA_KABI_EIO;
        if (self.crashed_writes > 0) {
            --self.crashed_writes;
            return UMKA_KABI_EIO;
        }
        size_t count = std::min<size_t>({length, self.write_budget, self.write_chunk});
        self.output.append(static_cast<const char*>(data), count);
        if (self.write_budget != SIZE_MAX) self.write_budget -= count;
        *transferred = count;
        if (self.writes_before_reset > 0 && --self.writes_before_reset == 0) self.closed = true;
        return Status::ok();
    }
    static Status control(void*, uint32_t, void*, uint64_t) { return UMKA_KABI_ENOTTY; }
    static Status poll(void* context, chardev::PollEvents interest, chardev::PollEvents* ready) {
        FakeDevice& self = of(context);
        ++self.poll_calls;
        if (self.closed) return UMKA_KABI_EBADF;
        *ready = chardev::PollEvents::Writable;
        if (self.position < self.input.size()) *ready = *ready | chardev::PollEvents::Readable;
        *ready = *ready & interest;
        return Status::ok();
    }
};

// The shell module's console_command.CommandSet (precedence 0): records each line (its
// words joined by one space); answers from `answers`, else ENOENT.
struct FakeShell {
    struct Answer {
        int32_t status;
        std::string text;
    };
    std::vector<std::string> lines;
    std::map<std::string, Answer> answers;
    std::string description = "mods  lists modules\nservices  lists bindings\n";
    int describe_calls = 0;
    void* last_output = nullptr;
    uint64_t last_output_length = 0;

    static FakeShell& of(void* context) { return *static_cast<FakeShell*>(context); }
    // Copies as much of `text` as fits; ENOSPC (with the part that fit) when it did not.
    static Status answer(const std::string& text, int32_t status, void* output, uint64_t length,
                         uint64_t* written) {
        uint64_t count = std::min<uint64_t>(text.size(), length);
        std::memcpy(output, text.data(), count);
        *written = count;
        return count < text.size() ? Status(UMKA_KABI_ENOSPC) : Status(status);
    }
    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t output_length, uint64_t* written) {
        FakeShell& self = of(context);
        std::string command;
        const char* text = static_cast<const char*>(arguments);
        uint32_t words = 0;
        for (uint64_t at = 0; at < arguments_length; ++at) {
            if (text[at] != '\0') {
                command += text[at];
            } else if (++words < count) {
                command += ' ';
            }
        }
        EXPECT_EQ(words, count);
        self.lines.push_back(command);
        self.last_output = output;
        self.last_output_length = output_length;
        auto found = self.answers.find(command);
        if (found == self.answers.end()) {
            *written = 0;
            return UMKA_KABI_ENOENT;
        }
        if (found->second.status == UMKA_KABI_ENOSPC) {  // a canned truncation
            uint64_t copied = std::min<uint64_t>(found->second.text.size(), output_length);
            std::memcpy(output, found->second.text.data(), copied);
            *written = copied;
            return UMKA_KABI_ENOSPC;
        }
        return answer(found->second.text, found->second.status, output, output_length, written);
    }
    static Status describe(void* context, void* output, uint64_t output_length, uint64_t* written) {
        FakeShell& self = of(context);
        ++self.describe_calls;
        return answer(self.description, UMKA_KABI_OK, output, output_length, written);
    }
    static uint8_t precedence(void*) { return 0; }
};

// console_command.CommandSet of a module: knows `names`, records each call's words.
struct FakeCommandSet {
    std::vector<std::string> names;
    std::string description;
    std::string reply = "done\n";
    std::vector<std::vector<std::string>> calls;
    std::function<void()> while_running;  // runs inside execute, as a long command would
    uint8_t rank = 128;                   // CommandSet.precedence

    static FakeCommandSet& of(void* context) { return *static_cast<FakeCommandSet*>(context); }
    static Status describe(void* context, void* output, uint64_t length, uint64_t* written) {
        return FakeShell::answer(of(context).description, UMKA_KABI_OK, output, length, written);
    }
    static Status execute(void* context, const void* arguments, uint64_t arguments_length,
                          uint32_t count, void* output, uint64_t length, uint64_t* written) {
        FakeCommandSet& self = of(context);
        std::vector<std::string> words;
        const char* text = static_cast<const char*>(arguments);
        for (uint64_t at = 0; at < arguments_length; at += words.back().size() + 1) {
            words.emplace_back(text + at);
        }
        EXPECT_EQ(words.size(), count);
        if (std::find(self.names.begin(), self.names.end(), words[0]) == self.names.end()) {
            *written = 0;
            return UMKA_KABI_ENOENT;
        }
        self.calls.push_back(words);
        if (self.while_running) self.while_running();
        return FakeShell::answer(self.reply, UMKA_KABI_OK, output, length, written);
    }
    static uint8_t precedence(void* context) { return of(context).rank; }
};

// service_directory.Directory over the harness's registry, as the nucleus answers it.
struct FakeDirectory {
    ModuleHarness* harness = nullptr;
    int lookups = 0;

    static Status provider(void* context, const char* package, uint64_t package_length,
                           const char* interface, uint64_t interface_length, uint32_t index,
                           uint32_t minimum_version, uint64_t* slot) {
        FakeDirectory& self = *static_cast<FakeDirectory*>(context);
        ++self.lookups;
        std::string package_name(package, package_length);
        std::string interface_name(interface, interface_length);
        auto found = self.harness->registry().find_provider(
            package_name.c_str(), interface_name.c_str(), index, minimum_version);
        if (found.is_error()) return UMKA_KABI_ENOENT;
        *slot = reinterpret_cast<uint64_t>(found.value());
        return Status::ok();
    }
    // The module under test hands no callback slot to a provider: it never asks.
    static Status own_provision(void*, const char*, uint64_t, const char*, uint64_t, uint64_t*) {
        return UMKA_KABI_ENOENT;
    }
};

inline constexpr commands::CommandSetVtable kCommandSetVtable =
    commands::make_command_set_vtable<FakeCommandSet>();
inline constexpr directory::DirectoryVtable kDirectoryVtable =
    directory::make_directory_vtable<FakeDirectory>();

inline constexpr chardev::CharDeviceVtable kDeviceVtable =
    chardev::make_char_device_vtable<FakeDevice>();
inline constexpr commands::CommandSetVtable kShellVtable =
    commands::make_command_set_vtable<FakeShell>();

class ConsoleService : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NO_FATAL_FAILURE(provide_fakes());
        ASSERT_NO_FATAL_FAILURE(load());
    }
    void provide_fakes() {
        ASSERT_TRUE(
            harness_
                .provide("char_device", "CharDevice", &kDeviceVtable, &device_, "serial_console")
                .is_ok())
            << harness_.last_reason();
        ASSERT_TRUE(
            harness_.provide("console_command", "CommandSet", &kShellVtable, &shell_, "shell")
                .is_ok())
            << harness_.last_reason();
        directory_.harness = &harness_;
        ASSERT_TRUE(
            harness_.provide("service_directory", "Directory", &kDirectoryVtable, &directory_)
                .is_ok())
            << harness_.last_reason();
    }
    void load(const LoadOptions& options = {}) {
        ASSERT_NO_FATAL_FAILURE(load_file(umka::harness::module_under_test(), options));
    }
    void load_file(const std::string& path, const LoadOptions& options = {}) {
        module_ = harness_.load(path, options);
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(harness_.bind_provided(*module_, "console", "Console", &console_).is_ok());
    }

    // Runs the console over `input`; returns run()'s status code.
    int32_t run(const std::string& input) {
        device_.input = input;
        device_.position = 0;
        return serve();
    }
    // As the nucleus serves the console: run() again, through the slot, after each
    // command (EAGAIN). Returns the status that ended it.
    int32_t serve() {
        for (;;) {
            int32_t status = console_.run().code();
            if (status != UMKA_KABI_EAGAIN) return status;
            ++commands_run_;
            EXPECT_TRUE(harness_.bind_provided(*module_, "console", "Console", &console_).is_ok());
        }
    }
    ConsoleState& state() { return *static_cast<ConsoleState*>(module_->states[0].base); }
    std::string line() {
        return std::string(reinterpret_cast<char*>(state().line), state().line_length);
    }
    size_t prompts() {
        size_t count = 0;
        for (size_t at = device_.output.find("umka> "); at != std::string::npos;
             at = device_.output.find("umka> ", at + 1)) {
            ++count;
        }
        return count;
    }

    void add_command_set(FakeCommandSet& set, const char* provider) {
        ASSERT_TRUE(
            harness_.provide("console_command", "CommandSet", &kCommandSetVtable, &set, provider)
                .is_ok())
            << harness_.last_reason();
    }

    ModuleHarness harness_;
    FakeDevice device_;
    FakeShell shell_;
    FakeDirectory directory_;
    HostModule* module_ = nullptr;
    umka::kabi::console::ConsoleRef console_;
    int commands_run_ = 0;  // run()s that ended with EAGAIN
};

}  // namespace umka::console_test
