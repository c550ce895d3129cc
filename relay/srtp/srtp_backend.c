/* The crypto backend of the running libsrtp2 (srtp_backend.h). */
#include "srtp/srtp_backend.h"

#include <string.h>

#include <srtp2/srtp.h>

/*
 * libsrtp registers a debug module per cipher implementation, named after
 * its crypto backend: "aes icm ossl" (OpenSSL), "aes icm nss", "aes icm
 * mbedtls", or plain "aes icm" (libsrtp's own AES). srtp_list_debug_modules()
 * reports them through the log handler, so the backend is read from the
 * library actually running, whichever the build linked.
 */
static void note_module(srtp_log_level_t level, const char *msg, void *data)
{
    const char **found = data;
    (void)level;
    if (!strstr(msg, "aes icm"))
        return;
    if (strstr(msg, "ossl") || strstr(msg, "openssl"))
        *found = "OpenSSL";
    else if (strstr(msg, "nss"))
        *found = "NSS";
    else if (strstr(msg, "mbedtls"))
        *found = "mbedTLS";
    else
        *found = "built-in";
}

const char *mr_srtp_probe_backend(void)
{
    /* No other code installs a libsrtp log handler; this one is removed
     * again at once. */
    const char *found = "unknown";
    if (srtp_install_log_handler(note_module, &found) == srtp_err_status_ok) {
        srtp_list_debug_modules();
        srtp_install_log_handler(NULL, NULL);
    }
    return found;
}
