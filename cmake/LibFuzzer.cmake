# clang with libFuzzer's runtime, probed once per configure for every fuzz target of the
# tree: UMKA_LIBFUZZER_CLANG is that compiler, or empty when there is none (Debian: apt-get
# install clang libclang-rt-14-dev). The fuzzers are built by clang directly (the project
# compiler is g++), each with one add_custom_command.
include_guard(GLOBAL)
find_program(UMKA_LIBFUZZER_CLANG_PROGRAM NAMES clang++-14 clang++)
set(libfuzzer_probe ${CMAKE_BINARY_DIR}/libfuzzer_probe)
file(WRITE ${libfuzzer_probe}/probe.cpp
  "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
set(libfuzzer_probe_result 1)
if(UMKA_LIBFUZZER_CLANG_PROGRAM)
  execute_process(COMMAND ${UMKA_LIBFUZZER_CLANG_PROGRAM} -fsanitize=fuzzer,address
                          ${libfuzzer_probe}/probe.cpp -o ${libfuzzer_probe}/probe
                  RESULT_VARIABLE libfuzzer_probe_result OUTPUT_QUIET ERROR_QUIET)
endif()
if(libfuzzer_probe_result EQUAL 0)
  set(UMKA_LIBFUZZER_CLANG ${UMKA_LIBFUZZER_CLANG_PROGRAM} CACHE INTERNAL "clang with libFuzzer")
else()
  set(UMKA_LIBFUZZER_CLANG "" CACHE INTERNAL "clang with libFuzzer")
endif()
