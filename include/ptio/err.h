/*
 * ptio/err.h - error codes.
 *
 * Every error is a negative ptio_ssize.  One list, PTIO_ERRNO_MAP, generates
 * both the enum and ptio_strerror(), so a code and its text never drift.
 *
 * On a hosted build (a C library with <errno.h>) each PTIO_E<NAME> equals
 * -E<NAME>, so errors from system calls pass through unchanged.  On bare
 * metal (-ffreestanding) there is no errno.h and the codes take Linux's
 * values.  A few conditions have no errno; they get codes below
 * PTIO_WOULD_BLOCK, outside every host's errno range.
 *
 * PTIO_EAGAIN is never returned by ptio: EAGAIN and EWOULDBLOCK from the
 * system are both turned into PTIO_WOULD_BLOCK (they differ on some hosts).
 */
#ifndef PTIO_ERR_H
#define PTIO_ERR_H

#include "base.h"

#if defined(__STDC_HOSTED__) && __STDC_HOSTED__ && !defined(PTIO_CONF_FIXED_ERRNO)
#include <errno.h>
#define PTIO_ERRNO_(name, linux_value) (-(name))
#else
#define PTIO_ERRNO_(name, linux_value) (-(linux_value))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, errno name, Linux value, text) */
#define PTIO_ERRNO_MAP(XX)                                                    \
	XX(EPERM, EPERM, 1, "operation not permitted")                        \
	XX(ENOENT, ENOENT, 2, "no such file or directory")                    \
	XX(EINTR, EINTR, 4, "interrupted system call")                        \
	XX(EIO, EIO, 5, "i/o error")                                          \
	XX(EBADF, EBADF, 9, "bad file descriptor")                            \
	XX(EAGAIN, EAGAIN, 11, "resource temporarily unavailable")            \
	XX(ENOMEM, ENOMEM, 12, "not enough memory")                           \
	XX(EACCES, EACCES, 13, "permission denied")                           \
	XX(EFAULT, EFAULT, 14, "bad address")                                 \
	XX(EBUSY, EBUSY, 16, "resource busy")                                 \
	XX(EEXIST, EEXIST, 17, "already exists")                              \
	XX(EINVAL, EINVAL, 22, "invalid argument")                            \
	XX(ENFILE, ENFILE, 23, "file table overflow")                         \
	XX(EMFILE, EMFILE, 24, "too many open files")                         \
	XX(ENOSPC, ENOSPC, 28, "no space left on device")                     \
	XX(EPIPE, EPIPE, 32, "broken pipe")                                   \
	XX(ERANGE, ERANGE, 34, "result out of range")                         \
	XX(ENOSYS, ENOSYS, 38, "function not implemented")                    \
	XX(EOVERFLOW, EOVERFLOW, 75, "value too large for defined data type") \
	XX(EILSEQ, EILSEQ, 84, "invalid or incomplete byte sequence")         \
	XX(ENOTSOCK, ENOTSOCK, 88, "socket operation on non-socket")          \
	XX(EMSGSIZE, EMSGSIZE, 90, "message too long")                        \
	XX(ENOTSUP, ENOTSUP, 95, "operation not supported")                   \
	XX(EAFNOSUPPORT, EAFNOSUPPORT, 97, "address family not supported")    \
	XX(EADDRINUSE, EADDRINUSE, 98, "address already in use")              \
	XX(EADDRNOTAVAIL, EADDRNOTAVAIL, 99, "address not available")         \
	XX(ENETDOWN, ENETDOWN, 100, "network is down")                        \
	XX(ENETUNREACH, ENETUNREACH, 101, "network is unreachable")           \
	XX(ECONNABORTED, ECONNABORTED, 103, "connection aborted")             \
	XX(ECONNRESET, ECONNRESET, 104, "connection reset by peer")           \
	XX(ENOBUFS, ENOBUFS, 105, "no buffer space available")                \
	XX(EISCONN, EISCONN, 106, "socket is already connected")              \
	XX(ENOTCONN, ENOTCONN, 107, "socket is not connected")                \
	XX(ETIMEDOUT, ETIMEDOUT, 110, "timed out")                            \
	XX(ECONNREFUSED, ECONNREFUSED, 111, "connection refused")             \
	XX(EHOSTUNREACH, EHOSTUNREACH, 113, "host is unreachable")            \
	XX(EALREADY, EALREADY, 114, "operation already in progress")          \
	XX(EINPROGRESS, EINPROGRESS, 115, "operation in progress")            \
	XX(ECANCELED, ECANCELED, 125, "operation canceled")

/* XX(name, value, text): conditions no errno names. */
#define PTIO_OWN_ERR_MAP(XX)                                                  \
	XX(EUNEXPECTEDEOF, -4100, "unexpected end of stream")                 \
	XX(EWRITEZERO, -4101, "write accepted zero bytes")                    \
	XX(ETOOLONG, -4102, "line or record longer than the allowed maximum") \
	XX(ECLOSED, -4103, "stream closed while an operation waited on it")   \
	XX(EOPSHARED, -4104,                                                  \
	   "continuation belongs to another machine (give a nested machine "  \
	   "an op of its own)")

#define PTIO_ERRNO_ENUM_(name, ename, value, text) \
	PTIO_##name = PTIO_ERRNO_(ename, value),
#define PTIO_OWN_ENUM_(name, value, text) PTIO_##name = (value),
enum ptio_errno {
	PTIO_ERRNO_MAP(PTIO_ERRNO_ENUM_)
	PTIO_OWN_ERR_MAP(PTIO_OWN_ENUM_)
	PTIO_ERRNO_LAST_ = -4105
};
#undef PTIO_ERRNO_ENUM_
#undef PTIO_OWN_ENUM_

/*
 * ptio_strerror(code) - a short English description of CODE, which may be
 * any ptio_ssize: an error code, PTIO_PENDING, PTIO_WOULD_BLOCK, or a
 * non-negative value ("success").  Unknown codes give "unknown error".
 * The string is static; never free it.
 */
const char *ptio_strerror(ptio_ssize code);

/*
 * ptio_err_name(code) - the symbolic name of CODE ("PTIO_ETIMEDOUT"), also
 * for the two reserved values ("PTIO_PENDING", "PTIO_WOULD_BLOCK"), or
 * NULL when CODE is none of them (a count >= 0, an unknown code).  For
 * logs and test messages.
 */
const char *ptio_err_name(ptio_ssize code);

#ifdef __cplusplus
}
#endif

#endif /* PTIO_ERR_H */
