# libFuzzer target over the console's line editor (line_editor_fuzzer.cpp states the
# invariants), run for a bounded time. Needs clang's fuzzer runtime (libclang-rt-14-dev);
# without it the test is not registered and configure says why.
include(LibFuzzer)
if(NOT UMKA_LIBFUZZER_CLANG)
  message(STATUS "console: clang libFuzzer runtime not found (apt-get install clang "
                 "libclang-rt-14-dev); console_line_editor_fuzz test not registered")
  return()
endif()

set(line_editor_fuzz_sources
  ${CMAKE_CURRENT_SOURCE_DIR}/line_editor_fuzzer.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/line_editor.cpp)
set(line_editor_fuzzer ${CMAKE_CURRENT_BINARY_DIR}/console_line_editor_fuzzer)
add_custom_command(OUTPUT ${line_editor_fuzzer}
  COMMAND ${UMKA_LIBFUZZER_CLANG} -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
          -fno-sanitize-recover=undefined -I${CMAKE_CURRENT_SOURCE_DIR} ${line_editor_fuzz_sources}
          -o ${line_editor_fuzzer}
  DEPENDS ${line_editor_fuzz_sources} ${CMAKE_CURRENT_SOURCE_DIR}/line_editor.h
  COMMENT "clang: building the console line editor fuzzer"
  VERBATIM)
add_custom_target(umka_console_line_editor_fuzzer ALL DEPENDS ${line_editor_fuzzer})

# Seeded with over-long lines, escape sequences and the bytes that once collided; 10 s.
set(line_editor_corpus ${CMAKE_CURRENT_BINARY_DIR}/line_editor_fuzz_corpus)
file(MAKE_DIRECTORY ${line_editor_corpus})
string(REPEAT " " 300 spaces)
file(WRITE ${line_editor_corpus}/seed-overlong "\n\nevolve scheduler scheduler-v2.umod${spaces}junk\r")
string(ASCII 27 esc)
string(ASCII 3 ctrl_c)
string(ASCII 155 csi8)
string(ASCII 143 ss3_8)
file(WRITE ${line_editor_corpus}/seed-escapes
  "\n\nl${esc}[A${esc}OP${esc}[1;5C${esc}x${esc}${esc}[Bs\r\n${esc}\rab${esc}[${ctrl_c}l${csi8}s\rl${ss3_8}s\r")
add_test(NAME console_line_editor_fuzz
  COMMAND ${line_editor_fuzzer} -max_total_time=10 -timeout=5 -rss_limit_mb=2048
          -max_len=2048 -print_final_stats=1
          -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/line_editor- ${line_editor_corpus})
set_tests_properties(console_line_editor_fuzz PROPERTIES LABELS "host;fuzz" TIMEOUT 90)
