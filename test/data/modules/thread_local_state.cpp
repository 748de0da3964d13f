// Thread-local storage: a .tdata section and a PT_TLS segment.
#include "test_manifest.h"

[[gnu::used]] static thread_local int per_thread_state = 7;

UMKA_TEST_MODULE_MANIFEST("modcheck_tls");
