# In-tree service and driver modules (DESIGN.md §5, docs/module-contract.md):
#
#   umka_add_module(<name> SOURCES <source>... [KABI_PACKAGE <package>] [KABI_IDL <file.kabi>...]
#                   [FILE_NAME <file>])
#
# builds <name> as a module: a freestanding C++20 ELF64 ET_DYN, position independent, no
# undefined symbols, no DT_NEEDED, statically linked to the SDK runtime (memcpy & co), with
# the generated KABI headers and kabi-gen/sdk/include on its include path. Then, at build
# time:
#   1. umka-modcheck checks the ELF (a violation fails the build with modcheck's message,
#      and the ELF is deleted so nothing downstream can pick it up), and the module's
#      .kabi_manifest must name the module <name>: the boot manifest and the bundle refer
#      to modules by the name in the manifest, so file name and module name must agree;
#   2. the checked ELF is signed with the build's key (umka_sign_module).
#
# KABI_PACKAGE is the kabi package whose `module <name>` block is the manifest (default:
# <name>); the module expands UMKA_KABI_DEFINE_MANIFEST_<NAME>() from <package>_manifest.hpp.
# The package is kabi-idl/modules/<package>.kabi (headers from the kabi_headers target), or
# one of the KABI_IDL files, for packages outside kabi-idl/ (test fixtures): those are
# generated for this module alone, imports resolving against kabi-idl/. Configuration
# fails unless the package file declares `module <name>`.
#
# FILE_NAME (default <name>) names the files and targets of an alternative version of a
# module, built next to the default one for live evolution: e.g. `umka_add_module(scheduler
# FILE_NAME scheduler-v2 KABI_IDL .../kabi-idl/versions/scheduler.kabi ...)` makes
# modules/scheduler-v2.{elf,umod} and targets scheduler_v2_module / scheduler_v2_signed,
# whose manifest still names module `scheduler` (the version tells the two apart). Such a
# file is evolved to, never named by a boot manifest, so it is not in UMKA_MODULES.
#
# Outputs, targets and properties:
#   ${CMAKE_BINARY_DIR}/modules/<file>.elf    target <id>_module (the ELF host tests load)
#   ${CMAKE_BINARY_DIR}/modules/<file>.umod   target <id>_signed (also <id>_module_signed,
#                                             the name umka_sign_module gives it), in `all`
#   where <file> is FILE_NAME or <name>, and <id> is <file> with '-' as '_'
#   target properties of <name>_module: UMKA_MODULE_NAME, UMKA_MODULE_ELF, UMKA_MODULE_SIGNED,
#                                       UMKA_MODULE_INCLUDE (directory of KABI_IDL headers)
#   variables in the caller's scope: <id>_MODULE_ELF, <id>_MODULE_SIGNED
#   global property UMKA_MODULES: every <name> added without FILE_NAME, in order (for
#   bundle builders); UMKA_MODULE_VERSIONS: every FILE_NAME
#   ctest <id>_module_signature: umka-sign verify of the .umod with the build's public key
#
# Host tests use the function of test/host/module/module.cmake on the very same ELF:
#   umka_add_module_test(<test> <name>_module <test sources>...)
# which is why modules/ and services/ are added after test/ in the top-level CMakeLists.
#
# This file is also a `cmake -P` script: with UMKA_MODULE_CHECK_SCRIPT set it runs the
# build-time check of step 1 (see the end of the file).

if(NOT CMAKE_SCRIPT_MODE_FILE)

# The module contract's flags, the same as test/module-fixtures/fixtures.cmake and the
# SDK's umka_add_module use (docs/module-contract.md §1), plus -Werror for in-tree code.
# Why each: no libc or unwinder exists in the nucleus (-ffreestanding, no exceptions, RTTI,
# thread-safe statics or stack protector), interrupts may land on the module's stack
# (-mno-red-zone), the nucleus does not save SIMD state around module calls
# (-mgeneral-regs-only), and the loader maps the image anywhere (-fPIC). Only
# umka_module_entry is exported (-fvisibility=hidden).
set(UMKA_MODULE_COMPILE_OPTIONS
  -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-stack-protector
  -mno-red-zone -mgeneral-regs-only -fPIC -fvisibility=hidden -fno-asynchronous-unwind-tables
  -fno-omit-frame-pointer -O2 -Wall -Wextra -Werror)
# -z now: every relocation is resolved at load time (there is no lazy binding in the
# nucleus); -z text: no text relocations; -z separate-code: code gets pages of its own, so
# W^X mapping never needs a page that is both; 4 KiB pages because the loader maps 4 KiB
# pages; no build id (the signature already identifies the image).
set(UMKA_MODULE_LINK_OPTIONS
  -nostdlib -shared -Wl,--no-undefined -Wl,-z,now -Wl,-z,text -Wl,-z,noexecstack
  -Wl,-z,max-page-size=0x1000 -Wl,-z,separate-code -Wl,--build-id=none
  # Debug info is most of a module file and is signed and verified at every boot; the
  # symbol table stays (modcheck and fault reports name symbols with it).
  -Wl,--strip-debug)
set(UMKA_MODULE_OUTPUT_DIR ${CMAKE_BINARY_DIR}/modules)
set(UMKA_MODULE_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

function(umka_add_module name)
  cmake_parse_arguments(ARG "" "KABI_PACKAGE;FILE_NAME" "SOURCES;KABI_IDL" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "umka_add_module(${name}): unexpected arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "umka_add_module(${name}): SOURCES are required")
  endif()
  if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "umka_add_module(${name}): a module name is a lower-case identifier "
                        "(it is the manifest's module name and the file name)")
  endif()
  if(NOT COMMAND umka_sign_module)
    message(FATAL_ERROR "umka_add_module(${name}): umka_sign_module is not defined; "
                        "add_subdirectory(initramfs) must come before the module directories")
  endif()
  if(NOT ARG_KABI_PACKAGE)
    set(ARG_KABI_PACKAGE ${name})
  endif()
  set(file_name ${name})
  if(ARG_FILE_NAME)
    if(NOT ARG_FILE_NAME MATCHES "^${name}-[a-z0-9_-]+$")
      message(FATAL_ERROR "umka_add_module(${name}): FILE_NAME ${ARG_FILE_NAME} must be "
                          "${name}-<variant> (lower-case letters, digits, '_', '-')")
    endif()
    set(file_name ${ARG_FILE_NAME})
  endif()
  string(REPLACE "-" "_" id ${file_name})

  # Where the manifest is declared, checked now rather than as a missing header later.
  set(package_file ${PROJECT_SOURCE_DIR}/kabi-idl/modules/${ARG_KABI_PACKAGE}.kabi)
  set(idl_files)
  foreach(idl ${ARG_KABI_IDL})
    get_filename_component(idl ${idl} ABSOLUTE)
    list(APPEND idl_files ${idl})
    get_filename_component(idl_package ${idl} NAME_WE)
    if(idl_package STREQUAL ARG_KABI_PACKAGE)
      set(package_file ${idl})
    endif()
  endforeach()
  if(NOT EXISTS ${package_file})
    message(FATAL_ERROR "umka_add_module(${name}): no kabi package '${ARG_KABI_PACKAGE}': "
                        "${package_file} does not exist (name it in KABI_IDL or KABI_PACKAGE)")
  endif()
  file(STRINGS ${package_file} module_block REGEX "^[ \t]*module[ \t]+${name}[ \t]+version")
  if(NOT module_block)
    message(FATAL_ERROR "umka_add_module(${name}): ${package_file} declares no "
                        "`module ${name} version N { ... }` block for the manifest")
  endif()

  set(target ${id}_module)
  set(elf ${UMKA_MODULE_OUTPUT_DIR}/${file_name}.elf)
  set(signed ${UMKA_MODULE_OUTPUT_DIR}/${file_name}.umod)

  add_library(${target} SHARED ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${file_name} PREFIX "" SUFFIX ".elf" NO_SONAME ON
    LIBRARY_OUTPUT_DIRECTORY ${UMKA_MODULE_OUTPUT_DIR}
    CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF
    C_STANDARD 11 C_STANDARD_REQUIRED ON)
  target_compile_options(${target} PRIVATE ${UMKA_MODULE_COMPILE_OPTIONS})
  target_compile_definitions(${target} PRIVATE UMKA_MODULE=1)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include)
  target_link_options(${target} PRIVATE ${UMKA_MODULE_LINK_OPTIONS})
  target_link_libraries(${target} PRIVATE umka_kabi_headers umka_runtime)

  set(generated_include "")
  if(idl_files)
    set(generated_include ${CMAKE_CURRENT_BINARY_DIR}/${file_name}-kabi)
    set(headers)
    foreach(idl ${idl_files})
      get_filename_component(idl_package ${idl} NAME_WE)
      foreach(suffix .hpp .h _manifest.hpp _state.hpp)
        list(APPEND headers ${generated_include}/umka/kabi/${idl_package}${suffix})
      endforeach()
    endforeach()
    add_custom_command(OUTPUT ${headers}
      COMMAND kabi-gen -I ${PROJECT_SOURCE_DIR}/kabi-idl --out-dir ${generated_include}
              --emit cpp,c,manifest,state ${idl_files}
      DEPENDS kabi-gen ${idl_files}
      COMMENT "kabi-gen: interfaces of module ${file_name}"
      VERBATIM)
    add_custom_target(${id}_kabi_headers DEPENDS ${headers})
    add_dependencies(${target} ${id}_kabi_headers)
    # Only this package's headers are here; its imports come from umka_kabi_headers.
    target_include_directories(${target} BEFORE PRIVATE ${generated_include})
  endif()

  # Step 1 runs as part of producing the ELF, so an ELF that breaks the contract never
  # counts as built: it is deleted and the next build tries again.
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DUMKA_MODULE_CHECK_SCRIPT=ON
            -DMODCHECK=$<TARGET_FILE:umka-modcheck> -DMODULE_FILE=$<TARGET_FILE:${target}>
            -DMODULE_NAME=${name} -P ${UMKA_MODULE_SCRIPT}
    VERBATIM)
  add_dependencies(${target} umka-modcheck)

  # Step 2. umka_sign_module names its target <module target>_signed.
  umka_sign_module(${target} ${signed})
  add_custom_target(${id}_signed ALL)
  add_dependencies(${id}_signed ${target}_signed)

  get_property(public GLOBAL PROPERTY UMKA_MODULE_SIGNING_PUBLIC)
  add_test(NAME ${id}_module_signature
    COMMAND $<TARGET_FILE:umka-sign> verify --public ${public} ${signed})
  set_tests_properties(${id}_module_signature PROPERTIES LABELS "host;module")

  set_target_properties(${target} PROPERTIES UMKA_MODULE_NAME ${name} UMKA_MODULE_ELF ${elf}
                                             UMKA_MODULE_SIGNED ${signed}
                                             UMKA_MODULE_INCLUDE "${generated_include}")
  set(${id}_MODULE_ELF ${elf} PARENT_SCOPE)
  set(${id}_MODULE_SIGNED ${signed} PARENT_SCOPE)
  if(ARG_FILE_NAME)
    set_property(GLOBAL APPEND PROPERTY UMKA_MODULE_VERSIONS ${file_name})
  else()
    set_property(GLOBAL APPEND PROPERTY UMKA_MODULES ${name})
  endif()
endfunction()

else()

# --- cmake -P: the build-time check of one module ELF ----------------------------------
if(NOT UMKA_MODULE_CHECK_SCRIPT OR NOT MODCHECK OR NOT MODULE_FILE OR NOT MODULE_NAME)
  message(FATAL_ERROR "UmkaModule.cmake as a script needs -DUMKA_MODULE_CHECK_SCRIPT=ON "
                      "-DMODCHECK=<umka-modcheck> -DMODULE_FILE=<elf> -DMODULE_NAME=<name>")
endif()
execute_process(COMMAND ${MODCHECK} ${MODULE_FILE}
  OUTPUT_VARIABLE output ERROR_VARIABLE output RESULT_VARIABLE result)
string(STRIP "${output}" output)
if(NOT result EQUAL 0)
  file(REMOVE ${MODULE_FILE})
  message(FATAL_ERROR "module ${MODULE_NAME} breaks the module ELF contract "
                      "(docs/module-contract.md §2); ${MODULE_FILE} was deleted:\n${output}")
endif()
# The summary line is "...: ok: module <name> version <n>, ...".
if(NOT output MATCHES ": ok: module ([A-Za-z0-9_]+) version")
  file(REMOVE ${MODULE_FILE})
  message(FATAL_ERROR "module ${MODULE_NAME}: umka-modcheck printed no summary line for "
                      "${MODULE_FILE}:\n${output}")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL MODULE_NAME)
  file(REMOVE ${MODULE_FILE})
  message(FATAL_ERROR "module ${MODULE_NAME}: ${MODULE_FILE}'s .kabi_manifest declares module "
                      "'${CMAKE_MATCH_1}', not '${MODULE_NAME}': expand "
                      "UMKA_KABI_DEFINE_MANIFEST_<NAME>() of module ${MODULE_NAME}, or name the "
                      "umka_add_module() target after the manifest")
endif()
message(STATUS "${output}")

endif()
