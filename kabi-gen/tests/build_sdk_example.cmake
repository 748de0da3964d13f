# Installs the sdk component into a fresh prefix, then configures, builds and tests
# examples/hello_driver against that prefix only (no path into the source or build tree),
# runs its tests, checks its bundle with the installed umka-bundle and boots it with the
# installed umka-qemu (BOOT_CHECK, test/qemu/sdk_example_boot.py).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${result}): ${command}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component sdk --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR}/build --output-on-failure)
# The example's bundle, at its fixed path, through the installed umka-bundle: listed (each
# module named, signed) and verified against the key the installed nucleus trusts.
set(bundle ${WORK_DIR}/build/hello_bundle.cpio)
execute_process(COMMAND ${prefix}/bin/umka-bundle list ${bundle}
  OUTPUT_VARIABLE listing RESULT_VARIABLE result)
message(STATUS "umka-bundle list ${bundle}:\n${listing}")
if(NOT result EQUAL 0 OR NOT listing MATCHES "hello_driver\\.umod +[0-9]+ bytes +module hello_driver version 1, signed")
  message(FATAL_ERROR "umka-bundle list: hello_driver.umod is missing or not a signed module")
endif()
foreach(module serial_console console_service kernel_heap scheduler workload)
  if(NOT listing MATCHES "${module}\\.umod +[0-9]+ bytes +module ${module} version")
    message(FATAL_ERROR "umka-bundle list: the default module ${module} is missing")
  endif()
endforeach()
run(${prefix}/bin/umka-bundle verify ${bundle} --public ${prefix}/share/umka-sdk/keys/module-signing.public)
# The bundle boots with the installed launcher and nucleus: the module's console command,
# a live swap to hello_driver-v2.umod and back with its state carried (TCG, so any host).
if(BOOT_CHECK)
  run(${PYTHON} ${BOOT_CHECK} --prefix ${prefix} --bundle ${bundle} --accel tcg)
endif()
