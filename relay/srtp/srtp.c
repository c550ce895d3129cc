#include "srtp/srtp.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "core/error.h"
#include "srtp/hmac_sha1.h"
#include "srtp/srtp_send.h"
#include "srtp/srtp_backend.h"

struct mr_srtp {
    srtp_t in;
    srtp_t out;                  /* RTCP, and RTP under GCM */
    struct mr_srtp_sender *send; /* RTP under AES-CM (srtp_send.h) */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;
static const char *backend = "unknown";
static bool keyed_hmac;

static void global_init(void)
{
    init_result = srtp_init() == srtp_err_status_ok ? 0 : MR_ECRYPTO;
    if (init_result < 0)
        return;
    backend = mr_srtp_probe_backend();
    keyed_hmac = mr_srtp_install_hmac_sha1();
}

int mr_srtp_global_init(void)
{
    pthread_once(&init_once, global_init);
    return init_result;
}

const char *mr_srtp_backend(void)
{
    mr_srtp_global_init();
    return backend;
}

bool mr_srtp_keyed_hmac(void)
{
    mr_srtp_global_init();
    return keyed_hmac;
}

const char *mr_srtp_version(void)
{
    return srtp_get_version_string();
}

const char *mr_srtp_profile_name(enum mr_srtp_profile p)
{
    switch (p) {
    case MR_SRTP_AES128_CM_SHA1_80:
        return "SRTP_AES128_CM_SHA1_80";
    case MR_SRTP_AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";
    }
    return "unknown";
}

unsigned mr_srtp_key_len(enum mr_srtp_profile p)
{
    return (p == MR_SRTP_AES128_CM_SHA1_80 || p == MR_SRTP_AEAD_AES_128_GCM) ? 16 : 0;
}

unsigned mr_srtp_salt_len(enum mr_srtp_profile p)
{
    switch (p) {
    case MR_SRTP_AES128_CM_SHA1_80:
        return 14;
    case MR_SRTP_AEAD_AES_128_GCM:
        return 12;
    }
    return 0;
}

static int make_context(enum mr_srtp_profile profile, const uint8_t *key_salt, bool inbound,
                        srtp_t *out)
{
    srtp_policy_t policy;
    memset(&policy, 0, sizeof(policy));
    if (profile == MR_SRTP_AES128_CM_SHA1_80) {
        srtp_crypto_policy_set_rtp_default(&policy.rtp);
        srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
    } else {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    }
    policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.key = (unsigned char *)key_salt;
    /* A wide replay window keeps reordered video (bursts of 100+ packets per
     * key frame) from being rejected as replays. */
    policy.window_size = 1024;
    /* Retransmissions reuse sequence numbers on the way out. */
    policy.allow_repeat_tx = 1;
    return srtp_create(out, &policy) == srtp_err_status_ok ? 0 : MR_ECRYPTO;
}

int mr_srtp_new(enum mr_srtp_profile profile, const uint8_t *local_key_salt,
                const uint8_t *remote_key_salt, struct mr_srtp **out)
{
    if (mr_srtp_key_len(profile) == 0)
        return MR_ENOTSUP;
    int rc = mr_srtp_global_init();
    if (rc < 0)
        return rc;
    struct mr_srtp *s = calloc(1, sizeof(*s));
    if (!s)
        return MR_ENOMEM;
    rc = make_context(profile, remote_key_salt, true, &s->in);
    if (rc < 0)
        goto fail_in;
    rc = make_context(profile, local_key_salt, false, &s->out);
    if (rc < 0)
        goto fail_out;
    if (profile == MR_SRTP_AES128_CM_SHA1_80) {
        rc = mr_srtp_sender_new(local_key_salt, &s->send);
        if (rc < 0)
            goto fail_send;
    }
    *out = s;
    return 0;

    /* ERRORS */
fail_send:
    srtp_dealloc(s->out);
fail_out:
    srtp_dealloc(s->in);
fail_in:
    free(s);
    return rc;
}

void mr_srtp_free(struct mr_srtp *s)
{
    if (!s)
        return;
    srtp_dealloc(s->in);
    srtp_dealloc(s->out);
    mr_srtp_sender_free(s->send);
    free(s);
}

static int map_status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return MR_EAUTH;
    case srtp_err_status_bad_param:
        return MR_EPARSE;
    default:
        return MR_ECRYPTO;
    }
}

int mr_srtp_protect_rtp(struct mr_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    if (cap < *len + MR_SRTP_MAX_OVERHEAD || *len > INT32_MAX)
        return MR_ENOSPC;
    if (s->send)
        return mr_srtp_sender_protect(s->send, buf, len, cap);
    int n = (int)*len;
    int rc = map_status(srtp_protect(s->out, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}

int mr_srtp_protect_rtcp(struct mr_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    if (cap < *len + MR_SRTP_MAX_OVERHEAD || *len > INT32_MAX)
        return MR_ENOSPC;
    int n = (int)*len;
    int rc = map_status(srtp_protect_rtcp(s->out, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}

int mr_srtp_unprotect_rtp(struct mr_srtp *s, uint8_t *buf, size_t *len)
{
    if (*len > INT32_MAX)
        return MR_EPARSE;
    int n = (int)*len;
    int rc = map_status(srtp_unprotect(s->in, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}

int mr_srtp_unprotect_rtcp(struct mr_srtp *s, uint8_t *buf, size_t *len)
{
    if (*len > INT32_MAX)
        return MR_EPARSE;
    int n = (int)*len;
    int rc = map_status(srtp_unprotect_rtcp(s->in, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}
