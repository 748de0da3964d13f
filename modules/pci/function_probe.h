// The per-function steps of enumeration.cpp, one file each: BAR sizing (bars.cpp) and the
// capability walk (capabilities.cpp). Both record problems on the function.
#pragma once

#include "enumeration.h"

namespace umka::pci {

void note_problem(Function& function, Problem problem, uint8_t detail);
void size_bars(ConfigAccess& access, Function& function);
// After size_bars: MSI-X tables and virtio structures are checked against the BARs.
void read_capabilities(ConfigAccess& access, Function& function);

}  // namespace umka::pci
