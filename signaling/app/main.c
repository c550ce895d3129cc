/* medrelay: WHIP/WHEP signaling and SRTP media relay. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "app/app.h"
#include "core/error.h"
#include "core/log.h"

/* What [turn] hands out, for the operator; the URLs are not secret, the
 * secret and the credentials never appear. */
static void log_turn(const struct mr_turn *turn)
{
    unsigned relays = 0;
    for (unsigned i = 0; i < turn->n_urls; i++)
        relays += turn->urls[i].relay;
    if (!mr_turn_enabled(turn))
        return;
    for (unsigned i = 0; i < turn->n_urls; i++)
        mr_log_info(AUTH, "ICE server for clients: %s", turn->urls[i].url);
    if (relays)
        mr_log_info(AUTH, "TURN credentials for clients: coturn REST scheme, valid %u s at most "
                    "and never past the caller's token", turn->ttl_s);
}

int main(int argc, char **argv)
{
    struct mr_cli cli;
    struct mr_config cfg;
    /* Recordings, sidecars and the audit trail are medical records: no
     * file of ours is ever readable by other users. */
    umask(027);
    /* libnice gives every ICE agent two 64 KiB receive buffers (UDP and
     * RFC 4571 framing), of which a UDP viewer touches a page or two. From
     * the heap they sit among pages that are in use, and freed ones get
     * reused for them; as their own mappings only the touched pages count.
     * Measured at 1 -> 200 on fresh servers over veth: 105-109 -> 89 KiB of
     * RSS per subscriber, CPU per packet unchanged. Nothing on the packet
     * path allocates at all. */
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 60 * 1024);
#endif
    mr_log_init();
    int rc = mr_cli_parse(argc, argv, &cli);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (mr_cli_load_config(&cli, &cfg) < 0)
        return 1;
    if (cli.token)
        return mr_token_command(&cli, &cfg);

    char err[512] = "";
    if (mr_log_configure(cfg.log_level, err, sizeof(err)) < 0) {
        fprintf(stderr, "medrelay: [log] level: %s\n", err);
        return 1;
    }
    bool loopback = mr_config_host_is_loopback(cfg.listen_host);
    struct mr_auth_key key;
    bool created = false;
    if (mr_secret_load(&cfg, loopback, &key, &created, err, sizeof(err)) < 0) {
        fprintf(stderr, "medrelay: %s\n", err);
        if (!loopback)
            fprintf(stderr, "medrelay: refusing to listen on %s without a token secret\n",
                    cfg.listen_host);
        return 1;
    }
    if (created)
        mr_log_info(AUTH, "created a new token secret in %s (mode 0600)", cfg.jwt_secret_file);
    struct mr_turn turn;
    if (mr_turn_load(&cfg, &turn, err, sizeof(err)) < 0) {
        fprintf(stderr, "medrelay: %s\n", err);
        explicit_bzero(&key, sizeof(key));
        return 1;
    }
    log_turn(&turn);
    rc = mr_server_run(&cfg, &key, &turn);
    explicit_bzero(&key, sizeof(key));
    explicit_bzero(&turn, sizeof(turn));
    return rc;
}
