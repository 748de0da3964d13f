# Functions of the UmkaSDK package. Needs UMKA_KABI_GEN, UMKA_SDK_* from UmkaSDKConfig.cmake.

# Freestanding module code: the ELF contract of docs (position independent, no libc, no
# exceptions/RTTI, no red zone, general registers only).
set(UMKA_MODULE_COMPILE_OPTIONS
  -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-stack-protector
  -mno-red-zone -mgeneral-regs-only -fPIC -fvisibility=hidden -fno-asynchronous-unwind-tables
  -fno-omit-frame-pointer -O2 -Wall -Wextra)
set(UMKA_MODULE_LINK_OPTIONS
  -nostdlib -shared -Wl,--no-undefined -Wl,-z,text -Wl,-z,noexecstack
  -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none)

# umka_kabi_generate(OUTPUT_INCLUDE_DIR <var> IDL <file.kabi>... [IMPORT_DIRS <dir>...])
# Generates C++ and C headers for your .kabi files into the build tree; imports of the
# SDK's own interfaces (kernel_services, bus_access, char_device, ...) resolve against
# the installed IDL and their headers come from the SDK include directory.
function(umka_kabi_generate)
  cmake_parse_arguments(ARG "" "OUTPUT_INCLUDE_DIR;NAME" "IDL;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_IDL)
    message(FATAL_ERROR "umka_kabi_generate: IDL files are required")
  endif()
  if(NOT ARG_NAME)
    set(ARG_NAME kabi)
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}-generated)
  set(outputs)
  set(inputs)
  foreach(idl ${ARG_IDL})
    get_filename_component(absolute ${idl} ABSOLUTE)
    get_filename_component(package ${idl} NAME_WE)
    list(APPEND inputs ${absolute})
    foreach(suffix .hpp .h _ring.hpp _manifest.hpp _state.hpp)
      list(APPEND outputs ${out_dir}/umka/kabi/${package}${suffix})
    endforeach()
  endforeach()
  set(import_flags -I ${UMKA_SDK_IDL_DIR})
  foreach(dir ${ARG_IMPORT_DIRS})
    list(APPEND import_flags -I ${dir})
  endforeach()
  add_custom_command(OUTPUT ${outputs}
    COMMAND ${UMKA_KABI_GEN} ${import_flags} --out-dir ${out_dir} --emit cpp,c,ring,manifest,state ${inputs}
    DEPENDS ${inputs} ${UMKA_KABI_GEN}
    COMMENT "kabi-gen: ${ARG_NAME}"
    VERBATIM)
  add_custom_target(${ARG_NAME}_kabi_headers DEPENDS ${outputs})
  set(${ARG_OUTPUT_INCLUDE_DIR} ${out_dir} PARENT_SCOPE)
endfunction()

# umka_add_module(NAME <name> IDL <file.kabi>... SOURCES <source>...)
# Builds <name>.so: a freestanding, position-independent ELF module with no undefined
# symbols and no DT_NEEDED, statically linked against the SDK runtime (memcpy & co).
# Checking and signing are added by the module system (issue 4).
function(umka_add_module)
  cmake_parse_arguments(ARG "" "NAME" "IDL;SOURCES;IMPORT_DIRS" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_SOURCES)
    message(FATAL_ERROR "umka_add_module: NAME and SOURCES are required")
  endif()
  set(generated_include "")
  if(ARG_IDL)
    umka_kabi_generate(NAME ${ARG_NAME} OUTPUT_INCLUDE_DIR generated_include IDL ${ARG_IDL}
                       IMPORT_DIRS ${ARG_IMPORT_DIRS})
  endif()
  add_library(${ARG_NAME} SHARED ${ARG_SOURCES})
  set_target_properties(${ARG_NAME} PROPERTIES PREFIX "" CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON
                                               CXX_EXTENSIONS OFF)
  target_compile_options(${ARG_NAME} PRIVATE ${UMKA_MODULE_COMPILE_OPTIONS})
  target_compile_definitions(${ARG_NAME} PRIVATE UMKA_MODULE=1)
  target_include_directories(${ARG_NAME} PRIVATE ${generated_include} ${UMKA_SDK_INCLUDE_DIR})
  target_link_options(${ARG_NAME} PRIVATE ${UMKA_MODULE_LINK_OPTIONS})
  target_link_libraries(${ARG_NAME} PRIVATE ${UMKA_SDK_RUNTIME})
  if(ARG_IDL)
    add_dependencies(${ARG_NAME} ${ARG_NAME}_kabi_headers)
  endif()
  set_property(TARGET ${ARG_NAME} PROPERTY UMKA_MODULE_SOURCES ${ARG_SOURCES})
  set_property(TARGET ${ARG_NAME} PROPERTY UMKA_MODULE_INCLUDE ${generated_include})
endfunction()

# umka_add_module_test(NAME <test> MODULE <module> SOURCES <test sources>...)
# A host googletest executable built from the test sources plus the module's own sources
# (compiled for the host, with the same generated headers), registered with ctest.
# Loading the module ELF itself in a host harness comes with the module system.
function(umka_add_module_test)
  cmake_parse_arguments(ARG "" "NAME;MODULE" "SOURCES" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_MODULE OR NOT ARG_SOURCES)
    message(FATAL_ERROR "umka_add_module_test: NAME, MODULE and SOURCES are required")
  endif()
  find_package(GTest REQUIRED)
  get_property(module_sources TARGET ${ARG_MODULE} PROPERTY UMKA_MODULE_SOURCES)
  get_property(module_include TARGET ${ARG_MODULE} PROPERTY UMKA_MODULE_INCLUDE)
  add_executable(${ARG_NAME} ${ARG_SOURCES} ${module_sources})
  set_target_properties(${ARG_NAME} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
  target_include_directories(${ARG_NAME} PRIVATE ${module_include} ${UMKA_SDK_INCLUDE_DIR})
  target_compile_definitions(${ARG_NAME} PRIVATE UMKA_MODULE_HOST_TEST=1)
  target_compile_options(${ARG_NAME} PRIVATE -Wall -Wextra)
  target_link_libraries(${ARG_NAME} PRIVATE GTest::gtest_main)
  if(TARGET ${ARG_MODULE}_kabi_headers)
    add_dependencies(${ARG_NAME} ${ARG_MODULE}_kabi_headers)
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
endfunction()
