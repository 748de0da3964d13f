#include "errno_names.h"

#include "umka/kabi/kabi_base.h"

namespace umka::shell {

const char* errno_name(uint32_t code) {
    switch (code) {
    case 0:
        return "OK";
    case UMKA_KABI_EPERM:
        return "EPERM";
    case UMKA_KABI_ENOENT:
        return "ENOENT";
    case UMKA_KABI_EIO:
        return "EIO";
    case UMKA_KABI_ENXIO:
        return "ENXIO";
    case UMKA_KABI_E2BIG:
        return "E2BIG";
    case UMKA_KABI_ENOEXEC:
        return "ENOEXEC";
    case UMKA_KABI_EAGAIN:
        return "EAGAIN";
    case UMKA_KABI_ENOMEM:
        return "ENOMEM";
    case UMKA_KABI_EFAULT:
        return "EFAULT";
    case UMKA_KABI_EBUSY:
        return "EBUSY";
    case UMKA_KABI_EEXIST:
        return "EEXIST";
    case UMKA_KABI_ENODEV:
        return "ENODEV";
    case UMKA_KABI_EINVAL:
        return "EINVAL";
    case UMKA_KABI_ENOSPC:
        return "ENOSPC";
    case UMKA_KABI_ERANGE:
        return "ERANGE";
    case UMKA_KABI_ENOSYS:
        return "ENOSYS";
    case UMKA_KABI_ENODATA:
        return "ENODATA";
    case UMKA_KABI_EPROTO:
        return "EPROTO";
    case UMKA_KABI_EBADMSG:
        return "EBADMSG";
    case UMKA_KABI_EOVERFLOW:
        return "EOVERFLOW";
    case UMKA_KABI_EOPNOTSUPP:
        return "ENOTSUP";
    case UMKA_KABI_ETIMEDOUT:
        return "ETIMEDOUT";
    case UMKA_KABI_ECANCELED:
        return "ECANCELED";
    }
    return "errno";
}

}  // namespace umka::shell
