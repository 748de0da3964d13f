# Crash containment (nucleus/containment): the crash book and restart policy. The pure
# sources are part of umka_nucleus_host.
umka_host_test(containment_test ${PROJECT_SOURCE_DIR}/test/host/containment/crash_book_test.cpp)
target_link_libraries(containment_test PRIVATE umka_nucleus_host)
