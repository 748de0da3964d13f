#include "nucleus/bundle/cpio_archive.h"

#include "umka/number_text.h"

namespace umka::bundle {
namespace {

constexpr size_t kHeaderSize = 110;

// A header field: exactly eight hexadecimal digits.
bool parse_hex(const uint8_t* text, uint32_t& value) {
    ParsedNumber parsed =
        parse_unsigned(reinterpret_cast<const char*>(text), 8, UINT32_MAX, NumberBase::Hexadecimal);
    value = uint32_t(parsed.value);
    return parsed.ok();
}

size_t align4(size_t value) {
    return (value + 3) & ~size_t(3);
}

bool is_trailer(const uint8_t* name, size_t length) {
    static constexpr char kTrailer[] = "TRAILER!!!";
    if (length != sizeof(kTrailer) - 1) return false;
    for (size_t index = 0; index < length; ++index) {
        if (name[index] != uint8_t(kTrailer[index])) return false;
    }
    return true;
}

}  // namespace

Status for_each_entry(const uint8_t* archive, size_t size,
                      void (*visit)(void* context, const Entry& entry), void* context,
                      ArchiveError& error) {
    if (archive == nullptr || size == 0) {
        error = ArchiveError{0, "bundle is empty"};
        return Errno::NotFound;
    }
    size_t offset = 0;
    for (;;) {
        if (offset + kHeaderSize > size) {
            error = ArchiveError{offset, "archive ends before its TRAILER!!! entry"};
            return Errno::BadMessage;
        }
        const uint8_t* header = archive + offset;
        static constexpr char kMagic[] = "070701";
        for (int index = 0; index < 6; ++index) {
            if (header[index] != uint8_t(kMagic[index])) {
                error = ArchiveError{offset, "bad cpio magic (want newc 070701)"};
                return Errno::BadMessage;
            }
        }
        uint32_t fields[13];
        for (int field = 0; field < 13; ++field) {
            if (!parse_hex(header + 6 + field * 8, fields[field])) {
                error =
                    ArchiveError{offset + 6 + size_t(field) * 8, "non-hex digit in cpio header"};
                return Errno::BadMessage;
            }
        }
        uint32_t mode = fields[1];
        uint32_t file_size = fields[6];
        uint32_t name_size = fields[11];
        if (name_size == 0 || offset + kHeaderSize + name_size > size) {
            error = ArchiveError{offset, "entry name runs past the end of the archive"};
            return Errno::BadMessage;
        }
        const uint8_t* name = header + kHeaderSize;
        if (name[name_size - 1] != 0) {
            error = ArchiveError{offset, "entry name is not NUL-terminated"};
            return Errno::BadMessage;
        }
        size_t data_offset = align4(offset + kHeaderSize + name_size);
        if (is_trailer(name, name_size - 1)) return Status::ok();
        if (data_offset > size || file_size > size - data_offset) {
            error = ArchiveError{offset, "entry data runs past the end of the archive"};
            return Errno::BadMessage;
        }
        if (visit != nullptr) {
            visit(context, Entry{reinterpret_cast<const char*>(name), name_size - 1,
                                 archive + data_offset, file_size, mode});
        }
        offset = align4(data_offset + file_size);
    }
}

}  // namespace umka::bundle
