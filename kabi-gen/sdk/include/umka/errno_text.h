// Errno names for messages ("EPERM"), for every errno a KABI call can return: one table
// shared by every module through the SDK. Header-only and freestanding.
#pragma once

#include <stdint.h>

#include "umka/kabi/kabi_base.h"

namespace umka {

// "E..." for a KABI errno (positive, as UMKA_KABI_E* are), "OK" for 0, "E?" for any other.
constexpr const char* errno_text(int64_t code) {
    switch (code) {
    case 0: return "OK";
    case UMKA_KABI_EPERM: return "EPERM";
    case UMKA_KABI_ENOENT: return "ENOENT";
    case UMKA_KABI_ESRCH: return "ESRCH";
    case UMKA_KABI_EINTR: return "EINTR";
    case UMKA_KABI_EIO: return "EIO";
    case UMKA_KABI_ENXIO: return "ENXIO";
    case UMKA_KABI_E2BIG: return "E2BIG";
    case UMKA_KABI_ENOEXEC: return "ENOEXEC";
    case UMKA_KABI_EBADF: return "EBADF";
    case UMKA_KABI_ECHILD: return "ECHILD";
    case UMKA_KABI_EAGAIN: return "EAGAIN";
    case UMKA_KABI_ENOMEM: return "ENOMEM";
    case UMKA_KABI_EACCES: return "EACCES";
    case UMKA_KABI_EFAULT: return "EFAULT";
    case UMKA_KABI_ENOTBLK: return "ENOTBLK";
    case UMKA_KABI_EBUSY: return "EBUSY";
    case UMKA_KABI_EEXIST: return "EEXIST";
    case UMKA_KABI_EXDEV: return "EXDEV";
    case UMKA_KABI_ENODEV: return "ENODEV";
    case UMKA_KABI_ENOTDIR: return "ENOTDIR";
    case UMKA_KABI_EISDIR: return "EISDIR";
    case UMKA_KABI_EINVAL: return "EINVAL";
    case UMKA_KABI_ENFILE: return "ENFILE";
    case UMKA_KABI_EMFILE: return "EMFILE";
    case UMKA_KABI_ENOTTY: return "ENOTTY";
    case UMKA_KABI_ETXTBSY: return "ETXTBSY";
    case UMKA_KABI_EFBIG: return "EFBIG";
    case UMKA_KABI_ENOSPC: return "ENOSPC";
    case UMKA_KABI_ESPIPE: return "ESPIPE";
    case UMKA_KABI_EROFS: return "EROFS";
    case UMKA_KABI_EMLINK: return "EMLINK";
    case UMKA_KABI_EPIPE: return "EPIPE";
    case UMKA_KABI_EDOM: return "EDOM";
    case UMKA_KABI_ERANGE: return "ERANGE";
    case UMKA_KABI_EDEADLK: return "EDEADLK";
    case UMKA_KABI_ENAMETOOLONG: return "ENAMETOOLONG";
    case UMKA_KABI_ENOLCK: return "ENOLCK";
    case UMKA_KABI_ENOSYS: return "ENOSYS";
    case UMKA_KABI_ENOTEMPTY: return "ENOTEMPTY";
    case UMKA_KABI_ELOOP: return "ELOOP";
    case UMKA_KABI_ENOMSG: return "ENOMSG";
    case UMKA_KABI_EIDRM: return "EIDRM";
    case UMKA_KABI_ENODATA: return "ENODATA";
    case UMKA_KABI_ETIME: return "ETIME";
    case UMKA_KABI_ENOLINK: return "ENOLINK";
    case UMKA_KABI_EPROTO: return "EPROTO";
    case UMKA_KABI_EBADMSG: return "EBADMSG";
    case UMKA_KABI_EOVERFLOW: return "EOVERFLOW";
    case UMKA_KABI_EILSEQ: return "EILSEQ";
    case UMKA_KABI_ENOTSOCK: return "ENOTSOCK";
    case UMKA_KABI_EDESTADDRREQ: return "EDESTADDRREQ";
    case UMKA_KABI_EMSGSIZE: return "EMSGSIZE";
    case UMKA_KABI_EPROTOTYPE: return "EPROTOTYPE";
    case UMKA_KABI_ENOPROTOOPT: return "ENOPROTOOPT";
    case UMKA_KABI_EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case UMKA_KABI_EOPNOTSUPP: return "EOPNOTSUPP";
    case UMKA_KABI_EAFNOSUPPORT: return "EAFNOSUPPORT";
    case UMKA_KABI_EADDRINUSE: return "EADDRINUSE";
    case UMKA_KABI_EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case UMKA_KABI_ENETDOWN: return "ENETDOWN";
    case UMKA_KABI_ENETUNREACH: return "ENETUNREACH";
    case UMKA_KABI_ENETRESET: return "ENETRESET";
    case UMKA_KABI_ECONNABORTED: return "ECONNABORTED";
    case UMKA_KABI_ECONNRESET: return "ECONNRESET";
    case UMKA_KABI_ENOBUFS: return "ENOBUFS";
    case UMKA_KABI_EISCONN: return "EISCONN";
    case UMKA_KABI_ENOTCONN: return "ENOTCONN";
    case UMKA_KABI_ETIMEDOUT: return "ETIMEDOUT";
    case UMKA_KABI_ECONNREFUSED: return "ECONNREFUSED";
    case UMKA_KABI_EHOSTUNREACH: return "EHOSTUNREACH";
    case UMKA_KABI_EALREADY: return "EALREADY";
    case UMKA_KABI_EINPROGRESS: return "EINPROGRESS";
    case UMKA_KABI_ESTALE: return "ESTALE";
    case UMKA_KABI_EDQUOT: return "EDQUOT";
    case UMKA_KABI_ECANCELED: return "ECANCELED";
    case UMKA_KABI_EOWNERDEAD: return "EOWNERDEAD";
    }
    return "E?";
}

}  // namespace umka
