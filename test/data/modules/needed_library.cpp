// The shared library the "needed" test module is linked against, giving it a DT_NEEDED.
extern "C" [[gnu::visibility("default")]] int needed_library_function() {
    return 1;
}
