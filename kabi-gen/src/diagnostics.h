// Diagnostics: every message names file:line:column, shows the offending text and, where
// kabi-gen can tell, the likely fix. Collected rather than thrown so one run reports all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kabi {

// A quoted source line shows at most this many bytes on each side of the column, with
// "..." where it was clipped (docs/kabi-idl.md §13).
inline constexpr size_t kEchoContext = 100;

struct SourceLocation {
    std::string file;     // path as given on the command line or found by import search
    uint32_t line = 0;    // 1-based
    uint32_t column = 0;  // 1-based, in bytes
    uint32_t length = 0;  // bytes of offending text, for the caret underline
};

enum class Severity { Error, Warning, Note };

struct Diagnostic {
    Severity severity = Severity::Error;
    std::string code;  // stable identifier, e.g. "duplicate-ordinal"; tests key on it
    SourceLocation location;
    std::string message;
    std::string fix;  // empty when there is no likely fix
};

// Owns the text of every source file so diagnostics can quote the offending line.
class DiagnosticSink {
public:
    void add_source(const std::string& file, std::string_view text);
    void error(std::string code, SourceLocation location, std::string message,
               std::string fix = {});
    void warning(std::string code, SourceLocation location, std::string message,
                 std::string fix = {});
    void note(SourceLocation location, std::string message);

    bool has_errors() const { return error_count_ > 0; }
    size_t error_count() const { return error_count_; }
    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

    // Renders "file:line:col: error[code]: message", the source line, a caret line, "fix: ...".
    std::string render(const Diagnostic& diagnostic) const;
    std::string render_all() const;

private:
    std::string source_line(const std::string& file, uint32_t line) const;

    struct Source {
        std::string file;
        std::string text;
    };
    std::vector<Source> sources_;
    std::vector<Diagnostic> diagnostics_;
    size_t error_count_ = 0;
};

// Levenshtein distance, used to suggest "did you mean" fixes for misspelt names.
size_t edit_distance(std::string_view left, std::string_view right);

// The closest candidate within a small distance, or empty.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace kabi
