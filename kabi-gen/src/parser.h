// Recursive-descent parser: tokens to a File. Grammar: docs/kabi-idl.md, "Grammar".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ast.h"
#include "diagnostics.h"

namespace kabi {

// Parses one file. Syntax errors go to the sink; the parser recovers at the next
// declaration so one run reports every broken declaration. Returns whatever parsed.
std::unique_ptr<File> parse_file(const std::string& path, std::string_view text,
                                 DiagnosticSink& sink);

}  // namespace kabi
