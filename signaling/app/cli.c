#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "core/error.h"

static const char usage[] =
    "usage: medrelay [--config FILE] [--listen HOST:PORT] [--media-ip IP] [--announce-ip IP]\n"
    "                [--record-dir DIR]\n"
    "       medrelay token [--config FILE] --room ROOM --role ROLE [--name SUB] "
    "[--ttl SECONDS]\n"
    "       medrelay --version | --help\n"
    "\n"
    "  --config FILE       configuration file (see configs/medrelay.conf)\n"
    "  --listen HOST:PORT  where HTTP and WebSocket are served (default 127.0.0.1:8080)\n"
    "  --media-ip IP       address ICE gathers host candidates on (default 127.0.0.1)\n"
    "  --announce-ip IP    address written into candidates instead (behind a 1:1 NAT)\n"
    "  --record-dir DIR    where recordings go (default ./recordings)\n"
    "\n"
    "  token               print an access token signed with the configured secret\n"
    "    --room ROOM       a room name, or '*' for every room\n"
    "    --role ROLE       clinic, expert, operator or viewer\n"
    "    --name SUB        who the token is for (the 'sub' claim)\n"
    "    --ttl SECONDS     lifetime, default 3600\n"
    "\n"
    "MEDRELAY_JWT_SECRET overrides the configured token secret (at least 32 bytes).\n";

struct flag {
    const char *name;
    size_t offset;
    bool token_only;
};

#define CLI_FIELD(f) offsetof(struct mr_cli, f)

static const struct flag flags[] = {
    {"--config", CLI_FIELD(config_path), false}, {"--listen", CLI_FIELD(listen), false},
    {"--media-ip", CLI_FIELD(media_ip), false},  {"--record-dir", CLI_FIELD(record_dir), false},
    {"--announce-ip", CLI_FIELD(announce_ip), false},
    {"--room", CLI_FIELD(room), true},           {"--role", CLI_FIELD(role), true},
    {"--name", CLI_FIELD(name), true},           {"--ttl", CLI_FIELD(ttl), true},
};

static const struct flag *find_flag(const char *arg, const char **inline_value)
{
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        size_t n = strlen(flags[i].name);
        if (strncmp(arg, flags[i].name, n) != 0)
            continue;
        if (arg[n] == '\0') {
            *inline_value = NULL;
            return &flags[i];
        }
        if (arg[n] == '=') {
            *inline_value = arg + n + 1;
            return &flags[i];
        }
    }
    return NULL;
}

int mr_cli_parse(int argc, char **argv, struct mr_cli *cli)
{
    memset(cli, 0, sizeof(*cli));
    int i = 1;
    if (argc > 1 && strcmp(argv[1], "token") == 0) {
        cli->token = true;
        i = 2;
    }
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (!cli->token && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            fputs(usage, stdout);
            return 1;
        }
        if (!cli->token && strcmp(arg, "--version") == 0) {
            printf("medrelay %s\n", MR_VERSION);
            return 1;
        }
        const char *value;
        const struct flag *f = find_flag(arg, &value);
        if (!f || (f->token_only && !cli->token)) {
            fprintf(stderr, "medrelay: unknown option '%s'\n%s", arg, usage);
            return -1;
        }
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "medrelay: %s needs a value\n", f->name);
                return -1;
            }
            value = argv[++i];
        }
        *(const char **)((char *)cli + f->offset) = value;
    }
    if (cli->token && (!cli->room || !cli->role)) {
        fprintf(stderr, "medrelay token: --room and --role are required\n%s", usage);
        return -1;
    }
    return 0;
}

static int override(struct mr_config *cfg, const char *section, const char *key,
                    const char *flag, const char *value)
{
    char err[256];
    if (!value)
        return 0;
    if (mr_config_set(cfg, section, key, value, err, sizeof(err)) < 0) {
        /* err reads "[section] key: why"; name the flag the user typed. */
        const char *why = strstr(err, ": ");
        fprintf(stderr, "medrelay: %s: %s\n", flag, why ? why + 2 : err);
        return -1;
    }
    return 0;
}

int mr_cli_load_config(const struct mr_cli *cli, struct mr_config *cfg)
{
    char err[512];
    mr_config_defaults(cfg);
    if (cli->config_path && mr_config_load_file(cfg, cli->config_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "medrelay: configuration error: %s\n", err);
        return -1;
    }
    if (override(cfg, "server", "listen", "--listen", cli->listen) < 0 ||
        override(cfg, "media", "ip", "--media-ip", cli->media_ip) < 0 ||
        override(cfg, "media", "announce_ip", "--announce-ip", cli->announce_ip) < 0 ||
        override(cfg, "recording", "dir", "--record-dir", cli->record_dir) < 0)
        return -1;
    if (mr_config_validate(cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "medrelay: configuration error: %s%s%s\n",
                cli->config_path ? cli->config_path : "", cli->config_path ? ": " : "", err);
        return -1;
    }
    return 0;
}
