/*
 * Error codes shared by every medrelay module.
 *
 * Functions return 0 (MR_OK) on success or one of the negative codes below.
 * Results travel through out-parameters; a human-readable reason, when the
 * caller wants one, is written into a caller-owned buffer.
 */
#ifndef MR_CORE_ERROR_H
#define MR_CORE_ERROR_H

#define MR_ERRORS(X)                                                    \
    X(MR_OK, 0, "success")                                              \
    X(MR_EINVAL, -1, "invalid argument")                                \
    X(MR_ENOMEM, -2, "out of memory")                                   \
    X(MR_EPARSE, -3, "malformed input")                                 \
    X(MR_ETRUNC, -4, "input truncated")                                 \
    X(MR_ENOSPC, -5, "output buffer too small")                         \
    X(MR_ENOTSUP, -6, "not supported")                                  \
    X(MR_ENOENT, -7, "no such object")                                  \
    X(MR_EBUSY, -8, "busy")                                             \
    X(MR_EIO, -9, "input/output error")                                 \
    X(MR_ESTATE, -10, "wrong state")                                    \
    X(MR_EAUTH, -11, "not authenticated")                               \
    X(MR_EPERM, -12, "not permitted")                                   \
    X(MR_ECRYPTO, -13, "cryptographic failure")                         \
    X(MR_ELIMIT, -14, "limit reached")                                  \
    X(MR_EAGAIN, -15, "try again")                                      \
    X(MR_ECODEC, -16, "no common codec")                                \
    X(MR_ETOOBIG, -17, "too large")                                     \
    X(MR_EEXPIRED, -18, "expired")

enum mr_err {
#define MR_ERR_ENUM(name, value, text) name = value,
    MR_ERRORS(MR_ERR_ENUM)
#undef MR_ERR_ENUM
};

/* Returns a static, human-readable description of an MR_E* code. */
const char *mr_strerror(int err);

/* Returns the symbolic name ("MR_EPARSE") of a code, for tests and logs. */
const char *mr_errname(int err);

#endif
