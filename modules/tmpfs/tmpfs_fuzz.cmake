# libFuzzer target over the tmpfs store (tmpfs_store_fuzzer.cpp states the invariants), run
# for a bounded time. Needs clang's fuzzer runtime (libclang-rt-14-dev); without it the test
# is not registered and configure says why.
include(LibFuzzer)
if(NOT UMKA_LIBFUZZER_CLANG)
  message(STATUS "tmpfs: clang libFuzzer runtime not found (apt-get install clang "
                 "libclang-rt-14-dev); tmpfs_store_fuzz test not registered")
  return()
endif()

set(tmpfs_fuzz_sources
  ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store_fuzzer.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_directory.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store_check.cpp)
set(tmpfs_fuzzer ${CMAKE_CURRENT_BINARY_DIR}/tmpfs_store_fuzzer)
add_custom_command(OUTPUT ${tmpfs_fuzzer}
  COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${CMAKE_CURRENT_SOURCE_DIR}
          -I${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include -I${CMAKE_BINARY_DIR}/kabi-gen/generated
          ${tmpfs_fuzz_sources} -o ${tmpfs_fuzzer}
  DEPENDS ${tmpfs_fuzz_sources} ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store.h kabi_headers
  COMMENT "clang: building the tmpfs store fuzzer"
  VERBATIM)
add_custom_target(umka_tmpfs_store_fuzzer ALL DEPENDS ${tmpfs_fuzzer})

set(tmpfs_corpus ${CMAKE_CURRENT_BINARY_DIR}/tmpfs_store_fuzz_corpus)
file(MAKE_DIRECTORY ${tmpfs_corpus})
add_test(NAME tmpfs_store_fuzz
  COMMAND ${tmpfs_fuzzer} -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -max_len=1024
          -print_final_stats=1 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/tmpfs-store-
          ${tmpfs_corpus})
set_tests_properties(tmpfs_store_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
