// console_service through the host harness: the real console_service.elf (the file that
// is signed and boots), bound to a fake char device (scripted input, captured output) and
// a fake shell (records lines, canned answers). The fake device answers EIO once its input
// is used up, which is how run() ends in every test.
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
#include "umka/kabi/nucleus_shell.hpp"
#include "umka/kabi/service_directory.hpp"

namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using umka::harness::HostModule;
using umka::harness::LoadOptions;
using umka::harness::ModuleHarness;
namespace chardev = umka::kabi::char_device;
namespace shell = umka::kabi::nucleus_shell;
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
    int poll_calls = 0;

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
        return self.open_status;
    }
    static Status close(void*) { return Status::ok(); }
    static Status read(void* context, void* buffer, uint64_t length, uint64_t* transferred) {
        FakeDevice& self = of(context);
        *transferred = 0;
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
        if (self.write_budget == 0) return UMKA_KABI_EIO;
        size_t count = std::min<size_t>({length, self.write_budget, self.write_chunk});
        self.output.append(static_cast<const char*>(data), count);
        if (self.write_budget != SIZE_MAX) self.write_budget -= count;
        *transferred = count;
        return Status::ok();
    }
    static Status control(void*, uint32_t, void*, uint64_t) { return UMKA_KABI_ENOTTY; }
    static Status poll(void* context, chardev::PollEvents interest, chardev::PollEvents* ready) {
        FakeDevice& self = of(context);
        ++self.poll_calls;
        *ready = chardev::PollEvents::Writable;
        if (self.position < self.input.size()) *ready = *ready | chardev::PollEvents::Readable;
        *ready = *ready & interest;
        return Status::ok();
    }
};

// nucleus_shell.Shell: records each line; answers from `answers`, else ENOENT naming it.
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
    static Status execute(void* context, const char* line, uint64_t line_length, void* output,
                          uint64_t output_length, uint64_t* written) {
        FakeShell& self = of(context);
        std::string command(line, line_length);
        self.lines.push_back(command);
        self.last_output = output;
        self.last_output_length = output_length;
        auto found = self.answers.find(command);
        if (found == self.answers.end()) {
            return answer(command + ": no such command\n", UMKA_KABI_ENOENT, output, output_length,
                          written);
        }
        if (found->second.status == UMKA_KABI_ENOSPC) {  // a canned truncation
            uint64_t count = std::min<uint64_t>(found->second.text.size(), output_length);
            std::memcpy(output, found->second.text.data(), count);
            *written = count;
            return UMKA_KABI_ENOSPC;
        }
        return answer(found->second.text, found->second.status, output, output_length, written);
    }
    static Status describe(void* context, void* output, uint64_t output_length, uint64_t* written) {
        FakeShell& self = of(context);
        ++self.describe_calls;
        return answer(self.description, UMKA_KABI_OK, output, output_length, written);
    }
};

// console_command.CommandSet of a module: knows `names`, records each call's words.
struct FakeCommandSet {
    std::vector<std::string> names;
    std::string description;
    std::string reply = "done\n";
    std::vector<std::vector<std::string>> calls;
    std::function<void()> while_running;  // runs inside execute, as a long command would

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
};

constexpr commands::CommandSetVtable kCommandSetVtable =
    commands::make_command_set_vtable<FakeCommandSet>();
constexpr directory::DirectoryVtable kDirectoryVtable =
    directory::make_directory_vtable<FakeDirectory>();

constexpr chardev::CharDeviceVtable kDeviceVtable = chardev::make_char_device_vtable<FakeDevice>();
constexpr shell::ShellVtable kShellVtable = shell::make_shell_vtable<FakeShell>();

class ConsoleService : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(
            harness_
                .provide("char_device", "CharDevice", &kDeviceVtable, &device_, "serial_console")
                .is_ok())
            << harness_.last_reason();
        ASSERT_TRUE(harness_.provide("nucleus_shell", "Shell", &kShellVtable, &shell_).is_ok())
            << harness_.last_reason();
        directory_.harness = &harness_;
        ASSERT_TRUE(
            harness_.provide("service_directory", "Directory", &kDirectoryVtable, &directory_)
                .is_ok())
            << harness_.last_reason();
        ASSERT_NO_FATAL_FAILURE(load());
    }
    void load(const LoadOptions& options = {}) {
        module_ = harness_.load(umka::harness::module_under_test(), options);
        ASSERT_NE(module_, nullptr) << harness_.last_reason();
        ASSERT_TRUE(harness_.bind_provided(*module_, "console", "Console", &console_).is_ok());
    }

    // Runs the console over `input`; returns run()'s status code.
    int32_t run(const std::string& input) {
        device_.input = input;
        device_.position = 0;
        return console_.run().code();
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
};

TEST_F(ConsoleService, OpensBlockingPrintsThePromptAndStopsWithEIOWhenInputEnds) {
    EXPECT_EQ(run(""), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> ");
    EXPECT_EQ(device_.open_calls, 1);
    EXPECT_EQ(device_.opened_mode, chardev::OpenMode::Read | chardev::OpenMode::Write);
    EXPECT_THAT(harness_.log().lines(), Contains("console: serving ttyFAKE"));
    EXPECT_THAT(harness_.log().lines(),
                Contains("console: char device read failed (errno 5); console stops"));
}

TEST_F(ConsoleService, EchoesWhatIsTypedAndKeepsTheLineInState) {
    EXPECT_EQ(run("ls -l"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> ls -l");
    EXPECT_EQ(line(), "ls -l");
    EXPECT_TRUE(shell_.lines.empty());
}

TEST_F(ConsoleService, ExecutesALineAndWritesItsOutputWithCrLf) {
    shell_.answers["mods"] = {UMKA_KABI_OK, "serial_console 1\nconsole_service 1\n"};
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> mods\r\nserial_console 1\r\nconsole_service 1\r\numka> ");
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"mods"}));
    // The shell renders into ConsoleState.output, all of it.
    EXPECT_EQ(shell_.last_output, static_cast<void*>(state().output));
    EXPECT_EQ(shell_.last_output_length, sizeof(state().output));
    EXPECT_EQ(state().lines_executed, 1u);
    EXPECT_EQ(state().line_length, 0u);
}

TEST_F(ConsoleService, OutputGetsAFinalLineEndAndKeepsExistingCrLf) {
    shell_.answers["a"] = {UMKA_KABI_OK, "one\r\ntwo"};
    EXPECT_EQ(run("a\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> a\r\none\r\ntwo\r\numka> ");
}

TEST_F(ConsoleService, BackspaceAndDeleteErase) {
    shell_.answers["mods"] = {UMKA_KABI_OK, ""};
    EXPECT_EQ(run("\b\x7fmx\x7fod\bds\r"), UMKA_KABI_EIO);
    // Erasing on an empty line writes nothing; each erase is "\b \b".
    EXPECT_EQ(device_.output, "umka> mx\b \bod\b \bds\r\numka> ");
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"mods"}));
}

TEST_F(ConsoleService, FoldsCrLfAndLfCrIntoOneLineEnd) {
    for (const char* name : {"a", "b", "c", "d"}) shell_.answers[name] = {UMKA_KABI_OK, ""};
    // CR LF, LF CR, CR alone, then CR LF CR LF (two line ends), then an empty line.
    EXPECT_EQ(run("a\r\nb\n\rc\rd\r\n\r\n"), UMKA_KABI_EIO);
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"a", "b", "c", "d"}));
    EXPECT_EQ(prompts(), 6u);  // first, after a, b, c, d and the empty line
    EXPECT_EQ(state().lines_executed, 4u);
}

TEST_F(ConsoleService, EmptyAndBlankLinesOnlyPromptAgain) {
    EXPECT_EQ(run("\r  \t\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> \r\numka>   \r\numka> ");
    EXPECT_TRUE(shell_.lines.empty());
    EXPECT_EQ(state().lines_executed, 0u);
}

TEST_F(ConsoleService, BlanksAroundACommandAreDropped) {
    shell_.answers["mods"] = {UMKA_KABI_OK, "ok\n"};
    EXPECT_EQ(run("  mods \r"), UMKA_KABI_EIO);
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"mods"}));
}

TEST_F(ConsoleService, HelpPrintsItsOwnLineAndTheShellsDescription) {
    EXPECT_EQ(run("help\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output,
              "umka> help\r\nhelp  lists the commands\r\nmods  lists modules\r\n"
              "services  lists bindings\r\numka> ");
    EXPECT_EQ(shell_.describe_calls, 1);
    EXPECT_TRUE(shell_.lines.empty());
}

TEST_F(ConsoleService, HelpListsTheCommandsModulesAddAfterTheShells) {
    FakeCommandSet hello{{"hello"}, "hello [name]  greets"};  // no final line end
    FakeCommandSet disk{{"blk"}, "blk  block devices\n"};
    add_command_set(hello, "hello_driver");
    add_command_set(disk, "virtio_blk");
    EXPECT_EQ(run("help\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output,
              "umka> help\r\nhelp  lists the commands\r\nmods  lists modules\r\n"
              "services  lists bindings\r\nhello [name]  greets\r\nblk  block devices\r\n"
              "umka> ");
}

TEST_F(ConsoleService, AModuleCommandGetsItsWordsAndItsOutputIsShown) {
    FakeCommandSet hello{{"hello"}, "hello  greets\n", "hello, world\n"};
    add_command_set(hello, "hello_driver");
    EXPECT_EQ(run("  hello  big   world \r"), UMKA_KABI_EIO);
    ASSERT_EQ(hello.calls.size(), 1u);
    EXPECT_EQ(hello.calls[0], (std::vector<std::string>{"hello", "big", "world"}));
    EXPECT_EQ(device_.output, "umka>   hello  big   world \r\nhello, world\r\numka> ");
    // The shell was asked first: a module cannot take over a nucleus command's name.
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"hello  big   world"}));
}

TEST_F(ConsoleService, TheShellsCommandsComeBeforeAModulesOfTheSameName) {
    shell_.answers["mods"] = {UMKA_KABI_OK, "from the nucleus\n"};
    FakeCommandSet impostor{{"mods"}, "mods  fake\n", "from the module\n"};
    add_command_set(impostor, "impostor");
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> mods\r\nfrom the nucleus\r\numka> ");
    EXPECT_TRUE(impostor.calls.empty());
}

TEST_F(ConsoleService, EachCommandSetIsAskedUntilOneKnowsTheName) {
    FakeCommandSet first{{"one"}, "one\n", "first\n"};
    FakeCommandSet second{{"two"}, "two\n", "second\n"};
    add_command_set(first, "first_module");
    add_command_set(second, "second_module");
    EXPECT_EQ(run("two x\rthree\r"), UMKA_KABI_EIO);
    EXPECT_TRUE(first.calls.empty());
    ASSERT_EQ(second.calls.size(), 1u);
    // Nobody knows "three": the shell's own message.
    EXPECT_EQ(device_.output,
              "umka> two x\r\nsecond\r\numka> three\r\nthree: no such command\r\numka> ");
}

TEST_F(ConsoleService, ALineOfMoreThan32WordsIsRefusedNotCut) {
    FakeCommandSet sink{{"w"}, "w\n"};
    add_command_set(sink, "sink");
    std::string line = "w";
    for (int word = 0; word < 32; ++word) line += " x";
    EXPECT_EQ(run(line + "\r"), UMKA_KABI_EIO);
    EXPECT_TRUE(sink.calls.empty());
    EXPECT_THAT(device_.output, HasSubstr(": more than 32 words; refused\r\n"));
}

TEST_F(ConsoleService, UnknownCommandShowsTheShellsMessage) {
    EXPECT_EQ(run("nope\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> nope\r\nnope: no such command\r\numka> ");
}

TEST_F(ConsoleService, UnknownCommandWithoutAMessageIsNamedByTheConsole) {
    shell_.answers["nope"] = {UMKA_KABI_ENOENT, ""};
    EXPECT_EQ(run("nope\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> nope\r\nnope: unknown command\r\numka> ");
}

TEST_F(ConsoleService, TruncatedOutputIsWrittenWithANotice) {
    shell_.answers["log"] = {UMKA_KABI_ENOSPC, "line 1\nline 2\npart"};
    EXPECT_EQ(run("log\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output,
              "umka> log\r\nline 1\r\nline 2\r\npart\r\n(output truncated)\r\numka> ");
}

TEST_F(ConsoleService, OutputLargerThanTheStateBufferIsTruncatedThere) {
    std::string big(sizeof(ConsoleState::output) + 100, 'x');
    shell_.answers["big"] = {UMKA_KABI_OK, big};  // FakeShell answers ENOSPC: it does not fit
    EXPECT_EQ(run("big\r"), UMKA_KABI_EIO);
    std::string expected = "umka> big\r\n" + std::string(sizeof(ConsoleState::output), 'x') +
                           "\r\n(output truncated)\r\numka> ";
    EXPECT_EQ(device_.output, expected);
}

TEST_F(ConsoleService, OtherShellErrorsNameTheErrno) {
    shell_.answers["poweroff"] = {UMKA_KABI_EPERM, ""};
    EXPECT_EQ(run("poweroff\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> poweroff\r\npoweroff: failed with errno 1\r\numka> ");
}

TEST_F(ConsoleService, CtrlCDropsTheLine) {
    shell_.answers["ls"] = {UMKA_KABI_OK, ""};
    EXPECT_EQ(run("abc\x03ls\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> abc^C\r\numka> ls\r\numka> ");
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"ls"}));
}

TEST_F(ConsoleService, EscapeSequencesAndNonAsciiBytesAreSwallowed) {
    shell_.answers["ls"] = {UMKA_KABI_OK, ""};
    // Up arrow (CSI A), F1 (SS3 P), a CSI with parameters, a UTF-8 'é'.
    EXPECT_EQ(run("l\x1b[A\x1bOP\x1b[1;5C\xc3\xa9s\r"), UMKA_KABI_EIO);
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"ls"}));
    EXPECT_EQ(device_.output, "umka> ls\r\numka> ");
}

TEST_F(ConsoleService, AFullLineRingsTheBellOnce) {
    std::string typed(300, 'a');
    EXPECT_EQ(run(typed), UMKA_KABI_EIO);
    EXPECT_EQ(state().line_length, sizeof(ConsoleState::line));
    EXPECT_EQ(state().line_status, 1u);
    EXPECT_EQ(std::count(device_.output.begin(), device_.output.end(), '\a'), 1);
}

// Issue 11: this line once ran, cut at 256 bytes, and performed a real swap.
TEST_F(ConsoleService, AnOverLongLineIsRefusedWholeAndTheNextLineIsServed) {
    shell_.answers["poweroff"] = {UMKA_KABI_OK, "bye\n"};
    std::string hostile = "evolve scheduler scheduler-v2.umod" + std::string(300, ' ') + "junk";
    EXPECT_EQ(run(hostile + "\rpoweroff\r"), UMKA_KABI_EIO);
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"poweroff"}));
    EXPECT_THAT(device_.output,
                HasSubstr("\a\r\nline too long (over 256 bytes): refused, nothing run\r\n"
                          "umka> poweroff\r\nbye\r\numka> "));
    EXPECT_EQ(state().lines_executed, 1u);
}

TEST_F(ConsoleService, BytesThatOnceMarkedEscapeStatesSwallowNothing) {
    shell_.answers["ls"] = {UMKA_KABI_OK, ""};
    EXPECT_EQ(run("l\x9bs\rl\x8fs\r"), UMKA_KABI_EIO);
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"ls", "ls"}));
}

TEST_F(ConsoleService, EscapeThenEnterRunsTheLine) {
    shell_.answers["ls"] = {UMKA_KABI_OK, ""};
    EXPECT_EQ(run("ls\x1b\rls\x1b[\r"), UMKA_KABI_EIO);
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"ls", "ls"}));
}

TEST_F(ConsoleService, CtrlCEndsAnEscapeSequenceAndDropsTheLine) {
    EXPECT_EQ(run("abc\x1b[\x03"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> abc^C\r\numka> ");
    EXPECT_EQ(line(), "");
}

TEST_F(ConsoleService, RetriesEagainAndCompletesShortWrites) {
    shell_.answers["mods"] = {UMKA_KABI_OK, "a\nb\n"};
    device_.write_chunk = 2;
    device_.reads_answering_eagain = 3;
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> mods\r\na\r\nb\r\numka> ");
}

TEST_F(ConsoleService, WriteFailureEndsRunWithEIO) {
    device_.write_budget = 3;  // half the prompt, then EIO
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umk");
    EXPECT_EQ(device_.position, 0u);  // never got to read
    EXPECT_THAT(harness_.log().lines(),
                Contains("console: char device write failed (errno 5); console stops"));
}

TEST_F(ConsoleService, OpenFailureIsENODEV) {
    device_.open_status = UMKA_KABI_EBUSY;
    EXPECT_EQ(run("mods\r"), UMKA_KABI_ENODEV);
    EXPECT_EQ(device_.output, "");
    EXPECT_THAT(harness_.log().lines(), Contains("console: opening ttyFAKE failed (errno 16)"));
}

// console_command.Interrupt, as a long command asks it.
class ConsoleInterrupt : public ConsoleService {
protected:
    void SetUp() override {
        ASSERT_NO_FATAL_FAILURE(ConsoleService::SetUp());
        ASSERT_TRUE(
            harness_.bind_provided(*module_, "console_command", "Interrupt", &interrupt_).is_ok());
        add_command_set(long_command_, "workload");
        long_command_.while_running = [this] {
            uint8_t interrupted = 0xFF;
            Status status = interrupt_.poll(&interrupted);
            answers_.push_back(status.is_ok() ? int(interrupted) : -status.code());
        };
    }
    umka::kabi::console_command::InterruptRef interrupt_;
    FakeCommandSet long_command_{{"long"}, "long  runs long\n"};
    std::vector<int> answers_;  // each poll's `interrupted`, or minus its errno
};

TEST_F(ConsoleInterrupt, CtrlCTypedDuringACommandIsReported) {
    EXPECT_EQ(run("long\rxy\x03z"), UMKA_KABI_EIO);
    EXPECT_EQ(answers_, (std::vector<int>{1}));
    // The bytes typed during the command were taken by poll and dropped, not typed ahead.
    EXPECT_EQ(device_.position, device_.input.size());
    EXPECT_EQ(line(), "");
    EXPECT_EQ(state().command_phase, 0u);  // editing again
}

TEST_F(ConsoleInterrupt, WithoutCtrlCPollAnswersZeroAndDropsWhatWasTyped) {
    EXPECT_EQ(run("long\rabc"), UMKA_KABI_EIO);
    EXPECT_EQ(answers_, (std::vector<int>{0}));
    EXPECT_EQ(line(), "");
}

TEST_F(ConsoleInterrupt, TheFlagStaysSetUntilTheNextCommandStarts) {
    long_command_.while_running = [this] {
        for (int poll = 0; poll < 2; ++poll) {
            uint8_t interrupted = 0xFF;
            ASSERT_TRUE(interrupt_.poll(&interrupted).is_ok());
            answers_.push_back(interrupted);
        }
    };
    device_.input = "long\r\x03";
    device_.position = 0;
    // One command: Ctrl-C seen by the first poll, still reported by the second.
    EXPECT_EQ(console_.run().code(), UMKA_KABI_EIO);
    EXPECT_EQ(answers_, (std::vector<int>{1, 1}));
    answers_.clear();
    EXPECT_EQ(run("long\r"), UMKA_KABI_EIO);
    EXPECT_EQ(answers_, (std::vector<int>{0, 0}));
}

TEST_F(ConsoleInterrupt, OutsideACommandPollReadsNothing) {
    EXPECT_EQ(run("ab"), UMKA_KABI_EIO);
    device_.input = "\x03";
    device_.position = 0;
    int polls_before = device_.poll_calls;
    uint8_t interrupted = 0xFF;
    ASSERT_TRUE(interrupt_.poll(&interrupted).is_ok());
    EXPECT_EQ(interrupted, 0u);
    EXPECT_EQ(device_.position, 0u);
    EXPECT_EQ(device_.poll_calls, polls_before);
    EXPECT_EQ(line(), "ab");
}

TEST_F(ConsoleInterrupt, APollWithoutAnOutputIsEINVAL) {
    EXPECT_EQ(interrupt_.poll(nullptr).code(), UMKA_KABI_EINVAL);
}

TEST_F(ConsoleInterrupt, CtrlCAtThePromptDiscardsTheLineAndTheNextCommandIsNotInterrupted) {
    EXPECT_EQ(run("typed\x03long\r"), UMKA_KABI_EIO);
    EXPECT_EQ(answers_, (std::vector<int>{0}));
    EXPECT_THAT(device_.output, HasSubstr("umka> typed^C\r\numka> long\r\n"));
}

TEST_F(ConsoleService, TheLineBeingTypedSurvivesAReloadOfTheModule) {
    shell_.answers["part"] = {UMKA_KABI_OK, "done\n"};
    EXPECT_EQ(run("pa"), UMKA_KABI_EIO);
    ASSERT_EQ(line(), "pa");

    LoadOptions options;
    options.carried_states = module_->states;
    options.carried_states[0].origin = UMKA_STATE_ORIGIN_CARRIED;
    options.carried_memory = module_->state_memory;
    ASSERT_TRUE(harness_.unload(module_).is_ok()) << harness_.last_reason();
    ASSERT_NO_FATAL_FAILURE(load(options));

    device_.output.clear();
    EXPECT_EQ(run("rt\r"), UMKA_KABI_EIO);
    // The new instance shows the kept line after its prompt and goes on with it.
    EXPECT_EQ(device_.output, "umka> part\r\ndone\r\numka> ");
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"part"}));
}

}  // namespace
