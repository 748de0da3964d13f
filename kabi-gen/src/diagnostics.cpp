#include "diagnostics.h"

#include <algorithm>

namespace kabi {

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
    out += diagnostic.message + "\n";
    std::string line = source_line(location.file, location.line);
    if (!line.empty() && location.line > 0) {
        out += "    " + line + "\n    ";
        for (uint32_t column = 1; column < location.column && column <= line.size(); ++column) {
            out += line[column - 1] == '\t' ? '\t' : ' ';
        }
        out += '^';
        for (uint32_t index = 1; index < location.length; ++index) out += '~';
        out += "\n";
    }
    if (!diagnostic.fix.empty()) out += "    fix: " + diagnostic.fix + "\n";
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
