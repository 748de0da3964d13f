# The ring transport (nucleus/ring/) on the host: a sanitized library, a compile check with
# the kernel's flags, the googletest suite (AddressSanitizer + UBSan), the threaded tests
# again under ThreadSanitizer, and the Promela model of the protocol (test/spin/).
# Included from test/CMakeLists.txt; docs/rings.md describes what each test shows.

set(UMKA_RING_DIR ${PROJECT_SOURCE_DIR}/nucleus/ring)
set(UMKA_RING_TEST_DIR ${PROJECT_SOURCE_DIR}/test/host/ring)
set(UMKA_RING_SPIN_DIR ${PROJECT_SOURCE_DIR}/test/spin)
set(UMKA_RING_SOURCES
  ${UMKA_RING_DIR}/spsc_ring.cpp
  ${UMKA_RING_DIR}/ring_pair.cpp
  ${UMKA_RING_DIR}/ring_caller.cpp
  ${UMKA_RING_DIR}/ring_provider.cpp
)
find_package(Threads REQUIRED)

# --- Host library (ASan + UBSan like every host test) -----------------------------------
# status.cpp comes from umka_nucleus_host, which is built with the same sanitizers.
add_library(umka_ring_host STATIC ${UMKA_RING_SOURCES})
umka_host_sanitized(umka_ring_host)
target_compile_options(umka_ring_host PRIVATE -Werror)
target_include_directories(umka_ring_host PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(umka_ring_host PUBLIC umka_nucleus_host umka_kabi_headers)

# --- The same sources with the kernel's flags ---------------------------------------------
# -ffreestanding, -mgeneral-regs-only, -mcmodel=kernel, no red zone, -Werror: a hosted-only
# construct fails the build here. ring_kernel_symbols then checks the objects need nothing
# from outside but memcpy/memset (nucleus/lib/string.cpp): no libgcc, no heap, no libatomic.
add_library(umka_ring_kernel_check OBJECT ${UMKA_RING_SOURCES})
umka_kernel_target(umka_ring_kernel_check)
target_compile_options(umka_ring_kernel_check PRIVATE -Werror)
target_link_libraries(umka_ring_kernel_check PRIVATE umka_kabi_headers)
set_target_properties(umka_ring_kernel_check PROPERTIES POSITION_INDEPENDENT_CODE OFF)
add_test(NAME ring_kernel_symbols
  COMMAND ${Python3_EXECUTABLE} ${UMKA_RING_TEST_DIR}/check_kernel_objects.py
          --allow memcpy --allow memset $<TARGET_OBJECTS:umka_ring_kernel_check>
  COMMAND_EXPAND_LISTS)
set_tests_properties(ring_kernel_symbols PROPERTIES LABELS host)

# --- googletest suite -------------------------------------------------------------------
umka_host_test(ring_test
  ${UMKA_RING_TEST_DIR}/spsc_ring_test.cpp
  ${UMKA_RING_TEST_DIR}/ring_binding_test.cpp
  ${UMKA_RING_TEST_DIR}/ring_proxy_test.cpp
  ${UMKA_RING_TEST_DIR}/ring_adapter_test.cpp
  ${UMKA_RING_TEST_DIR}/ring_threads_test.cpp)
target_link_libraries(ring_test PRIVATE umka_ring_host Threads::Threads)
target_include_directories(ring_test PRIVATE ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include)
set_tests_properties(ring_test PROPERTIES TIMEOUT 600)

# --- The threaded tests under ThreadSanitizer ---------------------------------------------
# A separate executable: TSan cannot be combined with ASan, so nothing ASan-built is linked
# in (the ring sources and status.cpp are compiled here again). Fewer messages than in
# ring_test (TSan runs 5-15x slower); the interleavings are what it is after.
add_executable(ring_tsan_test
  ${UMKA_RING_TEST_DIR}/ring_threads_test.cpp
  ${UMKA_RING_SOURCES}
  ${PROJECT_SOURCE_DIR}/nucleus/lib/status.cpp)
umka_host_target(ring_tsan_test)
target_compile_options(ring_tsan_test PRIVATE -fsanitize=thread -fno-omit-frame-pointer -O1 -g)
target_link_options(ring_tsan_test PRIVATE -fsanitize=thread)
target_compile_definitions(ring_tsan_test PRIVATE UMKA_RING_TEST_MESSAGE_DIVISOR=10 UMKA_RING_TEST_SLOWDOWN=10)
target_link_libraries(ring_tsan_test PRIVATE GTest::gtest_main umka_kabi_headers Threads::Threads)
add_test(NAME ring_tsan_test COMMAND ring_tsan_test)
# halt_on_error: the first race report fails the test (exit code 66 otherwise, also a failure).
set_tests_properties(ring_tsan_test PROPERTIES LABELS host TIMEOUT 900
  ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")

# --- The Promela model of the protocol (test/spin/) -------------------------------------
# check_model.py runs spin -a, compiles pan.c for a safety run (assertions, invalid end
# states) and a liveness run (-a -f, the model's LTL property) and fails on any error. The
# no-recheck and no-barrier variants must FAIL: they prove the model and the checker can
# see a lost wake-up (and, for the barrier, the store-load reordering behind it).
find_program(UMKA_SPIN_EXECUTABLE spin)
if(NOT UMKA_SPIN_EXECUTABLE)
  set(UMKA_SPIN_EXECUTABLE spin)  # check_model.py then fails naming the missing tool
endif()
function(umka_ring_spin_test name model expect)
  add_test(NAME ${name}
    COMMAND ${Python3_EXECUTABLE} ${UMKA_RING_SPIN_DIR}/check_model.py
            --spin ${UMKA_SPIN_EXECUTABLE} --cc ${CMAKE_C_COMPILER}
            --work-dir ${CMAKE_CURRENT_BINARY_DIR}/spin/${name} --expect ${expect} ${ARGN}
            ${UMKA_RING_SPIN_DIR}/${model})
  set_tests_properties(${name} PROPERTIES LABELS "host;spin" TIMEOUT 300)
endfunction()
umka_ring_spin_test(ring_spin_model ring.pml pass)
umka_ring_spin_test(ring_spin_model_close ring.pml pass -D WITH_CLOSE)
umka_ring_spin_test(ring_spin_model_wider ring.pml pass -D CAPACITY=3 -D MESSAGES=7 -D SPURIOUS=2)
umka_ring_spin_test(ring_spin_model_fenced ring.pml pass -D FENCED)
umka_ring_spin_test(ring_spin_model_fenced_close ring.pml pass -D FENCED -D WITH_CLOSE)
umka_ring_spin_test(ring_spin_no_recheck_fails ring_no_recheck.pml fail)
umka_ring_spin_test(ring_spin_no_barrier_fails ring_no_barrier.pml fail)
umka_ring_spin_test(ring_spin_no_flush_fails ring.pml fail -D NO_FLUSH_BEFORE_WAIT)
umka_ring_spin_test(ring_spin_no_release_fails ring.pml fail -D NO_RELEASE_BEFORE_SLEEP)
