// Fatal errors: report on the panic-safe console, stop every CPU, halt.
#pragma once

namespace umka {

[[noreturn]] void panic(const char* pattern, ...) __attribute__((format(printf, 1, 2)));

// True once any CPU has started a fatal report; other CPUs halt when they see it.
bool panic_in_progress();
// Claims the right to report; false if another CPU already is.
bool begin_panic();

}  // namespace umka
