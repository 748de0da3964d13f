# nucleus/lib's invariant checks: VERIFY, Result<T>::value(), spin-lock owners and the
# lock-order checker (on in every host build). Death tests assert the failure messages.
set(UMKA_LIB_TEST_DIR ${PROJECT_SOURCE_DIR}/test/host/lib)
umka_host_test(lib_checks_test ${UMKA_LIB_TEST_DIR}/verify_test.cpp ${UMKA_LIB_TEST_DIR}/lock_checks_test.cpp)
target_link_libraries(lib_checks_test PRIVATE umka_nucleus_host)
