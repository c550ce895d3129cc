/* The one table from MR_E* codes to the contract's answers (error_code.h):
 * every row of the contract's error table that a relay failure can reach,
 * and the 500 "internal" for everything else. */
#include <stdbool.h>

#include "core/error.h"
#include "http/error_code.h"
#include "mr_test.h"

#define ANSWER(err, want_status, want_code)                                                        \
    do {                                                                                           \
        struct mr_http_error e_ = mr_http_error_of(err);                                           \
        CHECK_INT(e_.status, (want_status));                                                       \
        CHECK_STR(e_.code, (want_code));                                                           \
    } while (0)

/* The rows WHIP, WHEP, the API and /ws answered with before there was one
 * table (whip.c, api/streams.c, ws/proto.c each had their own). */
static void test_contract_rows(void)
{
    ANSWER(MR_EPARSE, 400, "bad-sdp");
    ANSWER(MR_ECODEC, 400, "unsupported-codec");
    ANSWER(MR_EPERM, 403, "forbidden");
    ANSWER(MR_ENOENT, 404, "stream-not-found");
    ANSWER(MR_EBUSY, 409, "stream-busy");
    ANSWER(MR_ELIMIT, 503, "server-busy");
}

/* Everything else is the server's own failure, never a client's. */
static void test_internal(void)
{
    static const int others[] = {MR_OK,      MR_EINVAL,  MR_ENOMEM,   MR_ETRUNC, MR_ENOSPC,
                                 MR_ENOTSUP, MR_EIO,     MR_ESTATE,   MR_EAUTH,  MR_ECRYPTO,
                                 MR_EAGAIN,  MR_ETOOBIG, MR_EEXPIRED, -1000,     1};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        ANSWER(others[i], 500, "internal");
}

/* Every code the table gives is one the contract lists (or "internal"),
 * and its status is the contract's for that code. */
static void test_codes_are_the_contracts(void)
{
    static const struct {
        const char *code;
        int status;
    } contract[] = {
        {"bad-name", 400},          {"bad-sdp", 400},          {"bad-request", 400},
        {"unsupported-codec", 400}, {"unauthorized", 401},     {"forbidden", 403},
        {"not-found", 404},         {"stream-not-found", 404}, {"session-not-found", 404},
        {"stream-busy", 409},       {"too-large", 413},        {"unsupported-media-type", 415},
        {"server-busy", 503},       {"internal", 500},
    };
    for (int err = 0; err >= MR_EEXPIRED; err--) {
        struct mr_http_error e = mr_http_error_of(err);
        bool found = false;
        for (size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++)
            if (strcmp(contract[i].code, e.code) == 0) {
                found = true;
                CHECK_INT(e.status, contract[i].status);
            }
        CHECK(found);
    }
}

MR_TEST_MAIN(MR_TEST(test_contract_rows), MR_TEST(test_internal),
             MR_TEST(test_codes_are_the_contracts))
