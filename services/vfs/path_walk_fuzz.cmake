# libFuzzer over the path walk (path_walk_fuzzer.cpp states the invariants): 10 s per
# `./umka test`.
include(LibFuzzer)
umka_add_fuzz_test(path_walk_fuzz MAX_LEN 8192
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/path_walk_fuzzer.cpp ${CMAKE_CURRENT_SOURCE_DIR}/path_walk.cpp
  INCLUDES ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/kabi-gen/generated
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/path_walk.h kabi_headers)
