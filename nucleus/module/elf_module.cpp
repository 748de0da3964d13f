// Module ELF validation (the stages live in elf_layout.cpp, elf_sections.cpp and
// elf_relocations.cpp) and loading through ModuleMemory.
#include "nucleus/module/elf_module.h"

#include "nucleus/module/elf_internal.h"
#include "nucleus/module/symbol_names.h"

namespace umka::modules {

using detail::ElfFacts;
using detail::FileReader;

Status validate_module(const uint8_t* file, size_t size, ModuleLayout& layout,
                       Diagnostic& diagnostic) {
    layout = ModuleLayout{};
    if (file == nullptr) size = 0;
    ElfFacts facts{FileReader(file, size), layout};
    TRY(detail::check_file_header(facts, diagnostic));
    TRY(detail::check_program_headers(facts, diagnostic));
    // Sections before the dynamic tags: a section names the culprit (".init_array holds a
    // constructor") where the tag alone (DT_INIT_ARRAY) would not.
    TRY(detail::check_sections(facts, diagnostic));
    TRY(detail::check_dynamic_section(facts, diagnostic));
    TRY(detail::check_symbols(facts, diagnostic));
    TRY(detail::check_relocations(facts, diagnostic));
    return Status::ok();
}

bool function_at(const uint8_t* file, size_t size, uint64_t image_offset, char* name,
                 size_t capacity, uint64_t& function_offset) {
    ModuleLayout layout{};
    ElfFacts facts{FileReader(file, size), layout};
    Diagnostic ignored;
    if (file == nullptr || capacity == 0 || detail::check_file_header(facts, ignored).is_error() ||
        detail::check_program_headers(facts, ignored).is_error() ||
        detail::check_sections(facts, ignored).is_error()) {
        return false;
    }
    uint64_t start = 0;
    const char* symbol =
        detail::function_containing(facts, layout.image_start + image_offset, start);
    if (symbol == nullptr) return false;
    char readable[128];
    const char* shown = readable_symbol_name(symbol, readable, sizeof(readable));
    size_t length = 0;
    while (length + 1 < capacity && shown[length] != '\0') {
        name[length] = shown[length];
        ++length;
    }
    name[length] = '\0';
    function_offset = image_offset - (start - layout.image_start);
    return true;
}

namespace {

// Lays the validated segments out at `base`: every byte of the image is written, so the
// memory ModuleMemory hands out may hold anything.
void copy_segments(const FileReader& file, const ModuleLayout& layout, uint8_t* base) {
    __builtin_memset(base, 0, layout.image_size);
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& segment = layout.segments[index];
        __builtin_memcpy(base + (segment.virtual_address - layout.image_start),
                         file.data() + segment.file_offset, segment.file_size);
    }
}

// Nothing writable remains: all pages read-only, then executable segments read-execute.
Status protect_image(const ModuleLayout& layout, uint8_t* base, const ModuleMemory& memory,
                     Diagnostic& diagnostic) {
    Status status =
        memory.protect(memory.context, base, layout.image_size, SegmentAccess::ReadOnly);
    if (status.is_error()) {
        return refuse(diagnostic, status.error(), "write-protecting the %lu-byte image failed (%s)",
                      layout.image_size, errno_name(status.error()));
    }
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& segment = layout.segments[index];
        if (!(segment.flags & elf::kSegmentExecute)) continue;
        uint64_t first = detail::page_down(segment.virtual_address);
        uint64_t end = detail::page_up(segment.virtual_address + segment.memory_size);
        status = memory.protect(memory.context, base + (first - layout.image_start), end - first,
                                SegmentAccess::ReadExecute);
        if (status.is_error()) {
            return refuse(diagnostic, status.error(),
                          "making segment %zu (0x%lx) executable failed (%s)", index,
                          segment.virtual_address, errno_name(status.error()));
        }
    }
    return Status::ok();
}

}  // namespace

Result<LoadedModule> load_module(const uint8_t* file, size_t size, const ModuleMemory& memory,
                                 Diagnostic& diagnostic) {
    ModuleLayout layout;
    TRY(validate_module(file, size, layout, diagnostic));
    FileReader reader(file, size);

    Result<void*> reserved = memory.reserve(memory.context, layout.image_size);
    if (reserved.is_error()) {
        return refuse(diagnostic, reserved.error(), "no memory for the %lu-byte image (%s)",
                      layout.image_size, errno_name(reserved.error()));
    }
    uint8_t* base = static_cast<uint8_t*>(reserved.value());
    if (reinterpret_cast<uintptr_t>(base) % kModulePageSize != 0) {
        memory.release(memory.context, base, layout.image_size);
        return refuse(diagnostic, Errno::InvalidArgument,
                      "ModuleMemory.reserve returned %p, which is not page-aligned", base);
    }

    copy_segments(reader, layout, base);
    detail::apply_relocations(reader, layout, base);
    Status protected_status = protect_image(layout, base, memory, diagnostic);
    if (protected_status.is_error()) {
        memory.release(memory.context, base, layout.image_size);
        return protected_status.error();
    }

    LoadedModule module{};
    module.base = base;
    module.size = layout.image_size;
    module.entry = reinterpret_cast<UmkaModuleEntryFunction>(
        reinterpret_cast<uintptr_t>(base + (layout.entry_address - layout.image_start)));
    if (layout.fault_site_address != 0) {
        module.fault_site = reinterpret_cast<UmkaFaultSiteFunction>(
            reinterpret_cast<uintptr_t>(base + (layout.fault_site_address - layout.image_start)));
    }
    module.manifest = base + (layout.manifest_address - layout.image_start);
    module.manifest_size = layout.manifest_size;
    module.text_size = layout.text_size;
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& segment = layout.segments[index];
        if (!(segment.flags & elf::kSegmentExecute)) continue;
        module.executable[module.executable_count++] = {
            segment.virtual_address - layout.image_start, segment.memory_size};
    }
    module.relocation_count = layout.relocation_count;
    // Parsed again over the loaded copy, which is what the nucleus keeps pointing at. The
    // manifest lies in a read-only segment no relocation touches, so the bytes are the ones
    // validate_module accepted.
    Result<ManifestView> manifest =
        ManifestView::parse(module.manifest, module.manifest_size, diagnostic);
    if (manifest.is_error()) {
        memory.release(memory.context, base, layout.image_size);
        diagnostic.prefix("loaded .kabi_manifest");
        return Errno::ExecFormat;
    }
    module.manifest_view = manifest.value();
    return module;
}

void unload_module(const LoadedModule& module, const ModuleMemory& memory) {
    if (module.base != nullptr) memory.release(memory.context, module.base, module.size);
}

}  // namespace umka::modules
