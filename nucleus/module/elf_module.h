// Validating and loading a module ELF (docs/module-contract.md, DESIGN.md §5) from a byte
// buffer whose signature trailer the caller has already checked and stripped. The same code
// runs in the nucleus (pages from the frame allocator) and in the host harness (mmap): all
// memory is reached through ModuleMemory.
//
// Rules (each refusal is Errno::ExecFormat with a one-line reason naming the culprit):
//   ELF64, little-endian, x86-64, ET_DYN; headers and tables inside the file; PT_LOAD
//   segments with vaddr ≡ offset (mod 4096), sorted, not sharing a page, none both writable
//   and executable; no PT_INTERP, PT_TLS, executable PT_GNU_STACK; a PT_DYNAMIC with no
//   DT_NEEDED, DT_TEXTREL, DT_REL, DT_RELR, DT_INIT*, DT_FINI*, DT_PREINIT*; relocations
//   (DT_RELA) only R_X86_64_RELATIVE, targeting writable segments, addends inside the
//   image; DT_JMPREL empty; no undefined .dynsym symbol; no TLS, .init_array, .fini_array;
//   no writable allocated section except .data.rel.ro, .got, .got.plt and .dynamic (they are
//   read-only after relocation) — a .data or .bss with bytes in it is refused naming a
//   symbol in it; a valid .kabi_manifest; an exported function umka_module_entry inside an
//   executable segment.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "nucleus/lib/status.h"
#include "nucleus/module/diagnostic.h"
#include "nucleus/module/manifest.h"
#include "umka/fault_site.h"
#include "umka/module_entry.h"

namespace umka::modules {

inline constexpr uint64_t kModulePageSize = 4096;
// At most this many PT_LOAD segments (a module has 4: headers, text, rodata, relro data).
inline constexpr size_t kMaximumLoadSegments = 8;
// Refuse images larger than this before reserving anything (garbage sizes, fuzzing).
inline constexpr uint64_t kMaximumImageSize = uint64_t(64) << 20;

enum class SegmentAccess : uint8_t {
    ReadOnly,
    ReadWrite,
    ReadExecute,
};

// Where module images live. The nucleus maps fresh frames into its module area; the host
// harness uses mmap/mprotect/munmap. A plain struct of function pointers (the same shape
// as a KABI vtable) so the nucleus needs no C++ virtual-call runtime.
struct ModuleMemory {
    void* context;
    // `bytes` is a multiple of kModulePageSize. Page-aligned memory, readable and writable;
    // contents unspecified (the loader fills every byte). Errno::OutOfMemory when none.
    Result<void*> (*reserve)(void* context, size_t bytes);
    // Page-aligned range inside a reservation.
    Status (*protect)(void* context, void* start, size_t bytes, SegmentAccess access);
    // A whole reservation, as returned by reserve.
    void (*release)(void* context, void* start, size_t bytes);
};

struct LoadSegment {
    uint64_t virtual_address;
    uint64_t memory_size;
    uint64_t file_offset;
    uint64_t file_size;
    uint32_t flags;  // elf::kSegmentRead/Write/Execute
};

// Everything validation established and loading needs; every range is checked against the
// file (file offsets) or the image (virtual addresses).
struct ModuleLayout {
    LoadSegment segments[kMaximumLoadSegments];
    size_t segment_count;
    uint64_t image_start;  // lowest PT_LOAD address rounded down to a page
    uint64_t image_size;   // page-rounded span of all PT_LOAD segments
    uint64_t relocation_file_offset;
    uint64_t relocation_count;
    uint64_t entry_address;       // umka_module_entry
    uint64_t fault_site_address;  // umka_fault_site, 0 when the module has none
    uint64_t manifest_address;
    uint64_t manifest_file_offset;
    uint64_t manifest_size;
    uint64_t text_size;  // bytes of executable segments
};

struct LoadedModule {
    uint8_t* base;  // where image_start landed (the reservation)
    size_t size;    // bytes reserved (image_size)
    UmkaModuleEntryFunction entry;
    // The SDK runtime's fault-injection site (umka/fault_site.h); nullptr when absent.
    UmkaFaultSiteFunction fault_site;
    const uint8_t* manifest;  // in loaded (read-only) memory
    size_t manifest_size;
    ManifestView manifest_view;  // parsed over `manifest`
    size_t text_size;
    size_t relocation_count;
    // The executable segments, as offsets from base (a thread function must lie in one).
    struct Range {
        uint64_t offset;
        uint64_t length;
    };
    Range executable[kMaximumLoadSegments];
    size_t executable_count;

    bool executes(const void* address) const {
        uintptr_t offset = reinterpret_cast<uintptr_t>(address) - reinterpret_cast<uintptr_t>(base);
        for (size_t index = 0; index < executable_count; ++index) {
            if (offset - executable[index].offset < executable[index].length) return true;
        }
        return false;
    }

    bool contains(const void* address, size_t bytes) const {
        uintptr_t start = reinterpret_cast<uintptr_t>(address);
        uintptr_t first = reinterpret_cast<uintptr_t>(base);
        return start >= first && bytes <= size && start - first <= size - bytes;
    }
};

// Checks every rule above without touching memory. Errno::ExecFormat and the reason.
Status validate_module(const uint8_t* file, size_t size, ModuleLayout& layout,
                       Diagnostic& diagnostic);

// Validates, reserves the image, copies segments, zeroes the rest, applies the RELATIVE
// relocations and protects: executable segments read-execute, everything else read-only
// (nothing writable remains). On any error nothing stays reserved.
Result<LoadedModule> load_module(const uint8_t* file, size_t size, const ModuleMemory& memory,
                                 Diagnostic& diagnostic);

// Releases a loaded image; the caller guarantees no CPU can still run its code.
void unload_module(const LoadedModule& module, const ModuleMemory& memory);

// Names the function of the module file `file` that holds the instruction at `image_offset`
// from the loaded image's base (its readable name, cut to `capacity`), and the offset into
// it. False for a file that does not validate or an address no function symbol covers.
bool function_at(const uint8_t* file, size_t size, uint64_t image_offset, char* name,
                 size_t capacity, uint64_t& function_offset);

}  // namespace umka::modules
