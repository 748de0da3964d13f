# The module build functions of UmkaOS: one file, used by the in-tree build (through
# cmake/UmkaModule.cmake) and installed as lib/cmake/UmkaSDK/UmkaSDKModules.cmake for
# out-of-tree projects (through UmkaSDKConfig.cmake). The signatures are the same in both;
# only where the tools, headers and libraries come from differs, and the includer says so
# by setting, before including this file:
#
#   UMKA_KABI_GEN, UMKA_MODCHECK, UMKA_SIGN, UMKA_BUNDLE
#                           the tools as commands (in tree: targets or $<TARGET_FILE:...>;
#                           out of tree: installed paths)
#   UMKA_SDK_TOOL_DEPENDS   what custom commands depend on for those tools (targets or files)
#   UMKA_SDK_IDL_DIR        the kabi-idl/ tree: imports resolve here, and a module's manifest
#                           package defaults to <dir>/modules/<package>.kabi
#   UMKA_SDK_MODULE_INCLUDE_DIRS   include directories of module code (module_entry.h, and
#                           the generated headers of every kabi-idl package)
#   UMKA_SDK_MODULE_LIBRARIES      libraries a module links (the SDK runtime, memcpy & co)
#   UMKA_SDK_SIGNING_SECRET, UMKA_SDK_SIGNING_PUBLIC, UMKA_SDK_SIGNING_DEPENDS
#                           the key modules are signed with and its public half
#   UMKA_MODULE_TEST_LIBRARIES     what a module test links: the host harness (the nucleus
#                           loader and binder on mmap) and googletest's main
#   UMKA_MODULE_TEST_SETUP  optional: a function called on each test executable (in tree:
#                           sanitizers)
#
# Functions (docs/module-contract.md §1, docs/module-signing.md):
#
#   umka_add_module(<name> SOURCES <source>... [KABI_PACKAGE <package>]
#                   [KABI_IDL <file.kabi>...] [FILE_NAME <name>-<variant>])
#   umka_sign_module(<module target or file> <output> [CHECK])
#   umka_add_bundle(<target> OUTPUT <file.cpio> MANIFEST <manifest.txt>
#                   MODULES <module target | file.umod | NAME=PATH>... [DEPENDS <target>...])
#   umka_add_module_test(<test> <module target or ELF file> <test sources>...)
#
# umka_add_module builds <name> as a module: a freestanding C++20 ELF64 ET_DYN, position
# independent, no undefined symbols, no DT_NEEDED, linked -z now (no lazy binding in the
# nucleus), statically linked to the SDK runtime. Then, at build time:
#   1. umka-modcheck checks the ELF with the nucleus loader's own validation (a refusal fails
#      the build with the loader's reason and deletes the ELF, so nothing downstream picks it
#      up), and the module's .kabi_manifest must name the module <name>: boot manifests and
#      bundles refer to modules by that name, so file name and module name must agree;
#   2. the checked ELF is signed (umka_sign_module) into <file>.umod.
#
# KABI_PACKAGE is the kabi package whose `module <name>` block is the manifest (default:
# <name>); the module expands UMKA_KABI_DEFINE_MANIFEST_<NAME>() from <package>_manifest.hpp.
# The package is ${UMKA_SDK_IDL_DIR}/modules/<package>.kabi (its headers are already among
# UMKA_SDK_MODULE_INCLUDE_DIRS), or one of the KABI_IDL files: those are generated for this
# module alone into the build tree, imports resolving against UMKA_SDK_IDL_DIR. Configuration
# fails unless the package file declares `module <name>`.
#
# FILE_NAME (default <name>) names the files and targets of an alternative version of a
# module, built next to the default one for live evolution: `umka_add_module(scheduler
# FILE_NAME scheduler-v2 KABI_IDL .../versions/scheduler.kabi ...)` makes
# modules/scheduler-v2.{elf,umod} and targets scheduler_v2_module / scheduler_v2_signed,
# whose manifest still names module `scheduler` (the version tells the two apart).
#
# Outputs, targets and properties:
#   ${CMAKE_BINARY_DIR}/modules/<file>.elf    target <id>_module (the ELF host tests load)
#   ${CMAKE_BINARY_DIR}/modules/<file>.umod   target <id>_signed (also <id>_module_signed,
#                                             the name umka_sign_module gives it), in `all`
#   where <file> is FILE_NAME or <name>, and <id> is <file> with '-' as '_'
#   target properties of <id>_module: UMKA_MODULE_NAME, UMKA_MODULE_FILE_NAME,
#     UMKA_MODULE_ELF, UMKA_MODULE_SIGNED, UMKA_MODULE_INCLUDE (directory of KABI_IDL headers)
#   variables in the caller's scope: <id>_MODULE_ELF, <id>_MODULE_SIGNED
#   global property UMKA_MODULES: every <name> added without FILE_NAME, in order;
#     UMKA_MODULE_VERSIONS: every FILE_NAME
#   ctest <id>_module_signature: umka-sign verify of the .umod with the public key
#
# This file is also a `cmake -P` script: with UMKA_MODULE_CHECK_SCRIPT set it runs the
# build-time check of step 1 (see the end of the file).

if(NOT CMAKE_SCRIPT_MODE_FILE)

foreach(required UMKA_KABI_GEN UMKA_MODCHECK UMKA_SIGN UMKA_BUNDLE UMKA_SDK_IDL_DIR
                 UMKA_SDK_MODULE_INCLUDE_DIRS UMKA_SDK_MODULE_LIBRARIES UMKA_SDK_SIGNING_SECRET
                 UMKA_SDK_SIGNING_PUBLIC UMKA_MODULE_TEST_LIBRARIES)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "UmkaSDKModules.cmake: ${required} must be set before including it")
  endif()
endforeach()

# The module contract's flags (docs/module-contract.md §1). Why each: no libc or unwinder
# exists in the nucleus (-ffreestanding, no exceptions, RTTI, thread-safe statics or stack
# protector), interrupts may land on the module's stack (-mno-red-zone), the nucleus does
# not save SIMD state around module calls (-mgeneral-regs-only), and the loader maps the
# image anywhere (-fPIC). Only umka_module_entry is exported (-fvisibility=hidden).
set(UMKA_MODULE_COMPILE_OPTIONS
  -ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-stack-protector
  -mno-red-zone -mgeneral-regs-only -fPIC -fvisibility=hidden -fno-asynchronous-unwind-tables
  -fno-omit-frame-pointer -O2 -Wall -Wextra)
# -z now: every relocation is resolved at load time (there is no lazy binding in the
# nucleus); -z text: no text relocations; -z separate-code: code gets pages of its own, so
# W^X mapping never needs a page that is both; 4 KiB pages because the loader maps 4 KiB
# pages; no build id (the signature already identifies the image).
set(UMKA_MODULE_LINK_OPTIONS
  -nostdlib -shared -Wl,--no-undefined -Wl,-z,now -Wl,-z,text -Wl,-z,noexecstack
  -Wl,-z,max-page-size=0x1000 -Wl,-z,separate-code -Wl,--build-id=none
  # Debug info is most of a module file and is signed and verified at every boot; the
  # symbol table stays (modcheck and fault reports name symbols with it).
  -Wl,--strip-debug
  # The fault-injection site (umka/fault_site.h) is in every module, used or not.
  -Wl,--undefined=umka_fault_site)
set(UMKA_MODULE_OUTPUT_DIR ${CMAKE_BINARY_DIR}/modules)
set(UMKA_MODULE_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
# Extra compile options for every module (in tree: -Werror).
if(NOT DEFINED UMKA_MODULE_EXTRA_COMPILE_OPTIONS)
  set(UMKA_MODULE_EXTRA_COMPILE_OPTIONS)
endif()

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
  set(package_file ${UMKA_SDK_IDL_DIR}/modules/${ARG_KABI_PACKAGE}.kabi)
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
  target_compile_options(${target} PRIVATE ${UMKA_MODULE_COMPILE_OPTIONS}
                                           ${UMKA_MODULE_EXTRA_COMPILE_OPTIONS})
  target_compile_definitions(${target} PRIVATE UMKA_MODULE=1)
  target_include_directories(${target} PRIVATE ${UMKA_SDK_MODULE_INCLUDE_DIRS})
  target_link_options(${target} PRIVATE ${UMKA_MODULE_LINK_OPTIONS})
  target_link_libraries(${target} PRIVATE ${UMKA_SDK_MODULE_LIBRARIES})

  set(generated_include "")
  if(idl_files)
    set(generated_include ${CMAKE_CURRENT_BINARY_DIR}/${file_name}-kabi)
    set(headers)
    foreach(idl ${idl_files})
      get_filename_component(idl_package ${idl} NAME_WE)
      foreach(suffix .hpp .h _ring.hpp _manifest.hpp _state.hpp)
        list(APPEND headers ${generated_include}/umka/kabi/${idl_package}${suffix})
      endforeach()
    endforeach()
    add_custom_command(OUTPUT ${headers}
      COMMAND ${UMKA_KABI_GEN} -I ${UMKA_SDK_IDL_DIR} --out-dir ${generated_include}
              --emit cpp,c,ring,manifest,state ${idl_files}
      DEPENDS ${UMKA_SDK_TOOL_DEPENDS} ${idl_files}
      COMMENT "kabi-gen: interfaces of module ${file_name}"
      VERBATIM)
    add_custom_target(${id}_kabi_headers DEPENDS ${headers})
    add_dependencies(${target} ${id}_kabi_headers)
    # Only this package's headers are here; its imports come from the SDK's headers.
    target_include_directories(${target} BEFORE PRIVATE ${generated_include})
  endif()

  # Step 1 runs as part of producing the ELF, so an ELF that breaks the contract never
  # counts as built: it is deleted and the next build tries again.
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DUMKA_MODULE_CHECK_SCRIPT=ON
            -DMODCHECK=${UMKA_MODCHECK} -DMODULE_FILE=$<TARGET_FILE:${target}>
            -DMODULE_NAME=${name} -P ${UMKA_MODULE_SCRIPT}
    VERBATIM)
  if(UMKA_SDK_TOOL_TARGETS)
    add_dependencies(${target} ${UMKA_SDK_TOOL_TARGETS})
  endif()

  # Step 2. umka_sign_module names its target <module target>_signed.
  umka_sign_module(${target} ${signed})
  add_custom_target(${id}_signed ALL)
  add_dependencies(${id}_signed ${target}_signed)

  add_test(NAME ${id}_module_signature
    COMMAND ${UMKA_SIGN} verify --public ${UMKA_SDK_SIGNING_PUBLIC} ${signed})
  set_tests_properties(${id}_module_signature PROPERTIES LABELS "host;module")

  set_target_properties(${target} PROPERTIES UMKA_MODULE_NAME ${name}
                                             UMKA_MODULE_FILE_NAME ${file_name}
                                             UMKA_MODULE_ELF ${elf} UMKA_MODULE_SIGNED ${signed}
                                             UMKA_MODULE_INCLUDE "${generated_include}")
  set(${id}_MODULE_ELF ${elf} PARENT_SCOPE)
  set(${id}_MODULE_SIGNED ${signed} PARENT_SCOPE)
  if(ARG_FILE_NAME)
    set_property(GLOBAL APPEND PROPERTY UMKA_MODULE_VERSIONS ${file_name})
  else()
    set_property(GLOBAL APPEND PROPERTY UMKA_MODULES ${name})
  endif()
endfunction()

# umka_sign_module(<target-or-file> <output> [CHECK] [UNCHECKED])
# Writes the signed module <output> (relative paths are under the current binary dir)
# from a module target's file, or from a file path (absolute, or relative to the current
# source dir), with UMKA_SDK_SIGNING_SECRET. CHECK runs umka-modcheck on the module first
# and fails the build on a refusal. umka-sign itself refuses a module the loader would
# refuse; UNCHECKED (`umka-sign sign --unchecked`) signs it anyway, for test fixtures whose
# point is a signed module the loader must refuse. Creates the target <name>_signed (ALL), where <name>
# is the module target, or <output>'s file name with dots as underscores.
function(umka_sign_module input output)
  cmake_parse_arguments(ARG "CHECK;UNCHECKED" "" "" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "umka_sign_module: unexpected arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT IS_ABSOLUTE ${output})
    set(output ${CMAKE_CURRENT_BINARY_DIR}/${output})
  endif()
  if(TARGET ${input})
    set(input_file $<TARGET_FILE:${input}>)
    set(input_depends ${input})
    set(name ${input})
  else()
    get_filename_component(input_file ${input} ABSOLUTE)
    set(input_depends ${input_file})
    get_filename_component(name ${output} NAME)
    string(MAKE_C_IDENTIFIER ${name} name)
  endif()
  set(check)
  if(ARG_CHECK)
    set(check COMMAND ${UMKA_MODCHECK} ${input_file})
  endif()
  set(unchecked)
  if(ARG_UNCHECKED)
    set(unchecked --unchecked)
  endif()
  add_custom_command(OUTPUT ${output}
    ${check}
    COMMAND ${UMKA_SIGN} sign --secret ${UMKA_SDK_SIGNING_SECRET} --output ${output} ${unchecked}
            ${input_file}
    DEPENDS ${input_depends} ${UMKA_SDK_SIGNING_SECRET} ${UMKA_SDK_TOOL_DEPENDS}
    COMMENT "Signing module ${name}"
    VERBATIM)
  add_custom_target(${name}_signed ALL DEPENDS ${output})
  if(UMKA_SDK_SIGNING_DEPENDS)
    add_dependencies(${name}_signed ${UMKA_SDK_SIGNING_DEPENDS})
  endif()
endfunction()

# umka_add_bundle(<target> OUTPUT <file.cpio> MANIFEST <manifest.txt>
#                 MODULES <item>... [DEPENDS <target>...])
# A boot bundle written by umka-bundle create: manifest.txt first, then each item in order.
# An item is a module target of umka_add_module (stored as <file>.umod, its signed file), a
# file (stored under its file name), or NAME=PATH (the file PATH stored as NAME; NAME may be
# a path under root/, the root file system's tree: docs/files.md). DEPENDS
# names further targets that produce NAME=PATH files. A relative OUTPUT is under the current
# binary directory. The target is in `all`.
function(umka_add_bundle target)
  cmake_parse_arguments(ARG "" "OUTPUT;MANIFEST" "MODULES;DEPENDS" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_OUTPUT OR NOT ARG_MANIFEST)
    message(FATAL_ERROR "umka_add_bundle(${target}): OUTPUT and MANIFEST are required "
                        "(unexpected: ${ARG_UNPARSED_ARGUMENTS})")
  endif()
  if(NOT IS_ABSOLUTE ${ARG_OUTPUT})
    set(ARG_OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${ARG_OUTPUT})
  endif()
  get_filename_component(manifest ${ARG_MANIFEST} ABSOLUTE)
  set(entries)
  set(inputs ${manifest})
  set(targets ${ARG_DEPENDS})
  foreach(item ${ARG_MODULES})
    if(item MATCHES "^([^=/]+|root/[^=]+)=(.+)$")
      get_filename_component(path ${CMAKE_MATCH_2} ABSOLUTE)
      list(APPEND entries ${CMAKE_MATCH_1}=${path})
      list(APPEND inputs ${path})
    elseif(item MATCHES "/" OR item MATCHES "\\.umod$")
      get_filename_component(path ${item} ABSOLUTE)
      list(APPEND entries ${path})
      list(APPEND inputs ${path})
    else()
      # A module target; it may be defined after this call, so its files are read
      # through generator expressions.
      list(APPEND entries
        "$<TARGET_PROPERTY:${item},UMKA_MODULE_FILE_NAME>.umod=$<TARGET_PROPERTY:${item},UMKA_MODULE_SIGNED>")
      list(APPEND inputs "$<TARGET_PROPERTY:${item},UMKA_MODULE_SIGNED>")
      list(APPEND targets ${item}_signed)
    endif()
  endforeach()
  add_custom_command(OUTPUT ${ARG_OUTPUT}
    COMMAND ${UMKA_BUNDLE} create --output ${ARG_OUTPUT} --manifest ${manifest} ${entries}
    DEPENDS ${inputs} ${UMKA_SDK_TOOL_DEPENDS}
    COMMENT "Boot bundle ${ARG_OUTPUT}"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${ARG_OUTPUT})
  if(targets)
    add_dependencies(${target} ${targets})
  endif()
endfunction()

# umka_add_module_test(<test> <module target or ELF file> <test sources>...)
# A googletest executable linked with the host harness (UMKA_MODULE_TEST_LIBRARIES); the
# module's ELF path reaches the test as the macro UMKA_MODULE_UNDER_TEST and through
# umka::harness::module_under_test(). The harness loads that very file with the nucleus's
# loader code. For a module target, its KABI_IDL headers are on the test's include path.
function(umka_add_module_test name module)
  if(NOT ARGN)
    message(FATAL_ERROR "umka_add_module_test(${name}): test sources are required")
  endif()
  add_executable(${name} ${ARGN})
  set_target_properties(${name} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
  if(UMKA_MODULE_TEST_SETUP)
    cmake_language(CALL ${UMKA_MODULE_TEST_SETUP} ${name})
  endif()
  target_link_libraries(${name} PRIVATE ${UMKA_MODULE_TEST_LIBRARIES})
  if(TARGET ${module} OR NOT module MATCHES "/")
    target_compile_definitions(${name} PRIVATE UMKA_MODULE_UNDER_TEST="$<TARGET_FILE:${module}>")
    target_include_directories(${name} BEFORE PRIVATE
      $<TARGET_PROPERTY:${module},UMKA_MODULE_INCLUDE>)
    add_dependencies(${name} ${module})
  else()
    get_filename_component(module_path ${module} ABSOLUTE)
    target_compile_definitions(${name} PRIVATE UMKA_MODULE_UNDER_TEST="${module_path}")
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "host;module")
endfunction()

else()

# --- cmake -P: the build-time check of one module ELF ----------------------------------
if(NOT UMKA_MODULE_CHECK_SCRIPT OR NOT MODCHECK OR NOT MODULE_FILE OR NOT MODULE_NAME)
  message(FATAL_ERROR "UmkaSDKModules.cmake as a script needs -DUMKA_MODULE_CHECK_SCRIPT=ON "
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
