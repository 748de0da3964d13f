#include "diagnostics.h"

#include <algorithm>

namespace kabi {

namespace {
// Messages quote names from the input, which can be as long as a file: keep both ends.
std::string clip_middle(const std::string& text) {
    constexpr size_t kept = 4 * kEchoContext;
    if (text.size() <= 2 * kept + 3) return text;
    return text.substr(0, kept) + "..." + text.substr(text.size() - kept);
}
}  // namespace

void DiagnosticSink::add_source(const std::string& file, std::string_view text) {
    for (const Source& source : sources_) {
        if (source.file == file) return;
    }
    sources_.push_back(Source{file, std::string(text)});
}

void DiagnosticSink::error(std::string code, SourceLocation location, std::string message,
                           std::string fix) {
    diagnostics_.push_back(Diagnostic{Severity::Error, std::move(code), std::move(location),
                                      std::move(message), std::move(fix)});
    ++error_count_;
}

void DiagnosticSink::warning(std::string code, SourceLocation location, std::string message,
                             std::string fix) {
    diagnostics_.push_back(Diagnostic{Severity::Warning, std::move(code), std::move(location),
                                      std::move(message), std::move(fix)});
}

void DiagnosticSink::note(SourceLocation location, std::string message) {
    diagnostics_.push_back(
        Diagnostic{Severity::Note, "note", std::move(location), std::move(message), {}});
}

std::string DiagnosticSink::source_line(const std::string& file, uint32_t line) const {
    for (const Source& source : sources_) {
        if (source.file != file) continue;
        size_t start = 0;
        for (uint32_t current = 1; current < line; ++current) {
            size_t next = source.text.find('\n', start);
            if (next == std::string::npos) return {};
            start = next + 1;
        }
        size_t end = source.text.find('\n', start);
        if (end == std::string::npos) end = source.text.size();
        return source.text.substr(start, end - start);
    }
    return {};
}

std::string DiagnosticSink::render(const Diagnostic& diagnostic) const {
    const SourceLocation& location = diagnostic.location;
    std::string out = location.file + ":" + std::to_string(location.line) + ":" +
                      std::to_string(location.column) + ": ";
    switch (diagnostic.severity) {
    case Severity::Error:
        out += "error[" + diagnostic.code + "]: ";
        break;
    case Severity::Warning:
        out += "warning[" + diagnostic.code + "]: ";
        break;
    case Severity::Note:
        out += "note: ";
        break;
    }
    out += clip_middle(diagnostic.message) + "\n";
    std::string line = source_line(location.file, location.line);
    if (!line.empty() && location.line > 0) {
        // A generated or hostile file can have a line of megabytes: show a window of it
        // around the column, so the report stays readable and its size stays bounded.
        size_t column = std::min<size_t>(std::max<uint32_t>(location.column, 1), line.size() + 1);
        size_t first = column > kEchoContext + 1 ? column - 1 - kEchoContext : 0;
        size_t last = std::min(line.size(), column + kEchoContext);
        std::string prefix = first > 0 ? "..." : "";
        std::string shown =
            prefix + line.substr(first, last - first) + (last < line.size() ? "..." : "");
        out += "    " + shown + "\n    ";
        for (size_t index = 0; index < prefix.size(); ++index) out += ' ';
        for (size_t index = first; index + 1 < column; ++index) {
            out += line[index] == '\t' ? '\t' : ' ';
        }
        out += '^';
        size_t remaining = last > column - 1 ? last - (column - 1) : 1;
        size_t underline = std::min<size_t>(location.length, remaining);
        for (size_t index = 1; index < underline; ++index) out += '~';
        out += "\n";
    }
    if (!diagnostic.fix.empty()) out += "    fix: " + clip_middle(diagnostic.fix) + "\n";
    return out;
}

std::string DiagnosticSink::render_all() const {
    std::string out;
    for (const Diagnostic& diagnostic : diagnostics_) out += render(diagnostic);
    return out;
}

size_t edit_distance(std::string_view left, std::string_view right) {
    // Optimal string alignment: like Levenshtein, plus swapping two adjacent characters
    // costs one edit, since transposed letters (u23 for u32) are the commonest typo.
    std::vector<std::vector<size_t>> distance(left.size() + 1,
                                              std::vector<size_t>(right.size() + 1));
    for (size_t row = 0; row <= left.size(); ++row) distance[row][0] = row;
    for (size_t column = 0; column <= right.size(); ++column) distance[0][column] = column;
    for (size_t row = 1; row <= left.size(); ++row) {
        for (size_t column = 1; column <= right.size(); ++column) {
            size_t cost = left[row - 1] == right[column - 1] ? 0 : 1;
            distance[row][column] =
                std::min({distance[row - 1][column] + 1, distance[row][column - 1] + 1,
                          distance[row - 1][column - 1] + cost});
            if (row > 1 && column > 1 && left[row - 1] == right[column - 2] &&
                left[row - 2] == right[column - 1]) {
                distance[row][column] =
                    std::min(distance[row][column], distance[row - 2][column - 2] + 1);
            }
        }
    }
    return distance[left.size()][right.size()];
}

std::string closest_name(std::string_view name, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = name.size() / 3 + 2;  // farther than this is not a typo
    for (const std::string& candidate : candidates) {
        size_t distance = edit_distance(name, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

}  // namespace kabi
