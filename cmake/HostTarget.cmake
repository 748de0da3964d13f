# Host-side targets (tools, tests, benchmarks): warnings everywhere, sanitizers on tests.
function(umka_host_target target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/arch/x86_64/include)
endfunction()

# For tests that run sanitized tools and check their exit status: a sanitizer report exits
# with a status no tool uses, and UBSan stops at the first report.
set(UMKA_SANITIZER_TEST_ENVIRONMENT "ASAN_OPTIONS=exitcode=86" "UBSAN_OPTIONS=halt_on_error=1:exitcode=86:print_stacktrace=1")

function(umka_host_sanitized target)
  umka_host_target(${target})
  if(UMKA_HOST_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# A googletest executable registered with ctest under the "host" label.
function(umka_host_test name)
  add_executable(${name} ${ARGN})
  umka_host_sanitized(${name})
  target_link_libraries(${name} PRIVATE GTest::gtest_main GTest::gmock)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS host)
endfunction()
