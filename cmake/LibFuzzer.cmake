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

# umka_add_fuzz_test(<test> SOURCES <file>... [INCLUDES <dir>...] [DEPENDS <file|target>...]
#                    [SECONDS <n>] [MAX_LEN <n>])
# One bounded libFuzzer test: clang builds <binary dir>/<test>er from SOURCES (ASan, UBSan,
# the fuzzer runtime; INCLUDES on the include path, rebuilt when DEPENDS change), and the
# ctest <test> runs it for SECONDS (10) on inputs up to MAX_LEN bytes (4096), keeping what it
# finds in <binary dir>/<test>_corpus. Without clang's fuzzer runtime configure says so
# and nothing is registered.
function(umka_add_fuzz_test name)
  cmake_parse_arguments(ARG "" "SECONDS;MAX_LEN" "SOURCES;INCLUDES;DEPENDS" ${ARGN})
  if(NOT UMKA_LIBFUZZER_CLANG)
    message(STATUS "${name}: clang libFuzzer runtime not found (apt-get install clang "
                   "libclang-rt-14-dev); test not registered")
    return()
  endif()
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS 10)
  endif()
  if(NOT ARG_MAX_LEN)
    set(ARG_MAX_LEN 4096)
  endif()
  set(binary ${CMAKE_CURRENT_BINARY_DIR}/${name}er)
  set(include_flags)
  foreach(directory ${ARG_INCLUDES})
    list(APPEND include_flags -I${directory})
  endforeach()
  add_custom_command(OUTPUT ${binary}
    COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=undefined ${include_flags} ${ARG_SOURCES} -o ${binary}
    DEPENDS ${ARG_SOURCES} ${ARG_DEPENDS}
    COMMENT "clang: building ${name}er"
    VERBATIM)
  add_custom_target(umka_${name}er ALL DEPENDS ${binary})
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
  file(MAKE_DIRECTORY ${corpus})
  add_test(NAME ${name}
    COMMAND ${binary} -max_total_time=${ARG_SECONDS} -timeout=5 -rss_limit_mb=2048
            -max_len=${ARG_MAX_LEN} -print_final_stats=1
            -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/${name}- ${corpus})
  set_tests_properties(${name} PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
endfunction()
