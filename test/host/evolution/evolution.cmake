# Live evolution (nucleus/evolution): the state machine, the hash-chained log, state
# transfer and the replacement rule. The pure sources are part of umka_nucleus_host.
set(UMKA_EVOLUTION_TEST_DIR ${PROJECT_SOURCE_DIR}/test/host/evolution)
umka_host_test(evolution_test
  ${UMKA_EVOLUTION_TEST_DIR}/evolution_engine_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/evolution_log_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/state_transfer_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/state_snapshot_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/replacement_check_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/pause_hooks_test.cpp)
target_link_libraries(evolution_test PRIVATE umka_nucleus_host umka_kabi_headers)

# The Promela model of the swap protocol (test/spin/evolution.pml), checked by spin like
# the ring's model (test/host/ring/ring.cmake defines umka_ring_spin_test). Each broken
# variant must fail: it shows the model can see the bug the protocol step prevents.
umka_ring_spin_test(evolution_spin_model evolution.pml pass)
umka_ring_spin_test(evolution_spin_model_more_calls evolution.pml pass -D CALLS=3)
umka_ring_spin_test(evolution_spin_no_wait_fails evolution.pml fail -D NO_WAIT_FOR_CPUS)
umka_ring_spin_test(evolution_spin_no_hold_fails evolution.pml fail -D NO_HOLD)
umka_ring_spin_test(evolution_spin_no_scan_fails evolution.pml fail -D NO_SCAN)
umka_ring_spin_test(evolution_spin_no_recheck_fails evolution.pml fail -D NO_RECHECK)
