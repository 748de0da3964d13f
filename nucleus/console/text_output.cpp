#include "nucleus/console/text_output.h"

#include "nucleus/lib/format.h"
#include "nucleus/lib/log.h"

namespace umka::console {

void TextOutput::write(const char* text, size_t length) {
    size_t room = capacity_ - length_;
    if (length > room) {
        length = room;
        state_ = OutputState::Truncated;
    }
    __builtin_memcpy(buffer_ + length_, text, length);
    length_ += length;
}

void TextOutput::print(const char* pattern, ...) {
    char line[512];
    va_list arguments;
    va_start(arguments, pattern);
    size_t length = vformat(line, sizeof line, pattern, arguments);
    va_end(arguments);
    write(line, length);
}

void TextOutput::show_now() const {
    log_write(buffer_, length_);
}

}  // namespace umka::console
