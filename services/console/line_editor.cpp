// The console's line editor (line_editor.h).
#include "line_editor.h"

namespace umka::console_service {
namespace {

constexpr uint8_t kControlC = 0x03;
constexpr uint8_t kBackspace = 0x08;
constexpr uint8_t kEscape = 0x1B;
constexpr uint8_t kDelete = 0x7F;

bool is_printable(uint8_t byte) {
    return byte >= 0x20 && byte <= 0x7E;
}

EscapeState escape_of(const EditorFields& fields) {
    return static_cast<EscapeState>(*fields.escape);
}

void set_escape(const EditorFields& fields, EscapeState state) {
    *fields.escape = static_cast<uint8_t>(state);
}

void start_line(const EditorFields& fields) {
    *fields.length = 0;
    *fields.line_status = static_cast<uint8_t>(LineStatus::Fits);
}

enum class EscapeStep : uint8_t {
    Swallowed,  // the byte belonged to the sequence
    Aborted,    // the sequence ended without the byte: it acts as itself
    NotInside,  // no sequence: the byte acts as itself
};

// Escape sequences are swallowed whole: there is no history or cursor movement, and their
// bytes must not land in the line. A control byte (or DEL) inside one ends it and then
// acts as itself, so no sequence can hide a line end or a Ctrl-C.
EscapeStep step_escape(const EditorFields& fields, uint8_t byte) {
    EscapeState state = escape_of(fields);
    if (state == EscapeState::None) {
        if (byte != kEscape) return EscapeStep::NotInside;
        set_escape(fields, EscapeState::Escape);
        return EscapeStep::Swallowed;
    }
    if (byte == kEscape) {  // a new sequence starts over the unfinished one
        set_escape(fields, EscapeState::Escape);
        return EscapeStep::Swallowed;
    }
    if (!is_printable(byte)) {
        set_escape(fields, EscapeState::None);
        return EscapeStep::Aborted;
    }
    switch (state) {
    case EscapeState::Escape:
        set_escape(fields, byte == '['   ? EscapeState::Csi
                           : byte == 'O' ? EscapeState::Ss3
                                         : EscapeState::None);  // ESC x: Meta-x
        return EscapeStep::Swallowed;
    case EscapeState::Csi:
        // Parameter (0x30-0x3F) and intermediate (0x20-0x2F) bytes go on; 0x40-0x7E ends.
        if (byte > 0x3F) set_escape(fields, EscapeState::None);
        return EscapeStep::Swallowed;
    case EscapeState::Ss3:
    case EscapeState::None:
        break;
    }
    set_escape(fields, EscapeState::None);
    return EscapeStep::Swallowed;
}

EditResult result(EditEvent event, uint8_t byte = 0, uint32_t length = 0) {
    return EditResult{event, byte, length};
}

}  // namespace

void repair(const EditorFields& fields) {
    if (*fields.escape > static_cast<uint8_t>(EscapeState::Ss3)) {
        set_escape(fields, EscapeState::None);
    }
    if (*fields.previous_end > static_cast<uint8_t>(LineEnd::LineFeed)) {
        *fields.previous_end = static_cast<uint8_t>(LineEnd::None);
    }
    if (*fields.length > kLineCapacity ||
        *fields.line_status > static_cast<uint8_t>(LineStatus::TooLong)) {
        start_line(fields);
    }
}

EditResult feed(const EditorFields& fields, uint8_t byte) {
    repair(fields);
    EscapeStep escape = step_escape(fields, byte);
    LineEnd previous_end = static_cast<LineEnd>(*fields.previous_end);
    *fields.previous_end = static_cast<uint8_t>(LineEnd::None);
    if (escape == EscapeStep::Swallowed) return result(EditEvent::Ignored);

    if (byte == '\r' || byte == '\n') {
        LineEnd end = byte == '\r' ? LineEnd::CarriageReturn : LineEnd::LineFeed;
        // The second half of CR LF or LF CR. Forgotten, so CR LF CR LF is two lines.
        if (previous_end != LineEnd::None && previous_end != end) return result(EditEvent::Ignored);
        *fields.previous_end = static_cast<uint8_t>(end);
        bool too_long = static_cast<LineStatus>(*fields.line_status) == LineStatus::TooLong;
        uint32_t length = *fields.length;
        start_line(fields);
        return too_long ? result(EditEvent::LineRefused)
                        : result(EditEvent::LineComplete, 0, length);
    }
    if (byte == kControlC) {
        start_line(fields);
        return result(EditEvent::Interrupted);
    }
    bool too_long = static_cast<LineStatus>(*fields.line_status) == LineStatus::TooLong;
    if (byte == kBackspace || byte == kDelete) {
        if (too_long || *fields.length == 0) return result(EditEvent::Ignored);
        *fields.length -= 1;
        return result(EditEvent::Erase);
    }
    if (!is_printable(byte) || too_long) return result(EditEvent::Ignored);
    if (*fields.length == kLineCapacity) {
        *fields.line_status = static_cast<uint8_t>(LineStatus::TooLong);
        return result(EditEvent::Bell);
    }
    fields.line[(*fields.length)++] = byte;
    return result(EditEvent::Echo, byte);
}

}  // namespace umka::console_service
