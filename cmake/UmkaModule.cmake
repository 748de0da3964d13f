# In-tree service and driver modules (DESIGN.md §5, docs/module-contract.md): the module
# build functions are those of the SDK, kabi-gen/sdk/cmake/UmkaSDKModules.cmake, with the
# same signatures in tree and out of tree (that file documents them):
#
#   umka_add_module(<name> SOURCES <source>... [KABI_PACKAGE <package>] [KABI_IDL <file.kabi>...]
#                   [FILE_NAME <name>-<variant>])
#   umka_sign_module(<module target or file> <output> [CHECK])
#   umka_add_bundle(<target> OUTPUT <file.cpio> MANIFEST <manifest.txt> MODULES <item>...)
#   umka_add_module_test(<test> <module target or ELF file> <test sources>...)
#
# Here the tools are this build's targets (kabi-gen, umka-modcheck, umka-sign, umka-bundle
# of initramfs/tools), the headers and runtime come from kabi-gen, modules are signed with
# the build's key (initramfs/tools/CMakeLists.txt: a development key in <build>/keys, or
# -DUMKA_MODULE_SIGNING_KEY), and module tests link the sanitized host harness
# (test/host/module/module.cmake), which is why modules/ and services/ are added after
# test/ in the top-level CMakeLists.
set(UMKA_KABI_GEN kabi-gen)
set(UMKA_MODCHECK $<TARGET_FILE:umka-modcheck>)
set(UMKA_SIGN $<TARGET_FILE:umka-sign>)
set(UMKA_BUNDLE $<TARGET_FILE:umka-bundle>)
set(UMKA_SDK_TOOL_TARGETS kabi-gen umka-modcheck umka-sign umka-bundle)
set(UMKA_SDK_TOOL_DEPENDS ${UMKA_SDK_TOOL_TARGETS})
set(UMKA_SDK_IDL_DIR ${PROJECT_SOURCE_DIR}/kabi-idl)
set(UMKA_SDK_MODULE_INCLUDE_DIRS ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include)
set(UMKA_SDK_MODULE_LIBRARIES umka_kabi_headers umka_runtime)
# The key files; initramfs/tools/CMakeLists.txt generates them.
set(UMKA_MODULE_SIGNING_KEY "" CACHE FILEPATH
    "Ed25519 secret key (64-byte libsodium format, from umka-sign keygen) to sign modules with; empty: a development key in <build>/keys")
if(UMKA_MODULE_SIGNING_KEY)
  get_filename_component(UMKA_SDK_SIGNING_SECRET ${UMKA_MODULE_SIGNING_KEY} ABSOLUTE)
  set(UMKA_SDK_SIGNING_PUBLIC ${CMAKE_BINARY_DIR}/keys/module-signing-own.public)
else()
  set(UMKA_SDK_SIGNING_SECRET ${CMAKE_BINARY_DIR}/keys/module-signing.secret)
  set(UMKA_SDK_SIGNING_PUBLIC ${CMAKE_BINARY_DIR}/keys/module-signing.public)
endif()
set(UMKA_SDK_SIGNING_DEPENDS umka_module_signing_keys)
set(UMKA_MODULE_TEST_LIBRARIES umka_module_harness GTest::gtest_main GTest::gmock)
set(UMKA_MODULE_TEST_SETUP umka_host_sanitized)
# In-tree code builds with warnings as errors.
set(UMKA_MODULE_EXTRA_COMPILE_OPTIONS -Werror)
include(${PROJECT_SOURCE_DIR}/kabi-gen/sdk/cmake/UmkaSDKModules.cmake)
