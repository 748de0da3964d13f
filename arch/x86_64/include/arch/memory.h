// Address-space operations the generic nucleus uses. The x86-64 layout:
//   0xFFFF800000000000  direct map of physical memory ("physical window"), NX
//   0xFFFFFC0000000000  module images, each followed by an unmapped guard page
//   0xFFFFFE0000000000  kernel stacks, each below an unmapped guard page
//   0xFFFFFFFF80000000  the nucleus image (text RX, rodata R, data RW NX)
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/boot/memory_map.h"
#include "nucleus/boot/physical_view.h"
#include "nucleus/lib/status.h"
#include "nucleus/mm/physical_memory.h"

namespace umka::arch {

enum class DeviceAccess : uint8_t { ReadOnlyCached, ReadWriteUncached };

struct NucleusImage {
    uint64_t physical_start;
    uint64_t physical_end;
};
NucleusImage nucleus_image();

// Boot-time view of physical memory through the boot identity map (low 4 GiB).
PhysicalView boot_physical_view();

// Builds the nucleus's page tables (W^X image, direct map of RAM), switches to them and
// from then on translates physical addresses through the direct map.
Status build_kernel_address_space(PhysicalMemory& frames, const MemoryMap& memory_map);

// Physical address -> pointer through the current window (identity during early boot).
void* physical_to_virtual(uint64_t physical);
// The inverse, for pointers physical_to_virtual returned.
uint64_t direct_map_to_physical(const void* pointer);

// Maps a physical range that is not RAM (firmware tables in reserved memory, device
// registers) into the direct map on demand. Idempotent.
Result<void*> map_physical(uint64_t physical, size_t length, DeviceAccess access);

// A view that maps on demand; valid after build_kernel_address_space.
PhysicalView kernel_physical_view();

// Allocates and maps a kernel stack with an unmapped guard page below it. Returns its top.
Result<uint64_t> allocate_kernel_stack(size_t bytes);

struct AddressSpaceAudit {
    uint64_t leaf_entries;
    uint64_t large_leaf_entries;
    uint64_t write_execute_violations;
    uint64_t table_frames;
};
AddressSpaceAudit audit_kernel_address_space();

// Module images (0xFFFFFC0000000000 up): fresh frames mapped read-write, re-protected by the
// loader once relocated, released when the module is unloaded. Every reservation is
// followed by an unmapped guard page. Pages are only changed while no other CPU can run
// module code from them (at load, or after a swap's quiescence), so a local invalidation
// suffices.
enum class ModulePageAccess : uint8_t { ReadOnly, ReadWrite, ReadExecute };
Result<void*> reserve_module_pages(size_t bytes);
Status protect_module_pages(void* start, size_t bytes, ModulePageAccess access);
void release_module_pages(void* start, size_t bytes);

// True if the address is mapped in the current tables (lock-free; for fault reports).
bool is_mapped(uint64_t virtual_address);

// Physical address of the root table (for secondary CPUs).
uint64_t kernel_root_table();

}  // namespace umka::arch
