#include "nucleus/bundle/boot_manifest.h"

#include "umka/number_text.h"

namespace umka::bundle {
namespace {

bool is_blank(char character) {
    return character == ' ' || character == '\t' || character == '\r';
}

struct Cursor {
    const char* line;
    size_t length;
    size_t position = 0;

    void skip_blanks() {
        while (position < length && is_blank(line[position])) ++position;
    }
    bool at_end() {
        skip_blanks();
        return position >= length || line[position] == '#';
    }
    TextSpan word() {
        skip_blanks();
        size_t start = position;
        while (position < length && !is_blank(line[position])) ++position;
        return TextSpan{line + start, position - start};
    }
    uint32_t column_of(const TextSpan& span) const { return uint32_t(span.text - line) + 1; }
};

bool starts_with(const TextSpan& span, const char* prefix, TextSpan& rest) {
    size_t length = 0;
    while (prefix[length] != '\0') ++length;
    if (span.length < length) return false;
    for (size_t index = 0; index < length; ++index) {
        if (span.text[index] != prefix[index]) return false;
    }
    rest = TextSpan{span.text + length, span.length - length};
    return true;
}

bool parse_number(const TextSpan& text, uint32_t limit, uint32_t& value) {
    ParsedNumber parsed = parse_unsigned(text.text, text.length, limit);
    value = uint32_t(parsed.value);
    return parsed.ok();
}

// ports=BASE+COUNT, within the 64 Ki port space.
bool parse_ports(const TextSpan& text, uint16_t& base, uint16_t& count) {
    size_t plus = 0;
    while (plus < text.length && text.text[plus] != '+') ++plus;
    if (plus == text.length) return false;
    uint32_t first = 0, length = 0;
    if (!parse_number(TextSpan{text.text, plus}, 0xFFFF, first) ||
        !parse_number(TextSpan{text.text + plus + 1, text.length - plus - 1}, 0x10000, length)) {
        return false;
    }
    if (length == 0 || first + length > 0x10000) return false;
    base = uint16_t(first);
    count = uint16_t(length == 0x10000 ? 0xFFFF : length);
    return true;
}

Status fail(ManifestError& error, uint32_t line, uint32_t column, const char* reason) {
    error = ManifestError{line, column, reason};
    return Errno::InvalidArgument;
}

Status parse_module(Cursor& cursor, uint32_t line_number, const ManifestVisitor& visitor,
                    ManifestError& error, ModuleRequest& request) {
    request.file = cursor.word();
    if (request.file.length == 0) {
        return fail(error, line_number, uint32_t(cursor.position) + 1,
                    "'module' needs a file name from the bundle");
    }
    while (!cursor.at_end()) {
        TextSpan option = cursor.word();
        TextSpan value;
        uint32_t column = cursor.column_of(option);
        if (starts_with(option, "tier=", value)) {
            if (value.length != 1 || value.text[0] < '0' || value.text[0] > '0' + kMaximumTier) {
                return fail(error, line_number, column, "tier must be 0, 1 or 2");
            }
            request.tier = uint8_t(value.text[0] - '0');
        } else if (starts_with(option, "transport=", value)) {
            if (value.equals("direct")) {
                request.transport = Transport::Direct;
            } else if (value.equals("ring")) {
                request.transport = Transport::Ring;
            } else if (value.equals("ipc")) {
                request.transport = Transport::Ipc;
            } else {
                return fail(error, line_number, column, "transport must be direct, ring or ipc");
            }
        } else if (starts_with(option, "ports=", value)) {
            if (!parse_ports(value, request.port_base, request.port_count)) {
                return fail(error, line_number, column,
                            "ports must be BASE+COUNT inside 0..0xffff (e.g. ports=0x3f8+8)");
            }
        } else if (starts_with(option, "irq=", value)) {
            uint32_t irq = 0;
            if (!parse_number(value, 15, irq)) {
                return fail(error, line_number, column, "irq must be an ISA IRQ, 0 to 15");
            }
            request.isa_irq = uint8_t(irq);
        } else if (option.equals("critical")) {
            request.criticality = Criticality::Critical;
        } else if (option.equals("ecam")) {
            request.configuration_space = ConfigurationSpace::Ecam;
        } else {
            return fail(
                error, line_number, column,
                "unknown module option (expected tier=N, transport=T, ports=B+N, irq=N, ecam "
                "or critical)");
        }
    }
    if (visitor.module != nullptr) visitor.module(visitor.context, request);
    return Status::ok();
}

Status parse_parameter(Cursor& cursor, uint32_t line_number, const ManifestVisitor& visitor,
                       ManifestError& error) {
    TextSpan assignment = cursor.word();
    uint32_t column = cursor.column_of(assignment);
    size_t equals = 0;
    while (equals < assignment.length && assignment.text[equals] != '=') ++equals;
    if (assignment.length == 0 || equals == 0 || equals == assignment.length) {
        return fail(error, line_number, column, "'param' needs key=value");
    }
    if (!cursor.at_end()) {
        return fail(error, line_number, uint32_t(cursor.position) + 1,
                    "text after key=value (values cannot contain blanks)");
    }
    Parameter parameter{TextSpan{assignment.text, equals},
                        TextSpan{assignment.text + equals + 1, assignment.length - equals - 1}};
    if (visitor.parameter != nullptr) visitor.parameter(visitor.context, parameter);
    return Status::ok();
}

// A bad module line still names its file and, if the word appears anywhere on it, that it
// is critical: the loader refuses that module by name (and stops the boot if it is critical)
// instead of loading whatever else the line might have meant.
void report_bad_module(Cursor& cursor, const ManifestVisitor& visitor, const ManifestError& error,
                       ModuleRequest& request) {
    while (!cursor.at_end()) {
        if (cursor.word().equals("critical")) request.criticality = Criticality::Critical;
    }
    if (visitor.malformed != nullptr) visitor.malformed(visitor.context, error, &request);
}

}  // namespace

bool TextSpan::equals(const char* other) const {
    size_t index = 0;
    for (; index < length; ++index) {
        if (other[index] == '\0' || other[index] != text[index]) return false;
    }
    return other[index] == '\0';
}

const char* transport_name(Transport transport) {
    switch (transport) {
    case Transport::Direct:
        return "direct";
    case Transport::Ring:
        return "ring";
    case Transport::Ipc:
        return "ipc";
    }
    return "?";
}

Status parse_boot_manifest(const char* text, size_t length, const ManifestVisitor& visitor,
                           ManifestError& error) {
    uint32_t line_number = 0;
    size_t start = 0;
    bool failed = false;
    while (start < length) {
        size_t end = start;
        while (end < length && text[end] != '\n') ++end;
        ++line_number;
        Cursor cursor{text + start, end - start};
        if (!cursor.at_end()) {
            TextSpan keyword = cursor.word();
            ManifestError line_error{};
            if (keyword.equals("module")) {
                ModuleRequest request;
                if (parse_module(cursor, line_number, visitor, line_error, request).is_error()) {
                    report_bad_module(cursor, visitor, line_error, request);
                }
            } else if (keyword.equals("param")) {
                if (parse_parameter(cursor, line_number, visitor, line_error).is_error() &&
                    visitor.malformed != nullptr) {
                    visitor.malformed(visitor.context, line_error, nullptr);
                }
            } else {
                (void)fail(line_error, line_number, cursor.column_of(keyword),
                           "unknown keyword (expected 'module' or 'param')");
                if (visitor.malformed != nullptr)
                    visitor.malformed(visitor.context, line_error, nullptr);
            }
            if (line_error.reason != nullptr && !failed) {
                error = line_error;
                failed = true;
            }
        }
        start = end + 1;
    }
    if (failed) return Errno::InvalidArgument;
    return Status::ok();
}

}  // namespace umka::bundle
