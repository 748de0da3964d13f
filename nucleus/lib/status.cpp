#include "nucleus/lib/status.h"

namespace umka {

const char* errno_name(Errno error) {
    switch (error) {
    case Errno::Ok:
        return "OK";
    case Errno::NotPermitted:
        return "EPERM";
    case Errno::NotFound:
        return "ENOENT";
    case Errno::IoError:
        return "EIO";
    case Errno::NoDeviceOrAddress:
        return "ENXIO";
    case Errno::TooBig:
        return "E2BIG";
    case Errno::ExecFormat:
        return "ENOEXEC";
    case Errno::TryAgain:
        return "EAGAIN";
    case Errno::OutOfMemory:
        return "ENOMEM";
    case Errno::BadAddress:
        return "EFAULT";
    case Errno::Busy:
        return "EBUSY";
    case Errno::Exists:
        return "EEXIST";
    case Errno::NoDevice:
        return "ENODEV";
    case Errno::InvalidArgument:
        return "EINVAL";
    case Errno::NoSpace:
        return "ENOSPC";
    case Errno::OutOfRange:
        return "ERANGE";
    case Errno::NoFunction:
        return "ENOSYS";
    case Errno::NoData:
        return "ENODATA";
    case Errno::Protocol:
        return "EPROTO";
    case Errno::Overflow:
        return "EOVERFLOW";
    case Errno::BadMessage:
        return "EBADMSG";
    case Errno::NotSupported:
        return "ENOTSUP";
    case Errno::TimedOut:
        return "ETIMEDOUT";
    }
    return "E?";
}

}  // namespace umka
