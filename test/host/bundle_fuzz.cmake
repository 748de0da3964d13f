# libFuzzer target over the bundle reader (cpio walk, entry lookup, boot manifest parser),
# run for a bounded time. Needs clang's fuzzer runtime (libclang-rt-14-dev); without it the
# test is not registered and configure says why. Included from test/CMakeLists.txt.
include(LibFuzzer)
if(NOT UMKA_LIBFUZZER_CLANG)
  message(STATUS "bundle: clang libFuzzer runtime not found (apt-get install clang libclang-rt-14-dev); "
                 "bundle_parser_fuzz test not registered")
  return()
endif()

set(bundle_fuzz_sources
  ${CMAKE_CURRENT_SOURCE_DIR}/host/bundle_fuzzer.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/bundle/cpio_archive.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/bundle/boot_manifest.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/bundle/bundle_inventory.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp)
set(bundle_fuzzer ${CMAKE_CURRENT_BINARY_DIR}/bundle_parser_fuzzer)
add_custom_command(OUTPUT ${bundle_fuzzer}
  COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${PROJECT_SOURCE_DIR}
          -I${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include ${bundle_fuzz_sources}
          -o ${bundle_fuzzer}
  DEPENDS ${bundle_fuzz_sources}
  COMMENT "clang: building the bundle parser fuzzer"
  VERBATIM)
add_custom_target(umka_bundle_parser_fuzzer ALL DEPENDS ${bundle_fuzzer})

# Seeded with the default bundle and its manifest; 10 s bound.
set(bundle_corpus ${CMAKE_CURRENT_BINARY_DIR}/bundle_fuzz_corpus)
file(MAKE_DIRECTORY ${bundle_corpus})
add_test(NAME bundle_parser_fuzz
  COMMAND sh -c "cp \"$1\" \"$2/default-bundle.cpio\" && exec \"$3\" -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 -artifact_prefix=\"$4/\" \"$2\" \"$5\""
          sh ${CMAKE_BINARY_DIR}/bundle.cpio ${bundle_corpus} ${bundle_fuzzer}
          ${CMAKE_CURRENT_BINARY_DIR} ${PROJECT_SOURCE_DIR}/initramfs/default)
set_tests_properties(bundle_parser_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
