// Fills a fresh tmpfs volume from the boot bundle's root/ tree (boot_files.BootFiles): each
// file at its path, its directories made as the paths need them (0755).
#pragma once

#include "tmpfs_store.h"
#include "umka/module_entry.h"

namespace umka::tmpfs {

// `boot_files` and `log` are the binding's indices of boot_files.BootFiles and
// kernel_services.Log. A file that does not fit (ENOSPC) or names a path through a file is
// an error: the root would not be what the bundle says.
Status fill_from_boot_files(const UmkaModuleBinding* binding, uint32_t boot_files, uint32_t log,
                            Store& store, uint64_t now_ns);

}  // namespace umka::tmpfs
