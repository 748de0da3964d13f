# libFuzzer over the tmpfs store (tmpfs_store_fuzzer.cpp states the invariants): 10 s per
# `./umka test`.
include(LibFuzzer)
umka_add_fuzz_test(tmpfs_store_fuzz MAX_LEN 1024
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store_fuzzer.cpp ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_directory.cpp ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store_check.cpp
  INCLUDES ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include
           ${CMAKE_BINARY_DIR}/kabi-gen/generated
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tmpfs_store.h kabi_headers)
