// The line editor alone (line_editor.h): bytes in, events out, state checked after each.
#include "line_editor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using umka::console_service::EditEvent;
using umka::console_service::EditorFields;
using umka::console_service::EscapeState;
using umka::console_service::feed;
using umka::console_service::kLineCapacity;
using umka::console_service::LineStatus;

struct Editor {
    uint8_t line[kLineCapacity] = {};
    uint32_t length = 0;
    uint8_t previous_end = 0;
    uint8_t escape = 0;
    uint8_t line_status = 0;
    std::vector<std::string> lines;  // completed lines
    int refused = 0;
    int interrupted = 0;
    int bells = 0;
    std::string echo;

    EditorFields fields() { return {line, &length, &previous_end, &escape, &line_status}; }
    void type(const std::string& bytes) {
        for (char byte : bytes) {
            auto result = feed(fields(), static_cast<uint8_t>(byte));
            switch (result.event) {
            case EditEvent::Echo:
                echo += char(result.byte);
                break;
            case EditEvent::Erase:
                echo += "<";
                break;
            case EditEvent::Bell:
                ++bells;
                break;
            case EditEvent::LineComplete:
                lines.emplace_back(reinterpret_cast<char*>(line), result.length);
                break;
            case EditEvent::LineRefused:
                ++refused;
                break;
            case EditEvent::Interrupted:
                ++interrupted;
                break;
            case EditEvent::Ignored:
                break;
            }
        }
    }
    std::string typed() const { return std::string(reinterpret_cast<const char*>(line), length); }
};

TEST(LineEditor, PrintableBytesAreAppendedAndALineEndCompletesTheLine) {
    Editor editor;
    editor.type("mods\r");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"mods"}));
    EXPECT_EQ(editor.echo, "mods");
    EXPECT_EQ(editor.length, 0u);  // taken at completion
}

TEST(LineEditor, AnOverLongLineIsRefusedWholeAndNothingIsDelivered) {
    Editor editor;
    editor.type("evolve scheduler scheduler-v2.umod" + std::string(300, ' ') + "junk\r");
    EXPECT_TRUE(editor.lines.empty());
    EXPECT_EQ(editor.refused, 1);
    EXPECT_EQ(editor.bells, 1);  // the first byte over the limit; later ones are dropped
    EXPECT_EQ(editor.length, 0u);
    EXPECT_EQ(editor.line_status, uint8_t(LineStatus::Fits));
    // The next line is served as usual.
    editor.type("poweroff\r");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"poweroff"}));
}

TEST(LineEditor, ALineOfExactlyTheCapacityIsDelivered) {
    Editor editor;
    editor.type(std::string(kLineCapacity, 'a') + "\r");
    ASSERT_EQ(editor.lines.size(), 1u);
    EXPECT_EQ(editor.lines[0].size(), kLineCapacity);
    EXPECT_EQ(editor.bells, 0);
}

TEST(LineEditor, EraseDoesNotBringAnOverLongLineBack) {
    Editor editor;
    editor.type(std::string(kLineCapacity + 1, 'a') + "\b\b\r");
    EXPECT_TRUE(editor.lines.empty());
    EXPECT_EQ(editor.refused, 1);
}

TEST(LineEditor, CtrlCDiscardsAnOverLongLine) {
    Editor editor;
    editor.type(std::string(kLineCapacity + 5, 'a') + "\x03" + "ls\r");
    EXPECT_EQ(editor.interrupted, 1);
    EXPECT_EQ(editor.refused, 0);
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"ls"}));
}

TEST(LineEditor, HighBytesAreIgnoredAndSwallowNothing) {
    Editor editor;
    // 0x9B (8-bit CSI) and 0x8F (8-bit SS3) once marked escape states in the stored byte.
    editor.type("l\x9bs\rl\x8fs\r\x9b\x8f\xff\x80x\r");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"ls", "ls", "x"}));
    EXPECT_EQ(editor.escape, uint8_t(EscapeState::None));
}

TEST(LineEditor, EscapeThenEnterIsEnter) {
    Editor editor;
    editor.type("ls\x1b\r");
    editor.type("a\x1b[\r");    // inside a CSI
    editor.type("b\x1bO\r");    // inside an SS3
    editor.type("c\x1b[1;\r");  // inside a CSI's parameters
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"ls", "a", "b", "c"}));
}

TEST(LineEditor, ControlBytesInsideAnEscapeSequenceActAsThemselves) {
    Editor editor;
    editor.type("abc\x1b[\x03");
    EXPECT_EQ(editor.interrupted, 1);
    editor.type("xy\x1b\x7f\r");  // DEL ends the sequence and erases
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"x"}));
}

TEST(LineEditor, EscapeSequencesAreSwallowedWhole) {
    Editor editor;
    // Up arrow, F1, a CSI with parameters, Meta-x, ESC ESC [ B.
    editor.type("l\x1b[A\x1bOP\x1b[1;5C\x1bx\x1b\x1b[Bs\r");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"ls"}));
    EXPECT_EQ(editor.echo, "ls");
}

TEST(LineEditor, OtherControlBytesAreIgnored) {
    Editor editor;
    editor.type("l\x01\x02\x04\t\x07\x1fs\r");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"ls"}));
    EXPECT_EQ(editor.echo, "ls");
}

TEST(LineEditor, CrLfAndLfCrFoldIntoOneLineEnd) {
    Editor editor;
    editor.type("a\r\nb\n\rc\rd\r\n\r\n");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"a", "b", "c", "d", ""}));
    // An escape sequence between CR and LF does not join them.
    Editor other;
    other.type("a\r\x1b[A\n");
    EXPECT_EQ(other.lines, (std::vector<std::string>{"a", ""}));
}

TEST(LineEditor, BackspaceAndDeleteErase) {
    Editor editor;
    editor.type("\b\x7fmx\x7fod\bds\r");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"mods"}));
    EXPECT_EQ(editor.echo, "mx<od<ds");
}

TEST(LineEditor, InconsistentStoredStateStartsAFreshLine) {
    Editor editor;
    editor.length = kLineCapacity + 1;
    editor.escape = 0x9B;
    editor.previous_end = 7;
    editor.line_status = 9;
    editor.type("ok\r");
    EXPECT_EQ(editor.lines, (std::vector<std::string>{"ok"}));
    EXPECT_EQ(editor.escape, uint8_t(EscapeState::None));
}

}  // namespace
