/* One DTLS association over memory: datagrams in, datagrams out. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "dtls/dtls_priv.h"

/* Conservative for tunnels and 4G links; each flight is split below it. */
#define DTLS_MTU 1200

enum dtls_state { ST_NEW, ST_HANDSHAKE, ST_CONNECTED, ST_FAILED, ST_CLOSED };

struct mr_dtls {
    SSL *ssl;
    BIO *rbio; /* memory BIO: datagrams we received */
    enum mr_dtls_role role;
    enum dtls_state state;
    const struct mr_dtls_ops *ops;
    void *user;
    char remote_alg[16];
    uint8_t remote_fp[EVP_MAX_MD_SIZE];
    size_t remote_fp_len;
    bool fingerprint_mismatch; /* set by the verify callback */
};

/* --- The outgoing BIO: every write is one datagram, handed to ops->send --- */

static BIO_METHOD *out_method;
static pthread_once_t out_method_once = PTHREAD_ONCE_INIT;

static int out_write(BIO *b, const char *buf, int len)
{
    struct mr_dtls *d = BIO_get_data(b);
    if (len > 0 && d)
        d->ops->send(d->user, (const uint8_t *)buf, (size_t)len);
    return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return DTLS_MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
        return 0;
    default:
        return 0;
    }
}

static int out_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_out_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mr-dtls-out");
    if (!m)
        return;
    BIO_meth_set_write(m, out_write);
    BIO_meth_set_ctrl(m, out_ctrl);
    BIO_meth_set_create(m, out_create);
    out_method = m;
}

/* Retransmit sooner than OpenSSL's default 1 s: on a lossy clinic uplink
 * the first flight is often lost, and every second counts before video. */
static unsigned int retransmit_timer(SSL *ssl, unsigned int previous_us)
{
    (void)ssl;
    if (previous_us == 0)
        return 400000;
    return previous_us >= 3200000 ? 6400000 : previous_us * 2;
}

int mr_dtls_new(const struct mr_dtls_identity *id, enum mr_dtls_role role,
                const struct mr_dtls_ops *ops, void *user, struct mr_dtls **out)
{
    pthread_once(&out_method_once, make_out_method);
    if (!out_method)
        return MR_ECRYPTO;
    struct mr_dtls *d = calloc(1, sizeof(*d));
    if (!d)
        return MR_ENOMEM;
    d->role = role;
    d->ops = ops;
    d->user = user;
    BIO *wbio = NULL;
    d->ssl = SSL_new(id->ctx);
    d->rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(out_method);
    if (!d->ssl || !d->rbio || !wbio)
        goto fail;
    BIO_set_mem_eof_return(d->rbio, -1);
    BIO_set_data(wbio, d);
    SSL_set_bio(d->ssl, d->rbio, wbio); /* the SSL owns both BIOs now */
    wbio = NULL;
    SSL_set_app_data(d->ssl, d);
    SSL_set_mtu(d->ssl, DTLS_MTU);
    DTLS_set_link_mtu(d->ssl, DTLS_MTU);
    DTLS_set_timer_cb(d->ssl, retransmit_timer);
    if (role == MR_DTLS_SERVER)
        SSL_set_accept_state(d->ssl);
    else
        SSL_set_connect_state(d->ssl);
    *out = d;
    return 0;

    /* ERRORS */
fail:
    BIO_free(wbio);
    if (d->ssl)
        SSL_free(d->ssl);
    else
        BIO_free(d->rbio);
    free(d);
    return MR_ECRYPTO;
}

void mr_dtls_free(struct mr_dtls *d)
{
    if (!d)
        return;
    /* Detach so a late write during teardown cannot reach a freed owner. */
    BIO *w = SSL_get_wbio(d->ssl);
    if (w)
        BIO_set_data(w, NULL);
    SSL_free(d->ssl);
    free(d);
}

int mr_dtls_set_remote_fingerprint(struct mr_dtls *d, const char *alg, const uint8_t *digest,
                                   size_t len)
{
    if (strlen(alg) >= sizeof(d->remote_alg) || len > sizeof(d->remote_fp) || len == 0)
        return MR_EINVAL;
    strcpy(d->remote_alg, alg);
    memcpy(d->remote_fp, digest, len);
    d->remote_fp_len = len;
    return 0;
}

static const EVP_MD *digest_for(const char *alg)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } table[] = {
        {"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
        {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcasecmp(alg, table[i].name) == 0)
            return table[i].md();
    return NULL;
}

/* RFC 8842 §5: the certificate must match the fingerprint from the SDP. */
static bool cert_matches_fingerprint(const struct mr_dtls *d, X509 *peer)
{
    const EVP_MD *md = digest_for(d->remote_alg);
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!peer || !md || d->remote_fp_len == 0)
        return false;
    if (X509_digest(peer, md, buf, &len) != 1 || len != d->remote_fp_len)
        return false;
    return CRYPTO_memcmp(buf, d->remote_fp, len) == 0;
}

/* Checking here, during the handshake, makes OpenSSL answer a mismatch with
 * a bad_certificate alert, so the peer fails too instead of believing it is
 * connected. Only the leaf certificate (depth 0) is checked. */
int mr_dtls_verify_peer(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct mr_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
    if (X509_STORE_CTX_get_error_depth(ctx) != 0)
        return 1;
    if (!d)
        return 0;
    if (cert_matches_fingerprint(d, X509_STORE_CTX_get_current_cert(ctx)))
        return 1;
    d->fingerprint_mismatch = true;
    return 0;
}

static void fail(struct mr_dtls *d, const char *why)
{
    if (d->state == ST_FAILED || d->state == ST_CLOSED)
        return;
    d->state = ST_FAILED;
    ERR_clear_error();
    d->ops->failed(d->user, why);
}

static void handshake_step(struct mr_dtls *d)
{
    int r = SSL_do_handshake(d->ssl);
    if (r == 1) {
        if (!SSL_get_selected_srtp_profile(d->ssl)) {
            fail(d, "peer negotiated no DTLS-SRTP profile");
            return;
        }
        if (!cert_matches_fingerprint(d, SSL_get0_peer_certificate(d->ssl))) {
            fail(d, "peer certificate does not match the SDP fingerprint");
            return;
        }
        d->state = ST_CONNECTED;
        d->ops->connected(d->user);
        return;
    }
    int err = SSL_get_error(d->ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        return;
    fail(d, d->fingerprint_mismatch ? "peer certificate does not match the SDP fingerprint"
                                    : "DTLS handshake failed");
}

int mr_dtls_start(struct mr_dtls *d)
{
    if (d->state != ST_NEW)
        return MR_ESTATE;
    d->state = ST_HANDSHAKE;
    if (d->role == MR_DTLS_CLIENT)
        handshake_step(d);
    return 0;
}

/* After the handshake the only records that matter are alerts; application
 * data is not used by WebRTC media (data channels are not supported). */
static void read_application(struct mr_dtls *d)
{
    unsigned char sink[2048];
    for (;;) {
        int r = SSL_read(d->ssl, sink, sizeof(sink));
        if (r > 0)
            continue;
        int err = SSL_get_error(d->ssl, r);
        if (err == SSL_ERROR_ZERO_RETURN) {
            d->state = ST_CLOSED;
            d->ops->closed(d->user);
        } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            fail(d, "DTLS association failed");
        }
        ERR_clear_error();
        return;
    }
}

int mr_dtls_handle_datagram(struct mr_dtls *d, const uint8_t *buf, size_t len)
{
    if (d->state == ST_FAILED || d->state == ST_CLOSED)
        return MR_ESTATE;
    if (len == 0 || len > 16384)
        return MR_EPARSE;
    if (d->state == ST_NEW)
        d->state = ST_HANDSHAKE; /* a ClientHello may arrive before start */
    (void)BIO_reset(d->rbio);
    if (BIO_write(d->rbio, buf, (int)len) != (int)len)
        return MR_ENOMEM;
    if (d->state == ST_HANDSHAKE)
        handshake_step(d);
    else if (d->state == ST_CONNECTED)
        read_application(d);
    return 0;
}

int64_t mr_dtls_timeout_us(struct mr_dtls *d)
{
    struct timeval tv;
    if (d->state != ST_HANDSHAKE || DTLSv1_get_timeout(d->ssl, &tv) != 1)
        return -1;
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void mr_dtls_handle_timeout(struct mr_dtls *d)
{
    if (d->state != ST_HANDSHAKE)
        return;
    if (DTLSv1_handle_timeout(d->ssl) < 0)
        fail(d, "DTLS handshake timed out");
}

bool mr_dtls_is_connected(const struct mr_dtls *d)
{
    return d->state == ST_CONNECTED;
}

int mr_dtls_srtp_keys(struct mr_dtls *d, struct mr_dtls_srtp_keys *out)
{
    if (d->state != ST_CONNECTED)
        return MR_ESTATE;
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    unsigned key_len = 16, salt_len;
    if (p->id == SRTP_AES128_CM_SHA1_80)
        salt_len = 14;
    else if (p->id == SRTP_AEAD_AES_128_GCM)
        salt_len = 12;
    else
        return MR_ENOTSUP;
    /* RFC 5764 §4.2: client key, server key, client salt, server salt. */
    uint8_t material[2 * MR_DTLS_MAX_KEY_SALT];
    static const char label[] = "EXTRACTOR-dtls_srtp";
    size_t total = 2 * (key_len + salt_len);
    if (SSL_export_keying_material(d->ssl, material, total, label, sizeof(label) - 1, NULL, 0,
                                   0) != 1)
        return MR_ECRYPTO;
    const uint8_t *client_key = material;
    const uint8_t *server_key = material + key_len;
    const uint8_t *client_salt = material + 2 * key_len;
    const uint8_t *server_salt = client_salt + salt_len;
    bool client = d->role == MR_DTLS_CLIENT;
    memcpy(out->local, client ? client_key : server_key, key_len);
    memcpy(out->local + key_len, client ? client_salt : server_salt, salt_len);
    memcpy(out->remote, client ? server_key : client_key, key_len);
    memcpy(out->remote + key_len, client ? server_salt : client_salt, salt_len);
    out->profile = (uint16_t)p->id;
    out->key_len = key_len;
    out->salt_len = salt_len;
    OPENSSL_cleanse(material, sizeof(material));
    return 0;
}

const char *mr_dtls_cipher(const struct mr_dtls *d)
{
    return d->state == ST_CONNECTED ? SSL_get_cipher_name(d->ssl) : "";
}

const char *mr_dtls_version(const struct mr_dtls *d)
{
    return d->state == ST_CONNECTED ? SSL_get_version(d->ssl) : "";
}

void mr_dtls_close(struct mr_dtls *d)
{
    if (d->state == ST_CONNECTED) {
        SSL_shutdown(d->ssl);
        ERR_clear_error();
    }
    d->state = ST_CLOSED;
}
