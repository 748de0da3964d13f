// Loads an ACPI capture (test/data/acpi/*.txt, written by capture.py from the nucleus's
// `acpidump`) into fake physical memory at the addresses QEMU placed the tables.
#pragma once

#include <string>

#include "test/host/physical_memory_fake.h"

namespace umka::testing {

struct AcpiCapture {
    FakePhysicalMemory memory;
    uint64_t rsdp = 0;
};

// Fails the current test (and returns an empty capture) if the file is unreadable.
AcpiCapture load_acpi_capture(const std::string& path);

}  // namespace umka::testing
