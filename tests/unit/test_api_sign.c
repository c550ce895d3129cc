/* Signed download URLs (signaling/api/sign.h): a vector computed
 * independently (Python's hmac), tampering, expiry, malformed input. */
#include "api/sign.h"
#include "core/error.h"
#include "mr_test.h"

static const char secret[] = "0123456789abcdef0123456789abcdef";
static const char id[] = "9f3c2a11deadbeef-1";
static const char nonce[] = "00112233445566aa";
/* base64url(HMAC-SHA256(HMAC-SHA256(secret, "medrelay download v1"),
 *   "medrelay-download\n9f3c2a11deadbeef-1\n1700000000\n00112233445566aa")) */
static const char vector[] = "oo_nFLP-OsKaevwvoRkvSMb27fedGaWoFqqdl7RJmtk";

static void key_for(uint8_t key[MR_API_URL_KEY_LEN])
{
    CHECK_INT(mr_api_url_key((const uint8_t *)secret, sizeof(secret) - 1, key), 0);
}

static void test_vector(void)
{
    uint8_t key[MR_API_URL_KEY_LEN];
    char sig[MR_API_SIG_LEN + 1];
    key_for(key);
    CHECK_INT(mr_api_url_sign(key, id, 1700000000, nonce, sig), 0);
    CHECK_STR(sig, vector);
}

static void test_verify(void)
{
    uint8_t key[MR_API_URL_KEY_LEN];
    const char *why = NULL;
    key_for(key);
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", nonce, vector, 1700000000, &why), 0);
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", nonce, vector, 1699999000, &why), 0);
    /* One second late. */
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", nonce, vector, 1700000001, &why),
              MR_EEXPIRED);
    CHECK_STR(why, "the download link has expired");
    /* Every signed part matters. */
    CHECK_INT(mr_api_url_verify(key, "9f3c2a11deadbeef-2", "1700000000", nonce, vector, 0, &why),
              MR_EAUTH);
    CHECK_INT(mr_api_url_verify(key, id, "1700000001", nonce, vector, 0, &why), MR_EAUTH);
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", "00112233445566ab", vector, 0, &why),
              MR_EAUTH);
    CHECK_STR(why, "the download link's signature is not valid");
    char bad[] = "oo_nFLP-OsKaevwvoRkvSMb27fedGaWoFqqdl7RJmtk";
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", nonce, bad, 0, &why), MR_EAUTH);
    /* Another secret, another key. */
    uint8_t other[MR_API_URL_KEY_LEN];
    static const char secret2[] = "0123456789abcdef0123456789abcdeF";
    CHECK_INT(mr_api_url_key((const uint8_t *)secret2, sizeof(secret2) - 1, other), 0);
    CHECK_INT(mr_api_url_verify(other, id, "1700000000", nonce, vector, 0, &why), MR_EAUTH);
}

static void test_malformed(void)
{
    uint8_t key[MR_API_URL_KEY_LEN];
    const char *why = NULL;
    key_for(key);
    CHECK_INT(mr_api_url_verify(key, id, NULL, nonce, vector, 0, &why), MR_EAUTH);
    CHECK_STR(why, "the download link lacks its signature (exp, n, sig)");
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", NULL, vector, 0, &why), MR_EAUTH);
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", nonce, NULL, 0, NULL), MR_EAUTH);
    /* Other spellings of the same expiry are refused: one URL, one form. */
    static const char *const exps[] = {"01700000000", "+1700000000", "1700000000 ",  "",
                                       "1e9",         "-1",          "9999999999999"};
    for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++)
        CHECK_INT(mr_api_url_verify(key, id, exps[i], nonce, vector, 0, &why), MR_EAUTH);
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", "00112233445566AA", vector, 0, &why),
              MR_EAUTH);
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", "0011", vector, 0, &why), MR_EAUTH);
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", nonce, "abc", 0, &why), MR_EAUTH);
    CHECK_STR(why, "the download link is malformed");
    CHECK_INT(mr_api_url_verify(key, id, "1700000000", nonce,
                                "oo_nFLP-OsKaevwvoRkvSMb27fedGaWoFqqdl7RJmt=", 0, &why),
              MR_EAUTH);
    char sig[MR_API_SIG_LEN + 1];
    CHECK_INT(mr_api_url_sign(key, id, 1, "xyz", sig), MR_EINVAL);
    CHECK_INT(mr_api_url_sign(key, "", 1, nonce, sig), MR_EINVAL);
    CHECK_INT(mr_api_url_sign(key, "a\nb", 1, nonce, sig), MR_EINVAL);
    CHECK_INT(mr_api_url_key(NULL, 0, key), MR_EINVAL);
}

MR_TEST_MAIN(MR_TEST(test_vector), MR_TEST(test_verify), MR_TEST(test_malformed))
