// console_service through the host harness (console_test_fixture.h): the real
// console_service.elf (the file that is signed and boots) on fakes.
#include "console_test_fixture.h"

namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using namespace umka::console_test;

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
    // run() returned after the command and was called again; it said "serving" once.
    EXPECT_EQ(commands_run_, 1);
    EXPECT_EQ(std::count(harness_.log().lines().begin(), harness_.log().lines().end(),
                         "console: serving ttyFAKE"),
              1);
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
    EXPECT_EQ(commands_run_, 4);  // an empty line is no command: run() goes on
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
    // The shell's set was asked first (the same words): a module cannot take over a shell
    // command's name.
    EXPECT_EQ(shell_.lines, (std::vector<std::string>{"hello big world"}));
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
    // Nobody knows "three": the console names it.
    EXPECT_EQ(device_.output,
              "umka> two x\r\nsecond\r\numka> three\r\nthree: unknown command\r\numka> ");
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

TEST_F(ConsoleService, RetriesAWriteTheDriverCrashedIn) {
    shell_.answers["mods"] = {UMKA_KABI_OK, "a\n"};
    device_.crashed_writes = 3;  // the driver crashed (EIO) and came back three times
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> mods\r\na\r\numka> ");
}

TEST_F(ConsoleService, OpensAgainADeviceARestartWithFreshStateLeftClosed) {
    shell_.answers["mods"] = {UMKA_KABI_OK, "a\n"};
    device_.writes_before_reset = 1;  // the prompt goes out, then the driver starts fresh
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> mods\r\na\r\numka> ");
    // At the start, again after the reset, and by the run() that follows the command.
    EXPECT_EQ(device_.open_calls, 3);
    EXPECT_THAT(harness_.log().lines(),
                Contains("console: the char device was closed under it (a restart with fresh "
                         "state); opened it again"));
}

TEST_F(ConsoleService, StopsWhenTheDeviceStaysClosedAfterOpeningAgain) {
    device_.writes_before_reset = 1;
    device_.stays_closed = true;
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "umka> ");
    EXPECT_EQ(device_.open_calls, 2);  // once at the start, once again: not a loop
    EXPECT_THAT(harness_.log().lines(),
                Contains("console: char device read failed (errno 9); console stops"));
}

TEST_F(ConsoleService, GivesUpAfterFourCrashedWritesInARow) {
    device_.crashed_writes = 4;
    EXPECT_EQ(run("mods\r"), UMKA_KABI_EIO);
    EXPECT_EQ(device_.output, "");
    EXPECT_THAT(harness_.log().lines(),
                Contains("console: char device write failed (errno 5); console stops"));
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
    EXPECT_EQ(state().command_phase, 1u);  // editing again
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
    // One command: Ctrl-C seen by the first poll, still reported by the second.
    EXPECT_EQ(run("long\r\x03"), UMKA_KABI_EIO);
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
