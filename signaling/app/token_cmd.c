/* `medrelay token`: mint an access token with the configured secret. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/error.h"
#include "core/name.h"
#include "core/random.h"

#define DEFAULT_TTL_S 3600

/* --ttl: 1 to max seconds; absent, an hour (or max when that is shorter).
 * A token the server would refuse for its lifetime is never issued. */
static int parse_ttl(const char *s, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : (DEFAULT_TTL_S < max ? DEFAULT_TTL_S : max);
    if (s && (errno || *end || end == s || v <= 0 || v > max))
        return MR_EINVAL;
    *out = v;
    return 0;
}

int mr_token_command(const struct mr_cli *cli, const struct mr_config *cfg)
{
    struct mr_claims claims;
    memset(&claims, 0, sizeof(claims));
    if (strcmp(cli->room, "*") != 0 && !mr_name_valid(cli->room, strlen(cli->room))) {
        fprintf(stderr, "medrelay token: --room must be '*' or match [A-Za-z0-9_-]{1,64}\n");
        return 2;
    }
    if (mr_role_from_name(cli->role, &claims.role) < 0) {
        fprintf(stderr, "medrelay token: --role must be clinic, expert, operator or viewer\n");
        return 2;
    }
    long long ttl;
    if (parse_ttl(cli->ttl, (long long)cfg->max_token_ttl_s, &ttl) < 0) {
        fprintf(stderr,
                "medrelay token: --ttl must be a number of seconds from 1 to %u ([auth] "
                "max_token_ttl)\n",
                cfg->max_token_ttl_s);
        return 2;
    }
    if (cli->name && !mr_sub_valid(cli->name, strlen(cli->name))) {
        fprintf(stderr, "medrelay token: --name must be 1 to %d characters from "
                        "[A-Za-z0-9._@:+-]\n",
                MR_SUB_MAX);
        return 2;
    }
    snprintf(claims.room, sizeof(claims.room), "%s", cli->room);
    if (cli->name) {
        snprintf(claims.sub, sizeof(claims.sub), "%s", cli->name);
    } else {
        char hex[9];
        mr_random_hex(hex, 4);
        snprintf(claims.sub, sizeof(claims.sub), "%s-%s", mr_role_name(claims.role), hex);
    }
    claims.exp = (int64_t)time(NULL) + ttl;

    struct mr_auth_key key;
    bool created;
    char err[512] = "";
    if (mr_secret_load(cfg, mr_config_host_is_loopback(cfg->listen_host), &key, &created, err,
                       sizeof(err)) < 0) {
        fprintf(stderr, "medrelay token: %s\n", err);
        return 1;
    }
    if (created)
        fprintf(stderr, "medrelay: created a new token secret in %s (mode 0600)\n",
                cfg->jwt_secret_file);
    char token[MR_JWT_MAX_LEN];
    int n = mr_jwt_sign(&claims, key.secret, key.len, token, sizeof(token));
    explicit_bzero(&key, sizeof(key));
    if (n < 0) {
        fprintf(stderr, "medrelay token: cannot sign: %s\n", mr_strerror(n));
        return 1;
    }
    printf("%s\n", token);
    return 0;
}
