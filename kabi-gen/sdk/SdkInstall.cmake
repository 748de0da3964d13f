# The "sdk" install component: what an out-of-tree driver project needs.
#   bin/kabi-gen
#   bin/umka-modcheck, umka-sign, umka-bundle  check (the loader's rules), sign, bundle
#   bin/umka-qemu                              boots share/umka-sdk/boot in QEMU
#   include/umka/kabi/*.h, *.hpp              generated headers of every kabi-idl/ package
#   include/umka/module_entry.h                the module entry contract (docs/module-contract.md)
#   include/umka/line_text.h                   bounded text for log lines and command output
#   include/umka/number_text.h                 the one checked number parser (decimal, 0x hex, limit)
#   include/umka/name_copy.h                   names copied whole or refused
#   include/umka/errno_text.h                  errno names for messages
#   include/umka/command_words.h               a CommandSet's packed words, checked
#   include/umka/command_output.h              a command's answer into the caller's buffer
#   include/umka/fill_pattern.h                the documented `fill` data pattern
#   include/umka/block_devices.h               the console's block device names (vda ...)
#   include/umka/file_names.h                  a directory entry's name, checked as Linux does
#   include/umka/virtio/                       the virtio 1.x library (transport, split queue, blk)
#   lib/libumka_runtime.a                     freestanding memcpy & co, position independent
#   lib/libumka_module_harness.a, libumka_nucleus_pure.a, include/umka-harness/
#                                              the host harness (no sanitizers) and the
#                                              nucleus loader code it runs
#   lib/cmake/UmkaSDK/                         find_package(UmkaSDK) and its functions
#   share/umka-sdk/kabi-idl/*.kabi             the IDL, so your .kabi files can import it
#   share/umka-sdk/tools/README.md             the tools, in short
#   share/umka-sdk/boot/                       nucleus.bin, nucleus.elf, bundle.cpio (default
#                                              bundle), BOOTX64.EFI: what umka-qemu boots
#   share/umka-sdk/modules/                    the default modules (*.umod) and manifest.txt
#   share/umka-sdk/keys/                       module-signing.public (what the nucleus trusts)
#                                              and, when that is the development key, its
#                                              secret half (development only)
#   share/umka-sdk/qemu/                       the QEMU launcher (umka_qemu.py, accel_probe.py, esp_image.py)
#   share/doc/umka-sdk/kabi-idl.md             the language reference
set(KABI_SDK_DIR ${CMAKE_CURRENT_SOURCE_DIR}/sdk)

add_library(umka_runtime STATIC ${KABI_SDK_DIR}/runtime/umka_runtime.c)
set_target_properties(umka_runtime PROPERTIES C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
target_compile_options(umka_runtime PRIVATE -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns
  -fno-stack-protector -mno-red-zone -mgeneral-regs-only -fPIC -fvisibility=hidden -O2 -Wall -Wextra -Werror)
target_include_directories(umka_runtime PRIVATE ${KABI_SDK_DIR}/include)

include(CMakePackageConfigHelpers)
configure_file(${KABI_SDK_DIR}/cmake/UmkaSDKConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)

install(TARGETS kabi-gen RUNTIME DESTINATION bin COMPONENT sdk)
install(TARGETS umka_runtime ARCHIVE DESTINATION lib COMPONENT sdk)
install(DIRECTORY ${KABI_GENERATED_DIR}/umka DESTINATION include COMPONENT sdk
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${KABI_SDK_DIR}/include/umka/module_entry.h ${KABI_SDK_DIR}/include/umka/fault_site.h ${KABI_SDK_DIR}/include/umka/line_text.h
  ${KABI_SDK_DIR}/include/umka/number_text.h ${KABI_SDK_DIR}/include/umka/name_copy.h
  ${KABI_SDK_DIR}/include/umka/errno_text.h ${KABI_SDK_DIR}/include/umka/command_words.h
  ${KABI_SDK_DIR}/include/umka/command_output.h ${KABI_SDK_DIR}/include/umka/fill_pattern.h
  ${KABI_SDK_DIR}/include/umka/block_devices.h ${KABI_SDK_DIR}/include/umka/file_names.h DESTINATION include/umka COMPONENT sdk)
install(DIRECTORY ${KABI_SDK_DIR}/include/umka/virtio DESTINATION include/umka COMPONENT sdk)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/sdk/UmkaSDKConfigVersion.cmake
              ${KABI_SDK_DIR}/cmake/UmkaSDKModules.cmake
  DESTINATION lib/cmake/UmkaSDK COMPONENT sdk)
install(DIRECTORY ${KABI_IDL_DIR}/ DESTINATION share/umka-sdk/kabi-idl COMPONENT sdk
  FILES_MATCHING PATTERN "*.kabi" PATTERN "baseline" EXCLUDE)
install(FILES ${KABI_SDK_DIR}/tools/README.md DESTINATION share/umka-sdk/tools COMPONENT sdk)

# Host tools. They link libsodium and libelf dynamically: the SDK runs where it was built
# (or on a host with those libraries).
install(TARGETS umka-modcheck umka-sign umka-bundle RUNTIME DESTINATION bin COMPONENT sdk)
install(PROGRAMS ${KABI_SDK_DIR}/tools/umka-qemu DESTINATION bin COMPONENT sdk)
install(FILES ${KABI_ROOT}/test/qemu/umka_qemu.py ${KABI_ROOT}/test/qemu/accel_probe.py ${KABI_ROOT}/test/qemu/esp_image.py
  DESTINATION share/umka-sdk/qemu COMPONENT sdk)

# The host harness (test/host/module/module.cmake: umka_module_harness_sdk, unsanitized)
# and the headers its header includes. File-level installs: those targets are defined in
# directories configured after this one.
install(FILES $<TARGET_FILE:umka_module_harness_sdk> DESTINATION lib COMPONENT sdk)
install(FILES $<TARGET_FILE:umka_nucleus_bench> DESTINATION lib RENAME libumka_nucleus_pure.a
  COMPONENT sdk)
install(FILES ${KABI_ROOT}/test/host/module/module_harness.h ${KABI_ROOT}/test/host/module/command_line.h
  ${KABI_ROOT}/test/host/module/host_port_io.h
  DESTINATION include/umka-harness COMPONENT sdk)
install(FILES ${KABI_ROOT}/nucleus/lib/status.h ${KABI_ROOT}/nucleus/lib/verify.h
  DESTINATION include/umka-harness/nucleus/lib
  COMPONENT sdk)
foreach(header capability_table diagnostic elf_module manifest module_binder service_registry)
  install(FILES ${KABI_ROOT}/nucleus/module/${header}.h
    DESTINATION include/umka-harness/nucleus/module COMPONENT sdk)
endforeach()

# What boots: the nucleus, the default bundle and its modules, all signed with the key the
# nucleus was built to trust (initramfs/tools/CMakeLists.txt).
install(FILES ${CMAKE_BINARY_DIR}/nucleus.bin ${CMAKE_BINARY_DIR}/nucleus.elf
              ${CMAKE_BINARY_DIR}/bundle.cpio
  DESTINATION share/umka-sdk/boot COMPONENT sdk)
install(FILES ${CMAKE_BINARY_DIR}/arch/x86_64/uefi-loader/BOOTX64.EFI
  DESTINATION share/umka-sdk/boot/arch/x86_64/uefi-loader COMPONENT sdk OPTIONAL)
install(FILES ${KABI_ROOT}/initramfs/default/manifest.txt DESTINATION share/umka-sdk/modules
  COMPONENT sdk)
foreach(module ${UMKA_DEFAULT_BUNDLE_MODULES})
  install(FILES ${CMAKE_BINARY_DIR}/modules/${module}.umod DESTINATION share/umka-sdk/modules
    COMPONENT sdk)
endforeach()
install(FILES ${UMKA_SDK_SIGNING_PUBLIC} DESTINATION share/umka-sdk/keys
  RENAME module-signing.public COMPONENT sdk)
if(NOT UMKA_MODULE_SIGNING_KEY)
  # The development key: generated in this build tree and trusted by this build's nucleus,
  # so SDK-built modules load in the SDK's nucleus. Anyone with the SDK has it: it must
  # never sign a production module (keys/README.md).
  install(FILES ${UMKA_SDK_SIGNING_SECRET} DESTINATION share/umka-sdk/keys
    RENAME development-module-signing.secret
    PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT sdk)
endif()
install(FILES ${KABI_SDK_DIR}/keys/README.md DESTINATION share/umka-sdk/keys COMPONENT sdk)
if(EXISTS ${KABI_ROOT}/docs/kabi-idl.md)
  install(FILES ${KABI_ROOT}/docs/kabi-idl.md DESTINATION share/doc/umka-sdk COMPONENT sdk)
endif()
