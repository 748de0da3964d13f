// BOOTX64.EFI: loads the UmkaOS nucleus from the EFI system partition and enters it.
//
// Sequence: nucleus.elf segments at their physical addresses, optional bundle.cpio and
// cmdline.txt, ACPI RSDP from the configuration table, a UmkaUefiHandoff and the final
// memory map below 4 GiB, ExitBootServices, then a call to e_entry with RDI = handoff.
// arch/x86_64/boot/uefi_handoff.h is the contract; docs/uefi-boot.md describes it.
#include "loader.h"

// Long enough to read the error on a screen, short enough that a QEMU test expecting a
// failure does not sit out its timeout.
#define STOP_PAUSE_SECONDS 5
// The map key goes stale whenever firmware allocates between GetMemoryMap and
// ExitBootServices (timer callbacks can); one retry normally suffices.
#define EXIT_BOOT_SERVICES_ATTEMPTS 4
// Allocating the map buffer itself (and events firing later) can add descriptors.
#define MEMORY_MAP_SLACK_DESCRIPTORS 16

// The nucleus reads this layout with its own compiler flags; pin it on both sides.
_Static_assert(sizeof(struct UmkaUefiHandoff) == 328, "UmkaUefiHandoff layout changed");
_Static_assert(__builtin_offsetof(struct UmkaUefiHandoff, command_line) == 72,
               "UmkaUefiHandoff layout changed");
_Static_assert(sizeof(struct UmkaEfiMemoryDescriptor) == sizeof(EFI_MEMORY_DESCRIPTOR),
               "UmkaEfiMemoryDescriptor differs from gnu-efi's EFI_MEMORY_DESCRIPTOR");

static EFI_GUID acpi_20_table_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi_10_table_guid = ACPI_TABLE_GUID;

static NucleusImage nucleus;

// Ends a failed boot: shows the reason long enough to read, then powers off so an
// automated run ends at once instead of falling through to the next boot option.
static EFI_STATUS stop_boot(EFI_STATUS status) {
    Print(L"umka-uefi: boot stopped (%r); powering off in %d seconds, or press a key\n", status,
          STOP_PAUSE_SECONDS);
    EFI_EVENT timer = NULL;
    EFI_STATUS event_status =
        uefi_call_wrapper(BS->CreateEvent, 5, EVT_TIMER, 0, NULL, NULL, &timer);
    if (!EFI_ERROR(event_status)) {
        event_status = uefi_call_wrapper(BS->SetTimer, 3, timer, TimerRelative,
                                         (uint64_t)STOP_PAUSE_SECONDS * 10000000ull);
    }
    if (!EFI_ERROR(event_status)) {
        EFI_EVENT events[2] = {timer, ST->ConIn ? ST->ConIn->WaitForKey : NULL};
        UINTN event_count = ST->ConIn ? 2 : 1;
        UINTN signalled = 0;
        uefi_call_wrapper(BS->WaitForEvent, 3, event_count, events, &signalled);
    } else {
        uefi_call_wrapper(BS->Stall, 1, (UINTN)STOP_PAUSE_SECONDS * 1000000);
    }
    uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, status, 0, NULL);
    return status;  // ResetSystem does not return; reached only on broken firmware
}

static EFI_STATUS allocate_below_4gib(uint64_t bytes, const CHAR16* purpose,
                                      EFI_PHYSICAL_ADDRESS* address) {
    *address = LOADER_BELOW_4GIB;
    UINTN pages = loader_pages_for(bytes);
    EFI_STATUS status =
        uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, pages, address);
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi: error: cannot allocate %ld pages below 4 GiB for %s: %r\n",
              (uint64_t)pages, purpose, status);
    }
    return status;
}

static EFI_STATUS load_nucleus(EFI_FILE_HANDLE root, uint64_t* entry) {
    EFI_FILE_HANDLE file = NULL;
    uint64_t size = 0;
    EFI_STATUS status = esp_open_file(root, L"\\nucleus.elf", &file, &size);
    if (status == EFI_NOT_FOUND) {
        Print(L"umka-uefi: error: \\nucleus.elf is missing from the root of the boot volume\n");
        return status;
    }
    if (EFI_ERROR(status)) return status;
    Print(L"umka-uefi: nucleus.elf is %ld bytes\n", size);

    status = elf_read_headers(file, size, &nucleus);
    if (!EFI_ERROR(status)) status = elf_load_segments(file, &nucleus);
    uefi_call_wrapper(file->Close, 1, file);
    if (EFI_ERROR(status)) return status;
    *entry = nucleus.header.entry;
    return EFI_SUCCESS;
}

static EFI_STATUS load_bundle(EFI_FILE_HANDLE root, struct UmkaUefiHandoff* handoff) {
    EFI_FILE_HANDLE file = NULL;
    uint64_t size = 0;
    EFI_STATUS status = esp_open_file(root, L"\\bundle.cpio", &file, &size);
    if (status == EFI_NOT_FOUND) {
        Print(L"umka-uefi: no \\bundle.cpio; booting without a bundle\n");
        return EFI_SUCCESS;
    }
    if (EFI_ERROR(status)) return status;
    if (size == 0) {
        Print(L"umka-uefi: \\bundle.cpio is empty; booting without a bundle\n");
        uefi_call_wrapper(file->Close, 1, file);
        return EFI_SUCCESS;
    }

    EFI_PHYSICAL_ADDRESS address = 0;
    status = allocate_below_4gib(size, L"bundle.cpio", &address);
    if (!EFI_ERROR(status)) {
        status = esp_read_at(file, L"\\bundle.cpio", 0, (void*)(UINTN)address, size);
        if (EFI_ERROR(status)) {
            uefi_call_wrapper(BS->FreePages, 2, address, loader_pages_for(size));
        }
    }
    uefi_call_wrapper(file->Close, 1, file);
    if (EFI_ERROR(status)) return status;

    handoff->bundle_physical = address;
    handoff->bundle_size = size;
    Print(L"umka-uefi: bundle.cpio at physical [0x%lx, 0x%lx), %ld bytes\n", address,
          address + size, size);
    return EFI_SUCCESS;
}

static BOOLEAN is_line_space(char character) {
    return character == ' ' || character == '\t' || character == '\r' || character == '\n';
}

static EFI_STATUS load_command_line(EFI_FILE_HANDLE root, struct UmkaUefiHandoff* handoff) {
    char* line = handoff->command_line;
    const uint64_t capacity = sizeof(handoff->command_line) - 1;
    line[0] = '\0';

    EFI_FILE_HANDLE file = NULL;
    uint64_t size = 0;
    EFI_STATUS status = esp_open_file(root, L"\\cmdline.txt", &file, &size);
    if (status == EFI_NOT_FOUND) {
        Print(L"umka-uefi: no \\cmdline.txt; empty command line\n");
        return EFI_SUCCESS;
    }
    if (EFI_ERROR(status)) return status;

    uint64_t length = size < capacity ? size : capacity;
    status = esp_read_at(file, L"\\cmdline.txt", 0, line, length);
    uefi_call_wrapper(file->Close, 1, file);
    if (EFI_ERROR(status)) {
        line[0] = '\0';
        return status;
    }
    if (size > capacity) {
        Print(L"umka-uefi: warning: cmdline.txt is %ld bytes; only the first %ld are passed\n",
              size, capacity);
    }
    line[length] = '\0';

    // Editors end the file with a newline and may wrap long lines; the nucleus wants
    // one line of space-separated words.
    for (uint64_t index = 0; index < length; ++index) {
        if (line[index] == '\0') {
            length = index;
            break;
        }
        if (is_line_space(line[index])) line[index] = ' ';
    }
    while (length > 0 && line[length - 1] == ' ') --length;
    line[length] = '\0';
    Print(L"umka-uefi: command line \"%a\"\n", line);
    return EFI_SUCCESS;
}

static uint64_t find_acpi_rsdp(void) {
    uint64_t acpi_10 = 0;
    for (UINTN index = 0; index < ST->NumberOfTableEntries; ++index) {
        EFI_CONFIGURATION_TABLE* table = &ST->ConfigurationTable[index];
        // ACPI 2.0's RSDP adds the 64-bit XSDT address, so it wins whenever present.
        if (CompareGuid(&table->VendorGuid, &acpi_20_table_guid) == 0) {
            Print(L"umka-uefi: ACPI 2.0 RSDP at physical 0x%lx\n",
                  (uint64_t)(UINTN)table->VendorTable);
            return (uint64_t)(UINTN)table->VendorTable;
        }
        if (CompareGuid(&table->VendorGuid, &acpi_10_table_guid) == 0) {
            acpi_10 = (uint64_t)(UINTN)table->VendorTable;
        }
    }
    if (acpi_10 != 0) {
        Print(L"umka-uefi: ACPI 1.0 RSDP at physical 0x%lx (no ACPI 2.0 table)\n", acpi_10);
    } else {
        Print(L"umka-uefi: warning: firmware publishes no ACPI RSDP\n");
    }
    return acpi_10;
}

// Sizes and allocates the buffer for the final memory map. Allocating it adds
// descriptors of its own, hence the slack.
static EFI_STATUS allocate_memory_map(struct UmkaUefiHandoff* handoff, UINTN* capacity) {
    UINTN map_size = 0;
    UINTN map_key = 0;
    UINTN descriptor_size = 0;
    UINT32 descriptor_version = 0;
    EFI_STATUS status = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &map_key,
                                          &descriptor_size, &descriptor_version);
    if (status != EFI_BUFFER_TOO_SMALL) {
        Print(L"umka-uefi: error: GetMemoryMap did not report the map size: %r\n", status);
        return EFI_ERROR(status) ? status : EFI_DEVICE_ERROR;
    }
    uint64_t bytes = map_size + MEMORY_MAP_SLACK_DESCRIPTORS * descriptor_size;
    EFI_PHYSICAL_ADDRESS address = 0;
    status = allocate_below_4gib(bytes, L"the memory map", &address);
    if (EFI_ERROR(status)) return status;
    handoff->memory_map_physical = address;
    *capacity = loader_pages_for(bytes) * LOADER_PAGE_SIZE;
    return EFI_SUCCESS;
}

// After the first ExitBootServices attempt only GetMemoryMap and ExitBootServices may
// be called, so failures past that point go to COM1 and the machine powers off through
// the runtime services, which survive ExitBootServices.
static void __attribute__((noreturn)) stop_after_exit_attempt(const char* what, EFI_STATUS status) {
    serial_write("umka-uefi: error: ");
    serial_write(what);
    serial_write(" failed after an ExitBootServices attempt, status ");
    serial_write_hex(status);
    serial_write("; powering off\n");
    uefi_call_wrapper(RT->ResetSystem, 4, EfiResetShutdown, status, 0, NULL);
    for (;;) __asm__ volatile("cli; hlt");
}

static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct UmkaUefiHandoff* handoff,
                                     UINTN capacity) {
    EFI_MEMORY_DESCRIPTOR* map = (EFI_MEMORY_DESCRIPTOR*)(UINTN)handoff->memory_map_physical;
    EFI_STATUS status = EFI_SUCCESS;
    for (unsigned attempt = 1; attempt <= EXIT_BOOT_SERVICES_ATTEMPTS; ++attempt) {
        UINTN map_size = capacity;
        UINTN map_key = 0;
        UINTN descriptor_size = 0;
        UINT32 descriptor_version = 0;
        status = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &map_key, &descriptor_size,
                                   &descriptor_version);
        if (EFI_ERROR(status)) {
            if (attempt > 1) stop_after_exit_attempt("GetMemoryMap", status);
            Print(L"umka-uefi: error: GetMemoryMap into %ld bytes failed: %r\n", (uint64_t)capacity,
                  status);
            return status;
        }
        status = uefi_call_wrapper(BS->ExitBootServices, 2, image, map_key);
        if (!EFI_ERROR(status)) {
            handoff->memory_map_size = map_size;
            handoff->descriptor_size = descriptor_size;
            handoff->descriptor_version = descriptor_version;
            return EFI_SUCCESS;
        }
        // EFI_INVALID_PARAMETER means the map changed under us; anything else is fatal.
        if (status != EFI_INVALID_PARAMETER) break;
    }
    stop_after_exit_attempt("ExitBootServices", status);
}

// Calls the nucleus as `void entry(const UmkaUefiHandoff*)` under the System V ABI:
// RDI carries the argument, RSP is 16-byte aligned before the call pushes a return
// address, DF is clear. The nucleus never returns; if it does, the CPU parks here.
static void __attribute__((noreturn)) enter_nucleus(uint64_t entry, uint64_t handoff) {
    __asm__ volatile(
        "cli\n\t"
        "cld\n\t"
        "andq $-16, %%rsp\n\t"
        "callq *%0\n\t"
        "1:\n\t"
        "cli\n\t"
        "hlt\n\t"
        "jmp 1b\n\t"
        :
        : "r"(entry), "D"(handoff)
        : "memory");
    __builtin_unreachable();
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE* system_table) {
    InitializeLib(image, system_table);
    // The firmware's 5-minute watchdog would reset the machine under a slow nucleus
    // that has not yet taken over; ExitBootServices disarms it too, but only on success.
    uefi_call_wrapper(BS->SetWatchdogTimer, 4, 0, 0, 0, NULL);
    Print(L"umka-uefi: UmkaOS UEFI loader started (firmware: %s, revision 0x%x)\n",
          ST->FirmwareVendor, ST->FirmwareRevision);

    EFI_FILE_HANDLE root = NULL;
    EFI_STATUS status = esp_open_root(image, &root);
    if (EFI_ERROR(status)) return stop_boot(status);

    // The nucleus goes first: its physical range is fixed, everything else can move.
    uint64_t entry = 0;
    status = load_nucleus(root, &entry);
    if (EFI_ERROR(status)) return stop_boot(status);

    EFI_PHYSICAL_ADDRESS handoff_address = 0;
    status = allocate_below_4gib(sizeof(struct UmkaUefiHandoff), L"the handoff structure",
                                 &handoff_address);
    if (EFI_ERROR(status)) return stop_boot(status);
    struct UmkaUefiHandoff* handoff = (struct UmkaUefiHandoff*)(UINTN)handoff_address;
    ZeroMem(handoff, sizeof(*handoff));
    handoff->magic = UMKA_UEFI_HANDOFF_MAGIC;
    handoff->version = UMKA_UEFI_HANDOFF_VERSION;

    status = load_bundle(root, handoff);
    if (EFI_ERROR(status)) return stop_boot(status);
    status = load_command_line(root, handoff);
    if (EFI_ERROR(status)) return stop_boot(status);
    uefi_call_wrapper(root->Close, 1, root);

    handoff->acpi_rsdp_physical = find_acpi_rsdp();

    UINTN map_capacity = 0;
    status = allocate_memory_map(handoff, &map_capacity);
    if (EFI_ERROR(status)) return stop_boot(status);

    // Last console output: after GetMemoryMap nothing may allocate, and ConOut might.
    Print(
        L"umka-uefi: handoff at physical 0x%lx; exiting boot services and entering the "
        L"nucleus at physical 0x%lx\n",
        handoff_address, entry);
    status = exit_boot_services(image, handoff, map_capacity);
    if (EFI_ERROR(status)) return stop_boot(status);

    __asm__ volatile("cli");
    serial_write("umka-uefi: boot services exited; memory map has ");
    serial_write_decimal(handoff->memory_map_size / handoff->descriptor_size);
    serial_write(" descriptors; calling the nucleus\n");
    enter_nucleus(entry, handoff_address);
}
