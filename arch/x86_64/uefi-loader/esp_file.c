// Reading whole files from the EFI system partition the loader was started from.
#include "loader.h"

EFI_STATUS esp_open_root(EFI_HANDLE image, EFI_FILE_HANDLE* root) {
    EFI_LOADED_IMAGE* loaded_image = NULL;
    EFI_STATUS status = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
                                          (void**)&loaded_image);
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi: error: cannot get the loader's EFI_LOADED_IMAGE_PROTOCOL: %r\n", status);
        return status;
    }

    // The device the loader came from is the ESP we read the nucleus from; looking at
    // other volumes would make the boot depend on disk enumeration order.
    EFI_FILE_IO_INTERFACE* file_system = NULL;
    status = uefi_call_wrapper(BS->HandleProtocol, 3, loaded_image->DeviceHandle,
                               &FileSystemProtocol, (void**)&file_system);
    if (EFI_ERROR(status)) {
        Print(
            L"umka-uefi: error: the boot device has no EFI_SIMPLE_FILE_SYSTEM_PROTOCOL "
            L"(was BOOTX64.EFI started from a FAT volume?): %r\n",
            status);
        return status;
    }

    status = uefi_call_wrapper(file_system->OpenVolume, 2, file_system, root);
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi: error: cannot open the boot volume's root directory: %r\n", status);
        return status;
    }
    return EFI_SUCCESS;
}

EFI_STATUS esp_open_file(EFI_FILE_HANDLE root, const CHAR16* path, EFI_FILE_HANDLE* file,
                         uint64_t* size) {
    EFI_STATUS status =
        uefi_call_wrapper(root->Open, 5, root, file, (CHAR16*)path, EFI_FILE_MODE_READ, 0ull);
    if (status == EFI_NOT_FOUND) return status;
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi: error: cannot open %s: %r\n", path, status);
        return status;
    }

    // EFI_FILE_INFO ends in the variable-length file name; our names are short, so a
    // fixed buffer avoids a pool allocation and a second GetInfo call.
    union {
        EFI_FILE_INFO info;
        uint8_t bytes[SIZE_OF_EFI_FILE_INFO + 256 * sizeof(CHAR16)];
    } info_buffer;
    UINTN info_size = sizeof(info_buffer);
    status =
        uefi_call_wrapper((*file)->GetInfo, 4, *file, &GenericFileInfo, &info_size, &info_buffer);
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi: error: cannot get the size of %s: %r\n", path, status);
        uefi_call_wrapper((*file)->Close, 1, *file);
        return status;
    }
    if (info_buffer.info.Attribute & EFI_FILE_DIRECTORY) {
        Print(L"umka-uefi: error: %s is a directory, expected a file\n", path);
        uefi_call_wrapper((*file)->Close, 1, *file);
        return EFI_LOAD_ERROR;
    }
    *size = info_buffer.info.FileSize;
    return EFI_SUCCESS;
}

EFI_STATUS esp_read_at(EFI_FILE_HANDLE file, const CHAR16* path, uint64_t offset, void* buffer,
                       uint64_t size) {
    EFI_STATUS status = uefi_call_wrapper(file->SetPosition, 2, file, offset);
    if (EFI_ERROR(status)) {
        Print(L"umka-uefi: error: cannot seek %s to byte %ld: %r\n", path, offset, status);
        return status;
    }
    uint8_t* destination = buffer;
    uint64_t done = 0;
    // Read may legally return fewer bytes than asked, so loop until everything is in.
    while (done < size) {
        UINTN chunk = (UINTN)(size - done);
        status = uefi_call_wrapper(file->Read, 3, file, &chunk, destination + done);
        if (EFI_ERROR(status)) {
            Print(L"umka-uefi: error: reading %s failed at byte %ld: %r\n", path, offset + done,
                  status);
            return status;
        }
        if (chunk == 0) {
            Print(L"umka-uefi: error: %s ended at byte %ld, expected at least %ld bytes\n", path,
                  offset + done, offset + size);
            return EFI_END_OF_FILE;
        }
        done += chunk;
    }
    return EFI_SUCCESS;
}
