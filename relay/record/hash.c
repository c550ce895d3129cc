/* SHA-256 of finished files, read sequentially in 64 KiB chunks. */
#include "record/record_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/encode.h"
#include "core/error.h"

int mr_rec_hash_begin(struct mr_rec_hash *h, const char *path)
{
    h->hex[0] = '\0';
    h->md = NULL;
    h->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (h->fd < 0)
        return MR_EIO;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto fail;
    h->md = md;
    return 0;

    /* ERRORS */
fail:
    EVP_MD_CTX_free(md);
    close(h->fd);
    h->fd = -1;
    return MR_ENOMEM;
}

int mr_rec_hash_step(struct mr_rec_hash *h, size_t max_bytes)
{
    uint8_t buf[65536];
    size_t done = 0;
    while (done < max_bytes) {
        ssize_t n = read(h->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return MR_EIO;
        if (n == 0) {
            uint8_t digest[32];
            unsigned dlen = 0;
            if (EVP_DigestFinal_ex(h->md, digest, &dlen) != 1 || dlen != sizeof(digest))
                return MR_EIO;
            mr_hex_encode(digest, sizeof(digest), h->hex);
            return 1;
        }
        if (EVP_DigestUpdate(h->md, buf, (size_t)n) != 1)
            return MR_EIO;
        done += (size_t)n;
    }
    return 0;
}

void mr_rec_hash_cleanup(struct mr_rec_hash *h)
{
    if (h->md)
        EVP_MD_CTX_free(h->md);
    h->md = NULL;
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
}

int mr_rec_hash_file(const char *path, char hex[MR_RECORD_SHA256_LEN + 1])
{
    struct mr_rec_hash h;
    int rc = mr_rec_hash_begin(&h, path);
    if (rc < 0)
        return rc;
    do
        rc = mr_rec_hash_step(&h, SIZE_MAX);
    while (rc == 0);
    if (rc == 1)
        memcpy(hex, h.hex, sizeof(h.hex));
    mr_rec_hash_cleanup(&h);
    return rc == 1 ? 0 : rc;
}
