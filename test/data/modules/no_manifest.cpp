// Clean code, but no .kabi_manifest section.
extern "C" [[gnu::visibility("default")]] int module_answer() {
    return 42;
}
