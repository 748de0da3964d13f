// Reading a libFuzzer input as a stream of choices: each call takes the next byte, zero
// once the input is used up (so every input, however short, decodes to something).
#pragma once

#include <cstddef>
#include <cstdint>

namespace umka::testing {

struct FuzzBytes {
    const uint8_t* data;
    size_t size;
    size_t position = 0;
    uint8_t next() { return position < size ? data[position++] : 0; }
};

}  // namespace umka::testing
