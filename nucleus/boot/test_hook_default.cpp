#include "nucleus/system.h"

namespace umka {
void boot_test_hook() {}
}  // namespace umka
