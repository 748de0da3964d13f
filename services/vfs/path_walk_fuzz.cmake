# libFuzzer target over the path walk (path_walk_fuzzer.cpp states the invariants), run for
# a bounded time. Needs clang's fuzzer runtime (libclang-rt-14-dev); without it the test is
# not registered and configure says why.
include(LibFuzzer)
if(NOT UMKA_LIBFUZZER_CLANG)
  message(STATUS "vfs: clang libFuzzer runtime not found (apt-get install clang "
                 "libclang-rt-14-dev); path_walk_fuzz test not registered")
  return()
endif()

set(path_walk_fuzz_sources ${CMAKE_CURRENT_SOURCE_DIR}/path_walk_fuzzer.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/path_walk.cpp)
set(path_walk_fuzzer ${CMAKE_CURRENT_BINARY_DIR}/path_walk_fuzzer)
add_custom_command(OUTPUT ${path_walk_fuzzer}
  COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${CMAKE_CURRENT_SOURCE_DIR}
          -I${CMAKE_BINARY_DIR}/kabi-gen/generated ${path_walk_fuzz_sources} -o ${path_walk_fuzzer}
  DEPENDS ${path_walk_fuzz_sources} ${CMAKE_CURRENT_SOURCE_DIR}/path_walk.h kabi_headers
  COMMENT "clang: building the path walk fuzzer"
  VERBATIM)
add_custom_target(umka_path_walk_fuzzer ALL DEPENDS ${path_walk_fuzzer})

set(path_walk_corpus ${CMAKE_CURRENT_BINARY_DIR}/path_walk_fuzz_corpus)
file(MAKE_DIRECTORY ${path_walk_corpus})
add_test(NAME path_walk_fuzz
  COMMAND ${path_walk_fuzzer} -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -max_len=8192
          -print_final_stats=1 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/path-walk-
          ${path_walk_corpus})
set_tests_properties(path_walk_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
