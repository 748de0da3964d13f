// A .kabi_manifest for the modcheck test modules, in the layout of kabi-gen's kabi_base.h
// (one provided interface), so the test modules need no IDL of their own.
#pragma once

#include "umka/kabi/kabi_base.h"

struct TestModuleManifest {
    umka_kabi_manifest_header header;
    umka_kabi_manifest_interface provides[1];
};

#define UMKA_TEST_MODULE_MANIFEST(module_name)                                                    \
    extern "C"                                                                                    \
        [[gnu::used,                                                                              \
          gnu::section(".kabi_manifest")]] const TestModuleManifest umka_kabi_manifest_test = {   \
            {UMKA_KABI_MANIFEST_MAGIC, UMKA_KABI_MANIFEST_FORMAT,                                 \
             sizeof(umka_kabi_manifest_header), module_name, 1, UMKA_KABI_TRANSPORT_DIRECT, 0, 2, \
             0, 1, 0, 0, 0, sizeof(TestModuleManifest), 0},                                       \
            {{"char_device", "CharDevice", 1, UMKA_KABI_TRANSPORT_DIRECT, 0, 2, 0}},              \
    }
