/*
 * One table from MR_E* codes to the contract's answers (ARCHITECTURE.md §1,
 * "Errors"): the HTTP status and the "error" code a client reads. WHIP and
 * WHEP, the REST API and the room protocol (/ws, which sends the same code
 * strings without a status; docs/protocol.md) all answer through it, so one
 * failure of the relay reads the same whichever door it came through.
 *
 * The table speaks of streams: the relay's lookups are of streams
 * (MR_ENOENT is stream-not-found) and its parse failures are of SDP bodies
 * (MR_EPARSE is bad-sdp). A caller whose failure means something else says
 * so before asking (a PATCH's MR_ENOENT is session-not-found). Identity
 * refusals are not here: they go through mr_http_refuse (http.h), which
 * also writes the audit trail; MR_EPERM below is a policy ("never record
 * this room"), not a refusal of who asked.
 *
 * Pure: no I/O, nothing but core, so the room protocol's fuzz target
 * (tests/fuzz/wsproto.cmake) links it without the HTTP server.
 * mr_http_respond_err (http.h) answers a request with it.
 */
#ifndef MR_HTTP_ERROR_CODE_H
#define MR_HTTP_ERROR_CODE_H

struct mr_http_error {
    int status;       /* 400, 403, 404, 409, 503, or 500 */
    const char *code; /* static: "bad-sdp", ..., "internal" */
};

/* The answer to err. Codes the table does not list (MR_ENOMEM, MR_EIO,
 * MR_EINVAL, ... and 0) are 500 "internal". */
struct mr_http_error mr_http_error_of(int err);

#endif
