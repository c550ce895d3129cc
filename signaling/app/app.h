/* The medrelay program: command line, secret, sub-commands. */
#ifndef MR_APP_APP_H
#define MR_APP_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/bearer.h"
#include "auth/turn_cred.h"
#include "core/config.h"

#define MR_VERSION MEDRELAY_VERSION /* from CMakeLists.txt */

/* Options shared by the server and `medrelay token`. */
struct mr_cli {
    const char *config_path;  /* NULL: embedded defaults only */
    const char *listen;
    const char *media_ip;
    const char *announce_ip;
    const char *record_dir;
    /* token */
    bool token;
    const char *room;
    const char *role;
    const char *name;
    const char *ttl;
};

/* Parses argv. Returns 0 to go on, 1 when --help/--version was handled
 * (exit 0), or -1 after printing a usage error (exit 2). */
int mr_cli_parse(int argc, char **argv, struct mr_cli *cli);

/* Loads the configuration: defaults, then the file, then flags. Prints the
 * error (file, line, key) and returns -1 on failure. */
int mr_cli_load_config(const struct mr_cli *cli, struct mr_config *cfg);

/*
 * Finds the token secret: MEDRELAY_JWT_SECRET, else [auth] jwt_secret, else
 * the file [auth] jwt_secret_file. When none exists and may_create is set
 * (the server listens on loopback only), a random secret is written to that
 * file with mode 0600 (its folder 0700) and *created is set. Refuses
 * secrets shorter than 32 bytes. key's lifetime cap comes from cfg
 * ([auth] max_token_ttl). Returns 0, or MR_ENOENT (no secret and not
 * allowed to create one) / MR_EINVAL / MR_EIO with a message in err.
 */
int mr_secret_load(const struct mr_config *cfg, bool may_create, struct mr_auth_key *key,
                   bool *created, char *err, size_t err_len);

/*
 * Sets up turn from [turn]: its URLs and ttl, and, when a TURN server is
 * named, coturn's secret from [turn] secret or the file [turn] secret_file
 * (trailing newline ignored; a warning when others may read it). Refuses a
 * secret shorter than MR_TURN_SECRET_MIN bytes. Without [turn] urls, turn
 * hands out nothing. Returns 0, or MR_ENOENT / MR_EIO / MR_EINVAL with a
 * message in err that never quotes the secret.
 */
int mr_turn_load(const struct mr_config *cfg, struct mr_turn *turn, char *err, size_t err_len);

/* `medrelay token`: prints one token on stdout. Returns the exit status. */
int mr_token_command(const struct mr_cli *cli, const struct mr_config *cfg);

/* The server; turn: the ICE servers handed to clients (mr_turn_load).
 * Returns the exit status. */
int mr_server_run(const struct mr_config *cfg, const struct mr_auth_key *key,
                  const struct mr_turn *turn);

#endif
