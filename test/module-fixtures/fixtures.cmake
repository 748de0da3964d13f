# Fixture modules for the module-system tests, built at build time into
# ${UMKA_MODULE_FIXTURE_OUTPUT_DIR}: two well-formed modules (counter_module, probe_module)
# and one module per rule of the ELF contract that breaks exactly that rule. Included from
# test/host/module/module.cmake.

set(UMKA_MODULE_FIXTURE_OUTPUT_DIR ${CMAKE_BINARY_DIR}/test/module-fixtures)
set(UMKA_MODULE_FIXTURE_GENERATED_DIR ${UMKA_MODULE_FIXTURE_OUTPUT_DIR}/generated)
set(fixture_idl ${UMKA_MODULE_FIXTURE_SOURCE_DIR}/module_fixture.kabi)
set(fixture_headers)
foreach(suffix .hpp .h _manifest.hpp _state.hpp)
  list(APPEND fixture_headers ${UMKA_MODULE_FIXTURE_GENERATED_DIR}/umka/kabi/module_fixture${suffix})
endforeach()
add_custom_command(
  OUTPUT ${fixture_headers}
  COMMAND kabi-gen -I ${PROJECT_SOURCE_DIR}/kabi-idl --out-dir ${UMKA_MODULE_FIXTURE_GENERATED_DIR}
          --emit cpp,c,manifest,state ${fixture_idl}
  DEPENDS kabi-gen ${fixture_idl}
  COMMENT "kabi-gen: module fixture interfaces"
  VERBATIM)
add_custom_target(umka_module_fixture_headers DEPENDS ${fixture_headers})

# The module contract's flags (as the SDK's umka_add_module uses them), -Werror.
set(UMKA_FIXTURE_COMPILE_OPTIONS
  -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-stack-protector
  -mno-red-zone -mgeneral-regs-only -fPIC -fvisibility=hidden -fno-asynchronous-unwind-tables
  -fno-omit-frame-pointer -O2 -Wall -Wextra -Werror)
set(UMKA_FIXTURE_LINK_OPTIONS
  -nostdlib -shared -Wl,-z,now -Wl,-z,text -Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000
  -Wl,--build-id=none)

add_custom_target(umka_module_fixtures ALL)

# umka_fixture_module(<name> [ALLOW_UNDEFINED])  builds <name>.so from <name>.cpp
function(umka_fixture_module name)
  cmake_parse_arguments(ARG "ALLOW_UNDEFINED" "" "" ${ARGN})
  add_library(${name} SHARED ${UMKA_MODULE_FIXTURE_SOURCE_DIR}/${name}.cpp)
  set_target_properties(${name} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${UMKA_MODULE_FIXTURE_OUTPUT_DIR}
                        CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
  target_compile_options(${name} PRIVATE ${UMKA_FIXTURE_COMPILE_OPTIONS})
  target_compile_definitions(${name} PRIVATE UMKA_MODULE=1)
  target_include_directories(${name} PRIVATE ${UMKA_MODULE_FIXTURE_GENERATED_DIR}
                             ${UMKA_MODULE_SDK_INCLUDE} ${UMKA_MODULE_FIXTURE_SOURCE_DIR})
  target_link_options(${name} PRIVATE ${UMKA_FIXTURE_LINK_OPTIONS})
  if(NOT ARG_ALLOW_UNDEFINED)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  target_link_libraries(${name} PRIVATE umka_kabi_headers umka_runtime)
  add_dependencies(${name} umka_module_fixture_headers)
  add_dependencies(umka_module_fixtures ${name})
endfunction()

# Well-formed.
umka_fixture_module(counter_module)
umka_fixture_module(probe_module)
# Well-formed ELF, refused by the binder.
umka_fixture_module(failing_entry_module)
umka_fixture_module(stray_vtable_module)
umka_fixture_module(stray_import_module)
# One broken rule each.
umka_fixture_module(writable_bss_module)
umka_fixture_module(writable_data_module)
umka_fixture_module(undefined_symbol_module ALLOW_UNDEFINED)
umka_fixture_module(plt_call_module)
umka_fixture_module(absolute_pointer_module)
umka_fixture_module(missing_manifest_module)
umka_fixture_module(bad_manifest_module)
umka_fixture_module(missing_entry_module)
umka_fixture_module(init_array_module)
umka_fixture_module(thread_local_module)

# Byte-patched copies of the good module.
set(patch_script ${UMKA_MODULE_FIXTURE_SOURCE_DIR}/patch_module.py)
set(patched)
foreach(variant truncated_header wrong_machine truncated_file)
  set(output ${UMKA_MODULE_FIXTURE_OUTPUT_DIR}/${variant}.so)
  add_custom_command(OUTPUT ${output}
    COMMAND ${Python3_EXECUTABLE} ${patch_script} ${variant} $<TARGET_FILE:counter_module> ${output}
    DEPENDS ${patch_script} counter_module
    COMMENT "module fixture ${variant}.so"
    VERBATIM)
  list(APPEND patched ${output})
endforeach()
add_custom_target(umka_module_patched_fixtures DEPENDS ${patched})
add_dependencies(umka_module_fixtures umka_module_patched_fixtures)
