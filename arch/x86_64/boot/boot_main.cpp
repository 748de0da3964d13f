// First C++ on the boot CPU: early serial, then BootInfo from whichever protocol booted
// us, then the arch-neutral nucleus. Runs on the boot page tables and the boot stack.
#include <arch/cpu.h>
#include <arch/early_console.h>
#include <arch/memory.h>
#include <arch/traps.h>

#include "arch/x86_64/boot/multiboot_boot_info.h"
#include "arch/x86_64/boot/uefi_boot_info.h"
#include "arch/x86_64/boot/uefi_handoff.h"
#include "nucleus/boot/timeline.h"
#include "nucleus/lib/log.h"
#include "nucleus/panic.h"
#include "nucleus/system.h"

namespace {

enum class BootProtocol : uint32_t { Multiboot1 = 1, Uefi = 2 };

constinit umka::BootInfo boot_info;

}  // namespace

extern "C" [[noreturn]] void arch_boot_main(uint32_t protocol, uint64_t information,
                                            uint64_t multiboot_magic) {
    using namespace umka;
    timeline::set_entry(arch::read_cycle_counter());
    arch::set_current_cpu(nullptr);
    arch::early_console_init();
    arch::initialize_interrupt_table();
    log("\n");
    timeline::mark("early serial");

    PhysicalView view = arch::boot_physical_view();
    const char* reason = "unknown boot protocol";
    Status status = Errno::InvalidArgument;
    if (BootProtocol(protocol) == BootProtocol::Multiboot1) {
        if (multiboot_magic != arch::kMultibootBootloaderMagic) {
            panic("boot: Multiboot loader magic is 0x%lx, expected 0x%x", multiboot_magic,
                  arch::kMultibootBootloaderMagic);
        }
        status = arch::boot_info_from_multiboot(view, information, boot_info, &reason);
        boot_info.acpi_rsdp_physical = arch::find_rsdp_in_bios_area(view);
    } else if (BootProtocol(protocol) == BootProtocol::Uefi) {
        const UmkaUefiHandoff* handoff = view.as<UmkaUefiHandoff>(information);
        if (handoff == nullptr) panic("boot: UEFI handoff at 0x%lx is unreadable", information);
        const void* memory_map =
            view.as<uint8_t>(handoff->memory_map_physical, handoff->memory_map_size);
        status = arch::boot_info_from_uefi(*handoff, memory_map, boot_info, &reason);
    }
    if (status.is_error()) panic("boot: %s (%s)", reason, errno_name(status.error()));
    timeline::mark("boot information");
    nucleus_main(boot_info);
}
