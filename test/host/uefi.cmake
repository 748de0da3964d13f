# Host tests of the UEFI boot path; included from test/CMakeLists.txt.
umka_host_test(uefi_boot_info_test
  ${PROJECT_SOURCE_DIR}/test/host/uefi_boot_info_test.cpp
  ${PROJECT_SOURCE_DIR}/arch/x86_64/boot/uefi_boot_info.cpp
  ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp)
