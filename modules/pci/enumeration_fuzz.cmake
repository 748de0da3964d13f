# libFuzzer over the PCI enumeration (enumeration_fuzzer.cpp states the invariants): 10 s
# per `./umka test`.
include(LibFuzzer)
umka_add_fuzz_test(pci_enumeration_fuzz MAX_LEN 2200
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/enumeration_fuzzer.cpp ${CMAKE_CURRENT_SOURCE_DIR}/enumeration.cpp
          ${CMAKE_CURRENT_SOURCE_DIR}/bars.cpp ${CMAKE_CURRENT_SOURCE_DIR}/capabilities.cpp
  INCLUDES ${CMAKE_CURRENT_SOURCE_DIR}
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/enumeration.h ${CMAKE_CURRENT_SOURCE_DIR}/function_probe.h
          ${CMAKE_CURRENT_SOURCE_DIR}/pci_config.h ${CMAKE_CURRENT_SOURCE_DIR}/pci_model.h)
