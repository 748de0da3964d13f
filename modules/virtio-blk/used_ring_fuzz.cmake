# libFuzzer over the split virtqueue's used-ring parsing (used_ring_fuzzer.cpp states the
# invariants), 10 s, and over the PCI capability walk (pci_capabilities_fuzzer.cpp), 5 s,
# per `./umka test`.
include(LibFuzzer)
set(virtio_headers ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include/umka/virtio)
umka_add_fuzz_test(virtio_used_ring_fuzz
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/used_ring_fuzzer.cpp
  INCLUDES ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include ${CMAKE_BINARY_DIR}/kabi-gen/generated
  DEPENDS ${virtio_headers}/split_queue.h ${virtio_headers}/block.h ${virtio_headers}/transport.h
          kabi_headers)
umka_add_fuzz_test(virtio_capabilities_fuzz SECONDS 5 MAX_LEN 304
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/pci_capabilities_fuzzer.cpp
  INCLUDES ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include
  DEPENDS ${virtio_headers}/pci_capabilities.h)
