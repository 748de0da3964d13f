// umka-modcheck: checks module ELF files against the contract of DESIGN.md §5 at build time.
//
//   umka-modcheck MODULE...
//
// A signed module (docs/module-signing.md) is checked on its ELF image: the signature and
// trailer are stripped first (the signature itself is umka-sign verify's job).
//
// The verdict is the nucleus loader's: the image goes through validate_module
// (nucleus/module/elf_module.cpp), the very code that refuses modules at boot, so the
// checker and the loader cannot disagree. Its refusal is printed as
// "umka-modcheck: <file>: loader: <the loader's reason>". The libelf rules of
// module_rules.cpp run as well, to name every culprit (the loader stops at the first):
// one line per violation, "umka-modcheck: <file>: <rule>: <detail>". A module the loader
// accepts but those rules do not is refused too, saying the two disagree (a bug to report).
// Exit 1 on any refusal; otherwise one summary line per module and exit 0. Exit 2 on usage
// errors.
#include <cstdio>
#include <string>

#include "initramfs/tools/file_io.h"
#include "initramfs/tools/module_rules.h"
#include "nucleus/crypto/module_signature.h"

namespace {

bool check_file(const std::string& path) {
    std::string error;
    auto file = umka::tools::read_file(path, umka::tools::kModuleFileSizeLimit, error);
    if (!file) {
        std::printf("umka-modcheck: %s: read: %s\n", path.c_str(), error.c_str());
        return false;
    }
    const uint8_t* image = file->data();
    size_t image_size = file->size();
    bool is_signed = umka::crypto::has_module_signature_trailer(image, image_size);
    if (is_signed) {
        umka::crypto::SignedModuleView view;
        const char* reason = nullptr;
        if (umka::crypto::split_signed_module(image, image_size, view, &reason).is_error()) {
            std::printf("umka-modcheck: %s: %s: %s\n", path.c_str(), umka::tools::rule::kSignature,
                        reason);
            return false;
        }
        image = view.image;
        image_size = view.image_size;
    }

    umka::tools::ModuleFacts facts;
    std::vector<umka::tools::Violation> violations =
        umka::tools::check_module(image, image_size, facts);
    for (const umka::tools::Violation& violation : violations) {
        std::printf("umka-modcheck: %s: %s: %s\n", path.c_str(), violation.rule.c_str(),
                    violation.detail.c_str());
    }
    if (!violations.empty()) return false;
    std::printf(
        "umka-modcheck: %s: ok: module %s version %u, %zu sections, %zu "
        "R_X86_64_RELATIVE relocations, %s\n",
        path.c_str(), facts.module_name.c_str(), facts.module_version, facts.section_count,
        facts.relative_relocations,
        is_signed ? "signed (trailer stripped; signature not verified here)" : "unsigned");
    return true;
}

}  // namespace

int main(int count, char** values) {
    if (count < 2) {
        std::fprintf(stderr, "usage: umka-modcheck MODULE...\n");
        return 2;
    }
    bool all_clean = true;
    for (int index = 1; index < count; ++index) {
        if (!check_file(values[index])) all_clean = false;
    }
    std::fflush(stdout);
    return all_clean ? 0 : 1;
}
