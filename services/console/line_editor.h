// The console's line editor: a pure state machine fed one input byte at a time. It knows
// nothing of devices or commands; console.cpp writes what each event asks for and runs
// the lines it completes. Its state is a view of ConsoleState fields (nucleus memory), so a
// swap of the console module in the middle of a line keeps the line, the pending CR LF
// fold, the escape sequence being swallowed and an over-long line's refusal.
//
// What each byte does (services/console/README.md, "Line editing"):
//   printable ASCII 0x20-0x7E  appended and echoed; once the line holds kLineCapacity bytes
//                              the line is over-long: the first extra byte rings the bell,
//                              later ones are dropped, and Enter refuses the line whole
//   CR, LF                     end the line (CR LF and LF CR count as one line end)
//   BS 0x08, DEL 0x7F          erase the last byte (nothing on an empty or over-long line)
//   Ctrl-C 0x03                discards the line being typed
//   ESC 0x1B                   starts an escape sequence, swallowed whole (arrow keys
//                              send ESC [ A, function keys ESC O P); a control byte inside
//                              one ends it and acts as itself, so Esc then Enter is Enter
//   any other byte             ignored: other control bytes, and bytes >= 0x80 (one
//                              backspace could not erase a multi-byte character; 8-bit C1
//                              controls such as 0x9B are not interpreted)
#pragma once

#include <stdint.h>

namespace umka::console_service {

// Bytes a line may hold (ConsoleState.line).
inline constexpr uint32_t kLineCapacity = 256;

// Where the editor is inside an escape sequence (ConsoleState.escape).
enum class EscapeState : uint8_t { None = 0, Escape = 1, Csi = 2, Ss3 = 3 };

// Whether the line being typed still fits (ConsoleState.line_status).
enum class LineStatus : uint8_t { Fits = 0, TooLong = 1 };

// The last byte that ended a line, for folding CR LF and LF CR (ConsoleState.previous_end).
enum class LineEnd : uint8_t { None = 0, CarriageReturn = 1, LineFeed = 2 };

enum class EditEvent : uint8_t {
    Ignored,       // nothing to show
    Echo,          // `byte` was appended: echo it
    Erase,         // the last byte was erased: move back over it
    Bell,          // the line just became over-long: ring the bell
    LineComplete,  // a line ended: run line[0, length); the editor already starts a new one
    LineRefused,   // an over-long line ended: say so, run nothing
    Interrupted,   // Ctrl-C: the line was discarded
};

struct EditResult {
    EditEvent event;
    uint8_t byte;     // for Echo
    uint32_t length;  // for LineComplete: bytes of the completed line, still in `line`
};

// The editor's state, as fields of ConsoleState. Values outside their enum (a state
// region carried from a broken build) are read as the start of a fresh line.
struct EditorFields {
    uint8_t* line;  // kLineCapacity bytes
    uint32_t* length;
    uint8_t* previous_end;  // LineEnd
    uint8_t* escape;        // EscapeState
    uint8_t* line_status;   // LineStatus
};

// Makes stored state consistent (a length over the capacity, an enum value out of range:
// the line starts over). run() calls it before serving.
void repair(const EditorFields& fields);

// One input byte.
EditResult feed(const EditorFields& fields, uint8_t byte);

}  // namespace umka::console_service
