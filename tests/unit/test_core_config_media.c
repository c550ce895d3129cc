/*
 * relay/core/config.c for issue 16's [media] keys: announce_ip (an
 * address or empty, the same family as ip, and its --announce-ip
 * override), ipv6 (an IPv6 address or empty) and ice_tcp (on by default).
 */
#include "core/config.h"
#include "core/error.h"
#include "mr_test.h"

static int load(struct mr_config *cfg, const char *text, char *err, size_t err_len)
{
    mr_config_defaults(cfg);
    int rc = mr_config_load_string(cfg, "media.conf", text, err, err_len);
    return rc < 0 ? rc : mr_config_validate(cfg, err, err_len);
}

static void test_defaults(void)
{
    struct mr_config cfg;
    mr_config_defaults(&cfg);
    CHECK_STR(cfg.announce_ip, "");
    CHECK(cfg.ice_tcp);
}

static void test_announce_ip(void)
{
    struct mr_config cfg;
    char err[256];
    CHECK_INT(load(&cfg, "[media]\nip = 10.0.0.5\nannounce_ip = 203.0.113.7\n", err, sizeof(err)), 0);
    CHECK_STR(cfg.announce_ip, "203.0.113.7");
    CHECK_STR(cfg.media_ip, "10.0.0.5");
    CHECK_INT(load(&cfg, "[media]\nip = fd00::5\nannounce_ip = 2001:db8::7\n", err, sizeof(err)), 0);
    CHECK_STR(cfg.announce_ip, "2001:db8::7");
    /* Empty: none, as by default. */
    CHECK_INT(load(&cfg, "[media]\nannounce_ip =\n", err, sizeof(err)), 0);
    CHECK_STR(cfg.announce_ip, "");
    /* Not an address: a name is not resolved, the file names the line. */
    CHECK_INT(load(&cfg, "[media]\nannounce_ip = relay.example.org\n", err, sizeof(err)), MR_EINVAL);
    CHECK(strstr(err, "media.conf:2") && strstr(err, "announce_ip"));
    /* Another family than the bound address. */
    CHECK_INT(load(&cfg, "[media]\nip = 10.0.0.5\nannounce_ip = 2001:db8::7\n", err, sizeof(err)),
              MR_EINVAL);
    CHECK(strstr(err, "announce_ip") && strstr(err, "family"));
    /* The flag's way in, an override after the file. */
    mr_config_defaults(&cfg);
    CHECK_INT(mr_config_set(&cfg, "media", "announce_ip", "198.51.100.9", err, sizeof(err)), 0);
    CHECK_STR(cfg.announce_ip, "198.51.100.9");
    CHECK_INT(mr_config_set(&cfg, "media", "announce_ip", "not-an-ip", err, sizeof(err)), MR_EINVAL);
    CHECK_STR(cfg.announce_ip, "198.51.100.9");
}

static void test_ipv6(void)
{
    struct mr_config cfg;
    char err[256];
    mr_config_defaults(&cfg);
    CHECK_STR(cfg.media_ipv6, "");
    CHECK_INT(load(&cfg, "[media]\nip = 10.0.0.5\nipv6 = 2001:db8::5\n", err, sizeof(err)), 0);
    CHECK_STR(cfg.media_ipv6, "2001:db8::5");
    CHECK_INT(load(&cfg, "[media]\nipv6 = 10.0.0.6\n", err, sizeof(err)), MR_EINVAL);
    CHECK(strstr(err, "ipv6") && strstr(err, "IPv6"));
    CHECK_INT(load(&cfg, "[media]\nipv6 = relay6.example.org\n", err, sizeof(err)), MR_EINVAL);
}

static void test_ice_tcp(void)
{
    struct mr_config cfg;
    char err[256];
    CHECK_INT(load(&cfg, "[media]\nice_tcp = false\n", err, sizeof(err)), 0);
    CHECK(!cfg.ice_tcp);
    CHECK_INT(load(&cfg, "[media]\nice_tcp = yes\n", err, sizeof(err)), 0);
    CHECK(cfg.ice_tcp);
    CHECK_INT(load(&cfg, "[media]\nice_tcp = sometimes\n", err, sizeof(err)), MR_EINVAL);
    CHECK(strstr(err, "ice_tcp") != NULL);
}

MR_TEST_MAIN(MR_TEST(test_defaults), MR_TEST(test_announce_ip), MR_TEST(test_ipv6),
             MR_TEST(test_ice_tcp))
