// Every generator kabi-gen has. Each returns the text of one output file; the driver
// decides file names (see output_paths.h) and writes them.
#pragma once

#include <string>
#include <vector>

#include "ast.h"

namespace kabi {

// umka/kabi/kabi_base.h: status, errno values, vtable header, ring entries, manifest
// records, shared by C and C++ and by every package.
std::string emit_base_header();

std::string emit_cpp_header(const File& file);       // umka/kabi/<package>.hpp
std::string emit_c_header(const File& file);         // umka/kabi/<package>.h
std::string emit_ring_header(const File& file);      // umka/kabi/<package>_ring.hpp
std::string emit_manifest_header(const File& file);  // umka/kabi/<package>_manifest.hpp
std::string emit_state_header(const File& file);     // umka/kabi/<package>_state.hpp

// Programs printing "name value" for every sizeof/alignof/offsetof of every struct, one
// compiled as C11 and one as C++20; the layout test compares their output.
std::string emit_layout_probe_c(const std::vector<const File*>& files);
std::string emit_layout_probe_cpp(const std::vector<const File*>& files);

// umka/kabi/ring_adapter_table.hpp: the nucleus's table of every interface a ring binding
// can carry (transport allows ring, tier range includes 1, provided by a module that
// allows ring, required by a module that allows ring at tier 1), over every file of the run.
std::string emit_ring_adapter_table(const std::vector<const File*>& files);

// Graphviz: modules, the vtables they provide and require.
std::string emit_graph(const std::vector<const File*>& files);

}  // namespace kabi
