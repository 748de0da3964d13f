# libFuzzer over the ext2 core with a damaged image (ext2_image_fuzzer.cpp states the
# invariants): 10 s per `./umka test`.
include(LibFuzzer)
set(ext2_fuzz_core_sources)
foreach(source ${EXT2_CORE_SOURCES})
  list(APPEND ext2_fuzz_core_sources ${CMAKE_CURRENT_SOURCE_DIR}/${source})
endforeach()
umka_add_fuzz_test(ext2_image_fuzz MAX_LEN 512
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ext2_image_fuzzer.cpp ${ext2_fuzz_core_sources}
  INCLUDES ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include
           ${CMAKE_BINARY_DIR}/kabi-gen/generated
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/ext2_volume.h ${CMAKE_CURRENT_SOURCE_DIR}/ext2_layout.h
          ${CMAKE_CURRENT_SOURCE_DIR}/ext2_block_cache.h
          ${CMAKE_CURRENT_SOURCE_DIR}/ext2_fuzz_image.h kabi_headers)
