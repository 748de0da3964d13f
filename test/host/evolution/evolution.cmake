# Live evolution (nucleus/evolution): the state machine, the hash-chained log, state
# transfer and the replacement rule. The pure sources are part of umka_nucleus_host.
set(UMKA_EVOLUTION_TEST_DIR ${PROJECT_SOURCE_DIR}/test/host/evolution)
umka_host_test(evolution_test
  ${UMKA_EVOLUTION_TEST_DIR}/evolution_engine_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/evolution_log_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/state_transfer_test.cpp
  ${UMKA_EVOLUTION_TEST_DIR}/replacement_check_test.cpp)
target_link_libraries(evolution_test PRIVATE umka_nucleus_host umka_kabi_headers)
