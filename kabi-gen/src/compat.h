// The compatibility checker: compares an old and a new version of one package and
// classifies every change. Rules: docs/kabi-idl.md "Evolution rules".
#pragma once

#include <string>
#include <vector>

#include "ast.h"
#include "diagnostics.h"

namespace kabi {

enum class Compatibility { Compatible, NeedsReview, Incompatible };

const char* compatibility_name(Compatibility compatibility);

struct CompatFinding {
    Compatibility compatibility;
    std::string rule;  // stable id, e.g. "method-removed"; tests key on it
    std::string message;
    SourceLocation old_location;  // line 0 when the thing is new
    SourceLocation new_location;  // line 0 when the thing is gone
};

std::vector<CompatFinding> compare_packages(const File& old_file, const File& new_file);

// "incompatible[method-removed]: message\n  old: file:l:c\n  new: file:l:c\n".
std::string render_finding(const CompatFinding& finding);

}  // namespace kabi
