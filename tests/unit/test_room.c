/* Rooms: membership, replacement by sub, bans, admission limits. */
#include "mr_test.h"

#include "core/config.h"
#include "room/room.h"

static int freed_proto;

static void free_proto(void *p)
{
    freed_proto++;
    free(p);
}

static struct mr_config config(void)
{
    struct mr_config cfg;
    mr_config_defaults(&cfg);
    cfg.max_sessions = 6;
    cfg.room_participants = 2;
    cfg.room_viewers = 2;
    cfg.ban_seconds = 60;
    return cfg;
}

static void test_join_leave(void)
{
    struct mr_config cfg = config();
    struct mr_rooms *rs = mr_rooms_new(&cfg, free_proto);
    enum mr_admit_refusal why;
    struct mr_member *a = mr_rooms_admit(rs, "ward-1", "dr-a", MR_ROLE_CLINIC, 1000, 0, 0, &why);
    CHECK(a != NULL);
    CHECK_INT(why, MR_ADMIT_OK);
    CHECK_INT(strlen(a->id), MR_MEMBER_ID_LEN);
    struct mr_room *r = mr_rooms_find(rs, "ward-1");
    CHECK(r != NULL && a->room == r);
    CHECK(mr_room_member(r, a->id) == a);
    CHECK(mr_room_member(r, "0000000000000000") == NULL);
    struct mr_member *b = mr_rooms_admit(rs, "ward-1", "dr-b", MR_ROLE_EXPERT, 1000, 0, 0, &why);
    CHECK(b != NULL && strcmp(a->id, b->id) != 0);
    CHECK(mr_room_member_by_identity(r, "dr-b", MR_ROLE_EXPERT, NULL) == b);
    CHECK(mr_room_member_by_identity(r, "dr-b", MR_ROLE_EXPERT, b) == NULL);
    /* The same sub with another role is someone else. */
    CHECK(mr_room_member_by_identity(r, "dr-b", MR_ROLE_VIEWER, NULL) == NULL);
    CHECK_INT(mr_rooms_connections(rs), 2);
    r->proto = malloc(8);
    mr_rooms_leave(rs, a, 1000);
    CHECK(mr_rooms_find(rs, "ward-1") == r);
    freed_proto = 0;
    mr_rooms_leave(rs, b, 1000);
    CHECK(mr_rooms_find(rs, "ward-1") == NULL);  /* empty, no ban: gone */
    CHECK_INT(freed_proto, 1);
    CHECK_INT(mr_rooms_connections(rs), 0);
    mr_rooms_free(rs);
}

static void test_limits(void)
{
    struct mr_config cfg = config();
    struct mr_rooms *rs = mr_rooms_new(&cfg, free_proto);
    enum mr_admit_refusal why;
    CHECK(mr_rooms_admit(rs, "or-1", "a", MR_ROLE_CLINIC, 0, 0, 0, &why));
    CHECK(mr_rooms_admit(rs, "or-1", "b", MR_ROLE_EXPERT, 0, 0, 0, &why));
    CHECK(mr_rooms_admit(rs, "or-1", "c", MR_ROLE_OPERATOR, 0, 0, 0, &why) == NULL);
    CHECK_INT(why, MR_ADMIT_ROOM_FULL);
    /* A returning sub takes its own place again. */
    CHECK(mr_rooms_admit(rs, "or-1", "b", MR_ROLE_EXPERT, 0, 0, 0, &why) != NULL);
    CHECK(mr_rooms_admit(rs, "or-1", "v1", MR_ROLE_VIEWER, 0, 0, 0, &why));
    /* One WHEP viewer counted by the relay fills the second place. */
    CHECK(mr_rooms_admit(rs, "or-1", "v2", MR_ROLE_VIEWER, 0, 0, 1, &why) == NULL);
    CHECK_INT(why, MR_ADMIT_VIEWERS_FULL);
    CHECK(mr_rooms_admit(rs, "or-1", "v2", MR_ROLE_VIEWER, 0, 0, 0, &why));
    CHECK_INT(mr_room_viewers(mr_rooms_find(rs, "or-1")), 2);
    /* Server-wide: 5 connections + 1 relay session reach max_sessions 6. */
    CHECK(mr_rooms_admit(rs, "or-2", "x", MR_ROLE_CLINIC, 0, 1, 0, &why) == NULL);
    CHECK_INT(why, MR_ADMIT_SERVER_FULL);
    CHECK(mr_rooms_admit(rs, "or-2", "x", MR_ROLE_CLINIC, 0, 0, 0, &why) != NULL);
    CHECK(mr_rooms_find(rs, "or-2") != NULL);
    CHECK(mr_rooms_admit(rs, "or-3", "y", MR_ROLE_CLINIC, 0, 0, 0, &why) == NULL);
    CHECK(mr_rooms_find(rs, "or-3") == NULL); /* a refused join creates no room */
    CHECK(strlen(mr_admit_refusal_text(MR_ADMIT_SERVER_FULL)) > 0);
    mr_rooms_free(rs);
}

static void test_bans(void)
{
    struct mr_config cfg = config();
    struct mr_rooms *rs = mr_rooms_new(&cfg, free_proto);
    enum mr_admit_refusal why;
    struct mr_member *m = mr_rooms_admit(rs, "ward-2", "noisy", MR_ROLE_EXPERT, 100, 0, 0, &why);
    struct mr_room *r = m->room;
    mr_rooms_ban(rs, r, "noisy", MR_ROLE_EXPERT, 100);
    mr_rooms_leave(rs, m, 100);
    CHECK(mr_rooms_find(rs, "ward-2") == r); /* kept: it remembers the ban */
    CHECK(mr_rooms_admit(rs, "ward-2", "noisy", MR_ROLE_EXPERT, 159, 0, 0, &why) == NULL);
    CHECK_INT(why, MR_ADMIT_BANNED);
    /* A ban is on the identity: the same sub as a viewer is someone else. */
    m = mr_rooms_admit(rs, "ward-2", "noisy", MR_ROLE_VIEWER, 159, 0, 0, &why);
    CHECK(m != NULL);
    if (m)
        mr_rooms_leave(rs, m, 159);
    CHECK(mr_rooms_admit(rs, "ward-3", "noisy", MR_ROLE_EXPERT, 120, 0, 0, &why) != NULL);
    m = mr_rooms_admit(rs, "ward-2", "noisy", MR_ROLE_EXPERT, 160, 0, 0, &why);
    CHECK(m != NULL);
    CHECK_INT(why, MR_ADMIT_OK);
    mr_rooms_leave(rs, m, 161);
    CHECK(mr_rooms_find(rs, "ward-2") == NULL); /* ban over, nobody left */
    cfg.ban_seconds = 0;
    m = mr_rooms_admit(rs, "ward-4", "a", MR_ROLE_EXPERT, 0, 0, 0, &why);
    mr_rooms_ban(rs, m->room, "a", MR_ROLE_EXPERT, 0);
    mr_rooms_leave(rs, m, 0);
    CHECK(mr_rooms_admit(rs, "ward-4", "a", MR_ROLE_EXPERT, 1, 0, 0, &why) != NULL);
    mr_rooms_free(rs);
}

static void count_room(struct mr_room *room, void *user)
{
    (void)room;
    (*(int *)user)++;
}

static void test_each(void)
{
    struct mr_config cfg = config();
    struct mr_rooms *rs = mr_rooms_new(&cfg, NULL);
    enum mr_admit_refusal why;
    mr_rooms_admit(rs, "a", "1", MR_ROLE_CLINIC, 0, 0, 0, &why);
    mr_rooms_admit(rs, "b", "2", MR_ROLE_CLINIC, 0, 0, 0, &why);
    int n = 0;
    mr_rooms_each(rs, count_room, &n);
    CHECK_INT(n, 2);
    mr_rooms_free(rs);
}

MR_TEST_MAIN(MR_TEST(test_join_leave), MR_TEST(test_limits), MR_TEST(test_bans),
             MR_TEST(test_each))
