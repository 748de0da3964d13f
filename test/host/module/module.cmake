# The module system's pure core (nucleus/module/) on the host: a sanitized library, a
# freestanding compile check with the kernel's flags, the fixture modules
# (test/module-fixtures/), the host harness, the tests and the loader fuzzer.
# Included from test/CMakeLists.txt.

set(UMKA_MODULE_DIR ${PROJECT_SOURCE_DIR}/nucleus/module)
set(UMKA_MODULE_SDK_INCLUDE ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include)
set(UMKA_MODULE_TEST_DIR ${PROJECT_SOURCE_DIR}/test/host/module)
set(UMKA_MODULE_FIXTURE_SOURCE_DIR ${PROJECT_SOURCE_DIR}/test/module-fixtures)
set(UMKA_MODULE_PURE_SOURCES
  ${UMKA_MODULE_DIR}/diagnostic.cpp
  ${UMKA_MODULE_DIR}/manifest.cpp
  ${UMKA_MODULE_DIR}/elf_layout.cpp
  ${UMKA_MODULE_DIR}/elf_sections.cpp
  ${UMKA_MODULE_DIR}/symbol_names.cpp
  ${UMKA_MODULE_DIR}/elf_relocations.cpp
  ${UMKA_MODULE_DIR}/elf_module.cpp
  ${UMKA_MODULE_DIR}/capability_table.cpp
  ${UMKA_MODULE_DIR}/service_registry.cpp
  ${UMKA_MODULE_DIR}/dependency_resolver.cpp
  ${UMKA_MODULE_DIR}/module_binder.cpp
)

# --- Host library (sanitized) and a kernel-flags compile check -------------------------
add_library(umka_module_host STATIC ${UMKA_MODULE_PURE_SOURCES}
  ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp ${PROJECT_SOURCE_DIR}/nucleus/lib/format.cpp)
umka_host_sanitized(umka_module_host)
target_compile_options(umka_module_host PRIVATE -Werror)
target_include_directories(umka_module_host PUBLIC ${PROJECT_SOURCE_DIR} ${UMKA_MODULE_SDK_INCLUDE})
target_link_libraries(umka_module_host PUBLIC umka_kabi_headers)

# The same sources with the kernel's flags (-ffreestanding, -mcmodel=kernel, no red zone,
# general registers only) and -Werror, so a hosted-only construct fails the build here.
add_library(umka_module_kernel_check OBJECT ${UMKA_MODULE_PURE_SOURCES})
umka_kernel_target(umka_module_kernel_check)
target_compile_options(umka_module_kernel_check PRIVATE -Werror)
target_include_directories(umka_module_kernel_check PRIVATE ${UMKA_MODULE_SDK_INCLUDE})
target_link_libraries(umka_module_kernel_check PRIVATE umka_kabi_headers)
set_target_properties(umka_module_kernel_check PROPERTIES POSITION_INDEPENDENT_CODE OFF)

# Optimised, unsanitized: for bench/module.
add_library(umka_module_bench STATIC ${UMKA_MODULE_PURE_SOURCES}
  ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp ${PROJECT_SOURCE_DIR}/nucleus/lib/format.cpp)
umka_host_target(umka_module_bench)
target_compile_options(umka_module_bench PRIVATE -O2)
target_include_directories(umka_module_bench PUBLIC ${PROJECT_SOURCE_DIR} ${UMKA_MODULE_SDK_INCLUDE})
target_link_libraries(umka_module_bench PUBLIC umka_kabi_headers)

# --- Fixture modules -------------------------------------------------------------------
include(${UMKA_MODULE_FIXTURE_SOURCE_DIR}/fixtures.cmake)

# --- Host harness ----------------------------------------------------------------------
add_library(umka_module_harness STATIC ${UMKA_MODULE_TEST_DIR}/module_harness.cpp)
umka_host_sanitized(umka_module_harness)
target_include_directories(umka_module_harness PUBLIC ${UMKA_MODULE_TEST_DIR})
target_link_libraries(umka_module_harness PUBLIC umka_module_host)

# umka_add_module_test(<name> <module target or .so file> <test sources>...)
# A googletest executable linked with the host harness; the module's ELF path reaches the
# test as the macro UMKA_MODULE_UNDER_TEST and through umka::harness::module_under_test().
# The harness loads that very file with the nucleus's loader code.
function(umka_add_module_test name module)
  if(NOT ARGN)
    message(FATAL_ERROR "umka_add_module_test(${name}): test sources are required")
  endif()
  umka_host_test(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE umka_module_harness)
  if(TARGET ${module})
    target_compile_definitions(${name} PRIVATE UMKA_MODULE_UNDER_TEST="$<TARGET_FILE:${module}>")
    add_dependencies(${name} ${module})
  else()
    get_filename_component(module_path ${module} ABSOLUTE)
    target_compile_definitions(${name} PRIVATE UMKA_MODULE_UNDER_TEST="${module_path}")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "host;module")
endfunction()

# --- Tests -----------------------------------------------------------------------------
function(umka_module_unit_test name)
  umka_host_test(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE umka_module_host)
  target_include_directories(${name} PRIVATE ${UMKA_MODULE_TEST_DIR})
  target_compile_definitions(${name} PRIVATE UMKA_MODULE_FIXTURE_DIR="${UMKA_MODULE_FIXTURE_OUTPUT_DIR}")
  add_dependencies(${name} umka_module_fixtures)
  set_tests_properties(${name} PROPERTIES LABELS "host;module")
endfunction()

umka_module_unit_test(module_manifest_test ${UMKA_MODULE_TEST_DIR}/manifest_test.cpp)
umka_module_unit_test(module_elf_loader_test
  ${UMKA_MODULE_TEST_DIR}/elf_loader_test.cpp ${UMKA_MODULE_TEST_DIR}/elf_patch.cpp)
target_link_libraries(module_elf_loader_test PRIVATE umka_module_harness)
umka_module_unit_test(module_dependency_resolver_test ${UMKA_MODULE_TEST_DIR}/dependency_resolver_test.cpp)
umka_module_unit_test(module_capability_table_test ${UMKA_MODULE_TEST_DIR}/capability_table_test.cpp)
umka_module_unit_test(module_service_registry_test ${UMKA_MODULE_TEST_DIR}/service_registry_test.cpp)

umka_add_module_test(counter_module_test counter_module ${UMKA_MODULE_TEST_DIR}/counter_module_test.cpp)
target_compile_definitions(counter_module_test PRIVATE
  UMKA_PROBE_MODULE="$<TARGET_FILE:probe_module>"
  UMKA_FAILING_ENTRY_MODULE="$<TARGET_FILE:failing_entry_module>"
  UMKA_STRAY_VTABLE_MODULE="$<TARGET_FILE:stray_vtable_module>")
target_include_directories(counter_module_test PRIVATE ${UMKA_MODULE_FIXTURE_GENERATED_DIR})
add_dependencies(counter_module_test umka_module_fixtures)

# --- libFuzzer over the loader and the manifest parser ----------------------------------
include(${UMKA_MODULE_TEST_DIR}/fuzz.cmake)
