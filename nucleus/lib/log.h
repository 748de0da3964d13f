// Nucleus console output. `log` serialises whole lines across CPUs; `log_panic` bypasses
// the lock for fault and panic reports (the lock holder may be the CPU that faulted).
#pragma once

#include <stddef.h>

namespace umka {

void log(const char* pattern, ...) __attribute__((format(printf, 1, 2)));
void log_panic(const char* pattern, ...) __attribute__((format(printf, 1, 2)));
void log_write(const char* text, size_t length);

}  // namespace umka
