# libFuzzer target over the PCI enumeration (enumeration_fuzzer.cpp states the invariants),
# run for a bounded time. Needs clang's fuzzer runtime (libclang-rt-14-dev); without it the
# test is not registered and configure says why.
include(LibFuzzer)
if(NOT UMKA_LIBFUZZER_CLANG)
  message(STATUS "pci: clang libFuzzer runtime not found (apt-get install clang "
                 "libclang-rt-14-dev); pci_enumeration_fuzz test not registered")
  return()
endif()

set(pci_fuzz_sources
  ${CMAKE_CURRENT_SOURCE_DIR}/enumeration_fuzzer.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/enumeration.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/bars.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/capabilities.cpp)
set(pci_fuzzer ${CMAKE_CURRENT_BINARY_DIR}/pci_enumeration_fuzzer)
add_custom_command(OUTPUT ${pci_fuzzer}
  COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${CMAKE_CURRENT_SOURCE_DIR} ${pci_fuzz_sources}
          -o ${pci_fuzzer}
  DEPENDS ${pci_fuzz_sources} ${CMAKE_CURRENT_SOURCE_DIR}/enumeration.h
          ${CMAKE_CURRENT_SOURCE_DIR}/function_probe.h ${CMAKE_CURRENT_SOURCE_DIR}/pci_config.h
          ${CMAKE_CURRENT_SOURCE_DIR}/pci_model.h
  COMMENT "clang: building the PCI enumeration fuzzer"
  VERBATIM)
add_custom_target(umka_pci_enumeration_fuzzer ALL DEPENDS ${pci_fuzzer})

set(pci_corpus ${CMAKE_CURRENT_BINARY_DIR}/pci_fuzz_corpus)
file(MAKE_DIRECTORY ${pci_corpus})
add_test(NAME pci_enumeration_fuzz
  COMMAND ${pci_fuzzer} -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -max_len=2200
          -print_final_stats=1 -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/pci- ${pci_corpus})
set_tests_properties(pci_enumeration_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
