# libFuzzer target over the module loader and manifest parser. Needs clang with its fuzzer
# runtime (libclang-rt-14-dev); without it the test is not registered and configure says why.
find_program(UMKA_MODULE_FUZZ_CLANG NAMES clang++-14 clang++)
set(UMKA_MODULE_FUZZ_AVAILABLE FALSE)
if(UMKA_MODULE_FUZZ_CLANG)
  set(probe_dir ${CMAKE_CURRENT_BINARY_DIR}/module_fuzz_probe)
  file(WRITE ${probe_dir}/probe.cpp
    "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
  execute_process(COMMAND ${UMKA_MODULE_FUZZ_CLANG} -fsanitize=fuzzer,address ${probe_dir}/probe.cpp -o ${probe_dir}/probe
    RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_QUIET)
  if(probe_result EQUAL 0)
    set(UMKA_MODULE_FUZZ_AVAILABLE TRUE)
  endif()
endif()
if(NOT UMKA_MODULE_FUZZ_AVAILABLE)
  message(STATUS "module: clang libFuzzer runtime not found (apt-get install clang libclang-rt-14-dev); "
                 "module_loader_fuzz test not registered")
  return()
endif()

set(fuzz_sources ${UMKA_MODULE_TEST_DIR}/module_loader_fuzzer.cpp ${UMKA_MODULE_PURE_SOURCES}
  ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp ${PROJECT_SOURCE_DIR}/nucleus/lib/format.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/bundle/boot_manifest.cpp)
set(fuzzer ${CMAKE_CURRENT_BINARY_DIR}/module_loader_fuzzer)
get_target_property(kabi_include umka_kabi_headers INTERFACE_INCLUDE_DIRECTORIES)
# Built by clang directly (the project compiler is g++): one command, all sources.
add_custom_command(OUTPUT ${fuzzer}
  COMMAND ${UMKA_MODULE_FUZZ_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${PROJECT_SOURCE_DIR} -I${UMKA_MODULE_SDK_INCLUDE}
          -I${kabi_include} ${fuzz_sources} -o ${fuzzer}
  DEPENDS ${fuzz_sources} kabi_headers
  COMMENT "clang: building the module loader fuzzer"
  VERBATIM)
add_custom_target(umka_module_loader_fuzzer ALL DEPENDS ${fuzzer})

# Bounded run: 10 s, seeded with every fixture module (good, broken, patched); new inputs go
# to the build tree.
set(corpus ${CMAKE_CURRENT_BINARY_DIR}/module_fuzz_corpus)
file(MAKE_DIRECTORY ${corpus})
add_test(NAME module_loader_fuzz
  COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
          ${fuzzer} -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -max_len=65536
          -print_final_stats=1 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/
          ${corpus} ${UMKA_MODULE_FIXTURE_OUTPUT_DIR})
set_tests_properties(module_loader_fuzz PROPERTIES LABELS "host;module;fuzz" TIMEOUT 90)

# The dependency resolver (fuzzed bundles of manifests) and state import (fuzzed regions and
# import functions), built and run the same way: 10 s each.
function(umka_bounded_fuzzer name)
  set(binary ${CMAKE_CURRENT_BINARY_DIR}/${name})
  add_custom_command(OUTPUT ${binary}
    COMMAND ${UMKA_MODULE_FUZZ_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=undefined -I${PROJECT_SOURCE_DIR} -I${UMKA_MODULE_SDK_INCLUDE}
            -I${UMKA_MODULE_TEST_DIR} -I${kabi_include} ${ARGN} -o ${binary}
    DEPENDS ${ARGN} kabi_headers
    COMMENT "clang: building ${name}"
    VERBATIM)
  add_custom_target(umka_${name} ALL DEPENDS ${binary})
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
  file(MAKE_DIRECTORY ${corpus})
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
            ${binary} -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -max_len=4096
            -print_final_stats=1 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/${name}- ${corpus})
  set_tests_properties(${name} PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
endfunction()

umka_bounded_fuzzer(dependency_resolver_fuzz ${UMKA_MODULE_TEST_DIR}/dependency_resolver_fuzzer.cpp
  ${UMKA_MODULE_PURE_SOURCES} ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/lib/format.cpp ${PROJECT_SOURCE_DIR}/nucleus/bundle/boot_manifest.cpp)
umka_bounded_fuzzer(state_import_fuzz ${PROJECT_SOURCE_DIR}/test/host/evolution/state_import_fuzzer.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/evolution/state_transfer.cpp
  ${UMKA_MODULE_DIR}/diagnostic.cpp ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/lib/format.cpp)
