# libFuzzer target over the split virtqueue's used-ring parsing (used_ring_fuzzer.cpp states
# the invariants), run for a bounded time. Needs clang's fuzzer runtime (libclang-rt-14-dev);
# without it the test is not registered and configure says why.
include(LibFuzzer)
if(NOT UMKA_LIBFUZZER_CLANG)
  message(STATUS "virtio-blk: clang libFuzzer runtime not found (apt-get install clang "
                 "libclang-rt-14-dev); virtio_used_ring_fuzz test not registered")
  return()
endif()

set(virtio_fuzz_source ${CMAKE_CURRENT_SOURCE_DIR}/used_ring_fuzzer.cpp)
set(virtio_headers ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include/umka/virtio)
set(virtio_fuzzer ${CMAKE_CURRENT_BINARY_DIR}/virtio_used_ring_fuzzer)
add_custom_command(OUTPUT ${virtio_fuzzer}
  COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include
          -I${CMAKE_BINARY_DIR}/kabi-gen/generated ${virtio_fuzz_source} -o ${virtio_fuzzer}
  DEPENDS ${virtio_fuzz_source} ${virtio_headers}/split_queue.h ${virtio_headers}/block.h
          ${virtio_headers}/transport.h
  COMMENT "clang: building the virtio used-ring fuzzer"
  VERBATIM)
add_custom_target(umka_virtio_used_ring_fuzzer ALL DEPENDS ${virtio_fuzzer})

set(virtio_corpus ${CMAKE_CURRENT_BINARY_DIR}/virtio_used_ring_fuzz_corpus)
file(MAKE_DIRECTORY ${virtio_corpus})
add_test(NAME virtio_used_ring_fuzz
  COMMAND ${virtio_fuzzer} -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -max_len=4096
          -print_final_stats=1 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/virtio-used-ring-
          ${virtio_corpus})
set_tests_properties(virtio_used_ring_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 90)

# The same for the PCI capability walk (pci_capabilities_fuzzer.cpp): 5 s per `./umka test`.
set(capabilities_fuzz_source ${CMAKE_CURRENT_SOURCE_DIR}/pci_capabilities_fuzzer.cpp)
set(capabilities_fuzzer ${CMAKE_CURRENT_BINARY_DIR}/virtio_capabilities_fuzzer)
add_custom_command(OUTPUT ${capabilities_fuzzer}
  COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include
          ${capabilities_fuzz_source} -o ${capabilities_fuzzer}
  DEPENDS ${capabilities_fuzz_source} ${virtio_headers}/pci_capabilities.h
  COMMENT "clang: building the virtio capability fuzzer"
  VERBATIM)
add_custom_target(umka_virtio_capabilities_fuzzer ALL DEPENDS ${capabilities_fuzzer})
set(capabilities_corpus ${CMAKE_CURRENT_BINARY_DIR}/virtio_capabilities_fuzz_corpus)
file(MAKE_DIRECTORY ${capabilities_corpus})
add_test(NAME virtio_capabilities_fuzz
  COMMAND ${capabilities_fuzzer} -max_total_time=5 -timeout=5 -rss_limit_mb=2048 -max_len=304
          -print_final_stats=1 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/virtio-capabilities-
          ${capabilities_corpus})
set_tests_properties(virtio_capabilities_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 60)
