# The "sdk" install component: what an out-of-tree driver project needs.
#   bin/kabi-gen
#   include/umka/kabi/*.h, *.hpp              generated headers of every kabi-idl/ package
#   include/umka/module_entry.h                the module entry contract (docs/module-contract.md)
#   lib/libumka_runtime.a                     freestanding memcpy & co, position independent
#   lib/cmake/UmkaSDK/                         find_package(UmkaSDK) and its functions
#   share/umka-sdk/kabi-idl/*.kabi             the IDL, so your .kabi files can import it
#   share/umka-sdk/tools/                      module checker and signer (issue 4)
#   share/doc/umka-sdk/kabi-idl.md             the language reference
set(KABI_SDK_DIR ${CMAKE_CURRENT_SOURCE_DIR}/sdk)

add_library(umka_runtime STATIC ${KABI_SDK_DIR}/runtime/umka_runtime.c)
set_target_properties(umka_runtime PROPERTIES C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
target_compile_options(umka_runtime PRIVATE -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns
  -fno-stack-protector -mno-red-zone -mgeneral-regs-only -fPIC -fvisibility=hidden -O2 -Wall -Wextra -Werror)

include(CMakePackageConfigHelpers)
configure_file(${KABI_SDK_DIR}/cmake/UmkaSDKConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)

install(TARGETS kabi-gen RUNTIME DESTINATION bin COMPONENT sdk)
install(TARGETS umka_runtime ARCHIVE DESTINATION lib COMPONENT sdk)
install(DIRECTORY ${KABI_GENERATED_DIR}/umka DESTINATION include COMPONENT sdk
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${KABI_SDK_DIR}/include/umka/module_entry.h DESTINATION include/umka COMPONENT sdk)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfigVersion.cmake
              ${KABI_SDK_DIR}/cmake/UmkaSDKModules.cmake
  DESTINATION lib/cmake/UmkaSDK COMPONENT sdk)
install(DIRECTORY ${KABI_IDL_DIR}/ DESTINATION share/umka-sdk/kabi-idl COMPONENT sdk
  FILES_MATCHING PATTERN "*.kabi" PATTERN "baseline" EXCLUDE)
install(FILES ${KABI_SDK_DIR}/tools/README.md DESTINATION share/umka-sdk/tools COMPONENT sdk)
if(EXISTS ${KABI_ROOT}/docs/kabi-idl.md)
  install(FILES ${KABI_ROOT}/docs/kabi-idl.md DESTINATION share/doc/umka-sdk COMPONENT sdk)
endif()
