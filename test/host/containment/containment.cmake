# Crash containment (nucleus/containment): the crash book and restart policy. The pure
# sources are part of umka_nucleus_host.
umka_host_test(containment_test ${PROJECT_SOURCE_DIR}/test/host/containment/crash_book_test.cpp)
target_link_libraries(containment_test PRIVATE umka_nucleus_host)

# The x86-64 guarded call and fault resume, driven by real faults (signals) on the host.
# Frame pointers on, so the frame walk has a chain; no sanitizers, whose shadow stacks a
# resumed fault would leave behind.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  add_executable(guarded_call_test ${PROJECT_SOURCE_DIR}/test/host/containment/guarded_call_test.cpp
                 ${PROJECT_SOURCE_DIR}/arch/x86_64/cpu/guarded_call.S
                 ${PROJECT_SOURCE_DIR}/arch/x86_64/cpu/recovery.cpp)
  target_include_directories(guarded_call_test PRIVATE ${PROJECT_SOURCE_DIR}
                             ${PROJECT_SOURCE_DIR}/arch/x86_64/include)
  # No red zone: the test's own assembly pushes below the stack pointer.
  target_compile_options(guarded_call_test PRIVATE -fno-omit-frame-pointer -mno-red-zone -O1)
  target_link_libraries(guarded_call_test PRIVATE GTest::gtest_main)
  add_test(NAME guarded_call_test COMMAND guarded_call_test)
  set_tests_properties(guarded_call_test PROPERTIES LABELS host)

  # The guarded direct call's trampoline between a consumer and a fake provider, with real
  # faults in the provider (as above).
  add_executable(direct_call_test ${PROJECT_SOURCE_DIR}/test/host/containment/direct_call_test.cpp
                 ${PROJECT_SOURCE_DIR}/arch/x86_64/cpu/direct_call.S
                 ${PROJECT_SOURCE_DIR}/arch/x86_64/cpu/guarded_call.S
                 ${PROJECT_SOURCE_DIR}/arch/x86_64/cpu/recovery.cpp
                 ${PROJECT_SOURCE_DIR}/nucleus/containment/direct_guard.cpp)
  target_include_directories(direct_call_test PRIVATE ${PROJECT_SOURCE_DIR}
                             ${PROJECT_SOURCE_DIR}/arch/x86_64/include
                             ${PROJECT_SOURCE_DIR}/kabi-gen/sdk/include)
  target_compile_options(direct_call_test PRIVATE -fno-omit-frame-pointer -mno-red-zone -O1)
  target_link_libraries(direct_call_test PRIVATE GTest::gtest_main umka_kabi_headers)
  add_test(NAME direct_call_test COMMAND direct_call_test)
  set_tests_properties(direct_call_test PROPERTIES LABELS host)
endif()

# The Promela model of a crash racing ring requests (test/spin/containment.pml), checked by
# spin like the ring's and the swap's models. Each broken variant must fail.
umka_ring_spin_test(containment_spin_model containment.pml pass)
umka_ring_spin_test(containment_spin_model_deeper_rings containment.pml pass -D REQUESTS=3 -D CAPACITY=2)
umka_ring_spin_test(containment_spin_no_pause_wait_fails containment.pml fail -D NO_PAUSE_WAIT)
umka_ring_spin_test(containment_spin_drop_in_flight_fails containment.pml fail -D DROP_IN_FLIGHT)
umka_ring_spin_test(containment_spin_answer_twice_fails containment.pml fail -D ANSWER_TWICE)

# The memory-domain switch protocol over a fake rights register, through a generated
# provider thunk with the nucleus's entry hook.
umka_host_test(memory_domain_test ${PROJECT_SOURCE_DIR}/test/host/containment/memory_domain_test.cpp
               ${PROJECT_SOURCE_DIR}/nucleus/containment/nucleus_entry.cpp)
target_include_directories(memory_domain_test PRIVATE ${PROJECT_SOURCE_DIR}
                           ${PROJECT_SOURCE_DIR}/arch/x86_64/include)
target_link_libraries(memory_domain_test PRIVATE umka_kabi_headers)
