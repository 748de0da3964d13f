// libFuzzer target over the console's line editor (line_editor.h). Invariants checked after
// every byte, against a model of the line built only from the events:
//   * the line never holds more than kLineCapacity bytes, and every stored enum is in range;
//   * a completed line is never longer than the limit, holds only printable ASCII, and is
//     exactly what the Echo and Erase events built since the last line end;
//   * an over-long line is never delivered: once the Bell rang, the line's end is a refusal;
//   * after a line end, a refusal or Ctrl-C, the next line starts empty and fitting.
// A broken invariant aborts (libFuzzer then saves the input).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "line_editor.h"

namespace {

using umka::console_service::EditEvent;
using umka::console_service::EditorFields;
using umka::console_service::kLineCapacity;

void check(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "line editor invariant broken: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // The first two bytes pick a starting state, as a carried state region could hold it
    // (values out of range included: repair() must make them consistent).
    uint8_t line[kLineCapacity + 1] = {};
    line[kLineCapacity] = 0xA5;  // a guard byte just past the line
    uint32_t length = 0;
    uint8_t previous_end = 0, escape = 0, line_status = 0;
    if (size >= 2) {
        length = uint32_t(data[0]) * 2;  // 0 to 510: over the capacity too
        escape = data[1] & 0x7;
        previous_end = (data[1] >> 3) & 0x3;
        line_status = data[1] >> 5;
        data += 2;
        size -= 2;
    }
    EditorFields fields{line, &length, &previous_end, &escape, &line_status};
    umka::console_service::repair(fields);
    check(length <= kLineCapacity && escape <= 3 && previous_end <= 2 && line_status <= 1,
          "repair left a state out of range");
    std::string model(reinterpret_cast<const char*>(line), length);
    bool rang = line_status == 1;  // a carried over-long line

    for (size_t index = 0; index < size; ++index) {
        auto result = umka::console_service::feed(fields, data[index]);
        switch (result.event) {
        case EditEvent::Echo:
            check(result.byte >= 0x20 && result.byte <= 0x7E, "a non-printable byte echoed");
            model.push_back(char(result.byte));
            break;
        case EditEvent::Erase:
            check(!model.empty(), "erase on an empty line");
            model.pop_back();
            break;
        case EditEvent::Bell:
            check(!rang && model.size() == kLineCapacity, "bell while the line still fits");
            rang = true;
            break;
        case EditEvent::LineComplete:
            check(!rang, "an over-long line was delivered");
            check(result.length <= kLineCapacity, "a line over the limit was delivered");
            check(model == std::string(reinterpret_cast<const char*>(line), result.length),
                  "the delivered line is not what was typed");
            model.clear();
            break;
        case EditEvent::LineRefused:
            check(rang, "a line that fits was refused");
            model.clear();
            rang = false;
            break;
        case EditEvent::Interrupted:
            model.clear();
            rang = false;
            break;
        case EditEvent::Ignored:
            break;
        }
        if (result.event == EditEvent::LineComplete) rang = false;
        check(length <= kLineCapacity, "the line holds more than its capacity");
        check(line[kLineCapacity] == 0xA5, "a write past the line");
        check(escape <= 3 && previous_end <= 2 && line_status <= 1, "a stored enum out of range");
        check(line_status == (rang ? 1 : 0), "line_status disagrees with the bell");
        if (!rang) {
            check(model == std::string(reinterpret_cast<const char*>(line), length),
                  "the stored line is not what was typed");
        }
    }
    return 0;
}
