# Module signing and checking: the nucleus SHA-512/Ed25519 verifier and signed-module
# format, umka-sign and umka-modcheck (initramfs/tools), the modules that exercise each
# rule of DESIGN.md §5, and a libFuzzer target. Included from test/CMakeLists.txt.
set(UMKA_CRYPTO_SOURCES
  ${PROJECT_SOURCE_DIR}/nucleus/crypto/sha512.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/crypto/sha256.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/crypto/field25519.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/crypto/edwards25519.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/crypto/scalar25519.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/crypto/ed25519.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/crypto/module_signature.cpp)
set(UMKA_CRYPTO_TEST_DIR ${PROJECT_SOURCE_DIR}/test/host/crypto)
set(UMKA_CRYPTO_BINARY_DIR ${CMAKE_CURRENT_BINARY_DIR}/crypto)

# The pure crypto code with sanitizers is part of umka_nucleus_host.
add_library(umka_crypto_host INTERFACE)
target_link_libraries(umka_crypto_host INTERFACE umka_nucleus_host)

# The same sources with the kernel's freestanding flags, warnings as errors and a stack
# budget per function: proves they build for the nucleus, and feeds the symbol check.
add_library(umka_crypto_kernel_objects OBJECT ${UMKA_CRYPTO_SOURCES})
umka_kernel_target(umka_crypto_kernel_objects)
target_compile_options(umka_crypto_kernel_objects PRIVATE -Werror -Wstack-usage=3072)
add_test(NAME crypto_kernel_objects
  COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DOBJDUMP=${CMAKE_OBJDUMP}
          "-DOBJECTS=$<JOIN:$<TARGET_OBJECTS:umka_crypto_kernel_objects>,|>"
          -P ${UMKA_CRYPTO_TEST_DIR}/check_kernel_objects.cmake)
set_tests_properties(crypto_kernel_objects PROPERTIES LABELS host)

umka_host_test(sha512_test ${UMKA_CRYPTO_TEST_DIR}/sha512_test.cpp)
umka_host_test(sha256_test ${UMKA_CRYPTO_TEST_DIR}/sha256_test.cpp)
umka_host_test(ed25519_test ${UMKA_CRYPTO_TEST_DIR}/ed25519_test.cpp)
umka_host_test(ed25519_libsodium_test ${UMKA_CRYPTO_TEST_DIR}/ed25519_libsodium_test.cpp)
umka_host_test(edwards25519_test ${UMKA_CRYPTO_TEST_DIR}/edwards25519_test.cpp)
umka_host_test(module_signature_test ${UMKA_CRYPTO_TEST_DIR}/module_signature_test.cpp)
foreach(test sha512_test sha256_test ed25519_test ed25519_libsodium_test edwards25519_test
             module_signature_test)
  target_link_libraries(${test} PRIVATE umka_crypto_host PkgConfig::UMKA_SODIUM)
endforeach()

# --- Modules for umka-modcheck: one clean, one per broken rule -------------------------
# Built like real modules (freestanding, -fPIC, -nostdlib -shared, -z now) except for the
# rule each one breaks. The byte-patched variants are made by modcheck_test itself.
set(UMKA_TEST_MODULE_SOURCE_DIR ${PROJECT_SOURCE_DIR}/test/data/modules)
set(UMKA_TEST_MODULE_DIR ${UMKA_CRYPTO_BINARY_DIR}/modules)
set(UMKA_TEST_MODULE_COMPILE_OPTIONS
  -O2 -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-stack-protector
  -mno-red-zone -mgeneral-regs-only -fvisibility=hidden -fno-asynchronous-unwind-tables)
set(UMKA_TEST_MODULE_LINK_OPTIONS
  -nostdlib -Wl,-z,now -Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none)

function(umka_crypto_test_module name)
  cmake_parse_arguments(ARG "EXECUTABLE" "SOURCE" "LINK_OPTIONS;LINK_LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCE)
    set(ARG_SOURCE ${name}.cpp)
  endif()
  if(ARG_EXECUTABLE)
    add_executable(modcheck_${name} ${UMKA_TEST_MODULE_SOURCE_DIR}/${ARG_SOURCE})
    set_target_properties(modcheck_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${UMKA_TEST_MODULE_DIR})
  else()
    add_library(modcheck_${name} SHARED ${UMKA_TEST_MODULE_SOURCE_DIR}/${ARG_SOURCE})
    set_target_properties(modcheck_${name} PROPERTIES PREFIX "" NO_SONAME ON
                                                      LIBRARY_OUTPUT_DIRECTORY ${UMKA_TEST_MODULE_DIR})
  endif()
  set_target_properties(modcheck_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_options(modcheck_${name} PRIVATE ${UMKA_TEST_MODULE_COMPILE_OPTIONS})
  target_link_options(modcheck_${name} PRIVATE ${UMKA_TEST_MODULE_LINK_OPTIONS} ${ARG_LINK_OPTIONS})
  # kabi_base.h for the manifest layout (include directory only; nothing is linked).
  target_link_libraries(modcheck_${name} PRIVATE umka_kabi_headers ${ARG_LINK_LIBRARIES})
  # umka/module_entry.h, for the modules that export an entry point.
  target_include_directories(modcheck_${name} PRIVATE ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include)
  set(UMKA_CRYPTO_TEST_MODULES ${UMKA_CRYPTO_TEST_MODULES} modcheck_${name} PARENT_SCOPE)
endfunction()

set(UMKA_CRYPTO_TEST_MODULES)
umka_crypto_test_module(clean)
umka_crypto_test_module(writable_bss)
umka_crypto_test_module(writable_data)
umka_crypto_test_module(undefined_symbol)
umka_crypto_test_module(symbol_relocation)
umka_crypto_test_module(thread_local_state)
umka_crypto_test_module(constructor)
umka_crypto_test_module(no_manifest)
umka_crypto_test_module(needed_library)
umka_crypto_test_module(needed SOURCE clean.cpp
  LINK_OPTIONS -Wl,--no-as-needed LINK_LIBRARIES modcheck_needed_library)
# -pie instead of -shared: still ET_DYN, but with a PT_INTERP for ld.so.
umka_crypto_test_module(interpreter EXECUTABLE SOURCE clean.cpp
  LINK_OPTIONS -pie -Wl,-e,module_operations)

# The clean module signed by the build (checked first), as later module builds will do.
umka_sign_module(modcheck_clean ${UMKA_TEST_MODULE_DIR}/modcheck_clean.signed CHECK)

umka_host_test(modcheck_test ${UMKA_CRYPTO_TEST_DIR}/modcheck_test.cpp)
target_link_libraries(modcheck_test PRIVATE umka_modcheck_rules)
target_compile_definitions(modcheck_test PRIVATE
  UMKA_MODCHECK_TOOL="$<TARGET_FILE:umka-modcheck>"
  UMKA_TEST_MODULE_DIR="${UMKA_TEST_MODULE_DIR}"
  # A loader fixture that breaks only the entry-point rule, which libelf's rules do not
  # check: modcheck must refuse it with the loader's own reason.
  UMKA_MISSING_ENTRY_MODULE="$<TARGET_FILE:missing_entry_module>")
add_dependencies(modcheck_test umka-modcheck modcheck_clean_signed missing_entry_module
                 ${UMKA_CRYPTO_TEST_MODULES})

umka_host_test(manifest_rules_test ${UMKA_CRYPTO_TEST_DIR}/manifest_rules_test.cpp)
target_link_libraries(manifest_rules_test PRIVATE umka_modcheck_rules)

umka_host_test(umka_sign_test ${UMKA_CRYPTO_TEST_DIR}/umka_sign_test.cpp)
get_property(umka_signing_public GLOBAL PROPERTY UMKA_MODULE_SIGNING_PUBLIC)
target_link_libraries(umka_sign_test PRIVATE umka_crypto_host umka_module_signing_key
                                             PkgConfig::UMKA_SODIUM)
target_compile_definitions(umka_sign_test PRIVATE
  UMKA_SIGN_TOOL="$<TARGET_FILE:umka-sign>"
  UMKA_MODULE_SIGNING_PUBLIC="${umka_signing_public}"
  UMKA_TEST_MODULE_DIR="${UMKA_TEST_MODULE_DIR}")
add_dependencies(umka_sign_test umka-sign umka_module_signing_keys modcheck_clean_signed)

# The same two tests against the sanitized tool copies (initramfs/tools/CMakeLists.txt). A
# sanitizer report exits 86, which no expectation accepts.
if(TARGET umka-sign-asan)
  add_test(NAME umka_sign_test_asan_tools COMMAND umka_sign_test)
  add_test(NAME modcheck_test_asan_tools COMMAND modcheck_test)
  set_tests_properties(umka_sign_test_asan_tools PROPERTIES LABELS host ENVIRONMENT
    "UMKA_SIGN_TOOL=$<TARGET_FILE:umka-sign-asan>;${UMKA_SANITIZER_TEST_ENVIRONMENT}")
  set_tests_properties(modcheck_test_asan_tools PROPERTIES LABELS host ENVIRONMENT
    "UMKA_MODCHECK_TOOL=$<TARGET_FILE:umka-modcheck-asan>;${UMKA_SANITIZER_TEST_ENVIRONMENT}")
  add_dependencies(umka_sign_test umka-sign-asan)
  add_dependencies(modcheck_test umka-modcheck-asan)
endif()

# umka-bundle: its cpio reading is the nucleus's parser, fuzzed by bundle_parser_fuzz
# (test/host/bundle_fuzz.cmake); this tests the tool around it.
umka_host_test(umka_bundle_test ${UMKA_CRYPTO_TEST_DIR}/umka_bundle_test.cpp)
target_include_directories(umka_bundle_test PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(umka_bundle_test PRIVATE
  UMKA_BUNDLE_TOOL="$<TARGET_FILE:umka-bundle>"
  UMKA_MODULE_SIGNING_PUBLIC="${umka_signing_public}"
  UMKA_TEST_MODULE_DIR="${UMKA_TEST_MODULE_DIR}")
add_dependencies(umka_bundle_test umka-bundle umka_module_signing_keys modcheck_clean_signed)

# --- libFuzzer over split_signed_module + verify ----------------------------------------
# Needs clang with its fuzzer runtime (Debian: clang, libclang-rt-14-dev); without it the
# test is still registered and reports itself skipped, saying why.
find_program(UMKA_CRYPTO_FUZZ_CLANG NAMES clang++-14 clang++)
set(UMKA_CRYPTO_FUZZ_AVAILABLE FALSE)
if(UMKA_CRYPTO_FUZZ_CLANG)
  set(probe_dir ${UMKA_CRYPTO_BINARY_DIR}/fuzz_probe)
  file(WRITE ${probe_dir}/probe.cpp
    "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
  execute_process(COMMAND ${UMKA_CRYPTO_FUZZ_CLANG} -fsanitize=fuzzer,address ${probe_dir}/probe.cpp
                          -o ${probe_dir}/probe
                  RESULT_VARIABLE probe_result OUTPUT_QUIET ERROR_QUIET)
  if(probe_result EQUAL 0)
    set(UMKA_CRYPTO_FUZZ_AVAILABLE TRUE)
  endif()
endif()
if(UMKA_CRYPTO_FUZZ_AVAILABLE)
  set(fuzzer ${UMKA_CRYPTO_BINARY_DIR}/module_signature_fuzzer)
  set(fuzz_sources ${UMKA_CRYPTO_TEST_DIR}/module_signature_fuzzer.cpp ${UMKA_CRYPTO_SOURCES})
  add_custom_command(OUTPUT ${fuzzer}
    COMMAND ${UMKA_CRYPTO_FUZZ_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=undefined -I${PROJECT_SOURCE_DIR} ${fuzz_sources} -o ${fuzzer}
    DEPENDS ${fuzz_sources}
    COMMENT "clang: building the module signature fuzzer"
    VERBATIM)
  add_custom_target(module_signature_fuzzer ALL DEPENDS ${fuzzer})
  file(MAKE_DIRECTORY ${UMKA_CRYPTO_BINARY_DIR}/fuzz_corpus)
  # Bounded run; new inputs go to the build tree's corpus, seeds come from test/data.
  add_test(NAME module_signature_fuzz
    COMMAND ${fuzzer} -max_total_time=10 -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
            -artifact_prefix=${UMKA_CRYPTO_BINARY_DIR}/
            ${UMKA_CRYPTO_BINARY_DIR}/fuzz_corpus ${UMKA_TEST_MODULE_SOURCE_DIR}/fuzz_seeds)
  set_tests_properties(module_signature_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
else()
  message(STATUS "crypto: clang libFuzzer runtime not found (apt-get install clang "
                 "libclang-rt-14-dev); module_signature_fuzz will report itself skipped")
  add_test(NAME module_signature_fuzz
    COMMAND sh -c "echo 'skipped: clang with libFuzzer (libclang-rt-14-dev) is not installed'; exit 77")
  set_tests_properties(module_signature_fuzz PROPERTIES LABELS "host;fuzz" SKIP_RETURN_CODE 77)
endif()
