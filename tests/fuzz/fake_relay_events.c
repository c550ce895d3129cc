/* What happens in the relay fake without the protocol asking
 * (fake_relay_event, fake.h): WHIP publishers and WHEP viewers, failures,
 * REST recordings, a full disk. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "fake_relay_priv.h"

/* --- What happens without the protocol --------------------------------------- */

#define EVENT_ROOM "ward-1"

/* The optional stream name after an event's letter, or dflt. */
static void event_name(const char *arg, size_t len, const char *dflt, char *out, size_t cap)
{
    if (len > 1 && len - 1 < cap && mr_name_valid(arg + 1, len - 1)) {
        memcpy(out, arg + 1, len - 1);
        out[len - 1] = '\0';
    } else {
        snprintf(out, cap, "%s", dflt);
    }
}

static void whip_publish(struct mr_relay *r, const char *name)
{
    struct fake_stream *st = fake_find_stream(r, EVENT_ROOM, name);
    if (st && st->pub_session[0]) {
        if (strcmp(st->pub_sub, "enc-1") != 0 || strcmp(st->pub_role, "clinic") != 0)
            return; /* 409: someone else publishes it */
        struct fake_session *old = fake_find_session(r, st->pub_session);
        if (old)
            fake_remove_session(r, old);
    }
    struct fake_session *s =
        fake_new_session(r, FAKE_PUBLISH, false, EVENT_ROOM, name, "enc-1", "clinic");
    st = fake_set_publisher(r, s, true, true);
    st->ready = true;
    fake_record_on_publish(r, st);
}

static void fail_session(struct mr_relay *r, unsigned n)
{
    unsigned live = 0;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        const struct fake_session *s = g_ptr_array_index(r->sessions, i);
        live += s->proto && !s->ticket;
    }
    if (!live)
        return;
    n %= live;
    for (unsigned i = 0; i < r->sessions->len; i++) {
        struct fake_session *s = g_ptr_array_index(r->sessions, i);
        if (s->proto && !s->ticket && n-- == 0) {
            fake_remove_session(r, s);
            return;
        }
    }
}

void fake_relay_event(struct mr_relay *r, const char *arg, size_t len)
{
    char name[MR_NAME_MAX + 1];
    if (len == 0)
        return;
    switch (arg[0]) {
    case 'w':
        event_name(arg, len, "whip", name, sizeof(name));
        whip_publish(r, name);
        break;
    case 'x':
        for (unsigned i = r->sessions->len; i-- > 0;) {
            struct fake_session *s = g_ptr_array_index(r->sessions, i);
            if (!s->proto || s->kind == FAKE_WHEP)
                fake_remove_session(r, s);
        }
        break;
    case 'v': {
        event_name(arg, len, "cam", name, sizeof(name));
        const struct fake_stream *st = fake_find_stream(r, EVENT_ROOM, name);
        if (st && st->pub_session[0] && st->ready)
            fake_new_session(r, FAKE_WHEP, false, EVENT_ROOM, name, "v-http", "viewer");
        break;
    }
    case 'f':
        fail_session(r, len > 1 ? (unsigned char)arg[1] : 0);
        break;
    case 'e':
        r->fail_next = MR_EIO;
        break;
    case 'r': {
        struct fake_stream *st = NULL;
        if (len > 1) {
            event_name(arg, len, "", name, sizeof(name));
            st = name[0] ? fake_find_stream(r, EVENT_ROOM, name) : NULL;
        } else {
            for (unsigned i = 0; i < r->streams->len && !st; i++) {
                struct fake_stream *x = g_ptr_array_index(r->streams, i);
                if (strcmp(x->room, EVENT_ROOM) == 0)
                    st = x;
            }
        }
        char detail[128];
        if (st && st->recording)
            mr_relay_record_stop(r, st->room, st->name, "api", "operator");
        else if (st)
            mr_relay_record_start(r, st->room, st->name, "api", "operator", detail, sizeof(detail));
        break;
    }
    case 'd':
        for (unsigned i = 0; i < r->streams->len; i++) {
            struct fake_stream *st = g_ptr_array_index(r->streams, i);
            if (st->recording) {
                st->recording = false;
                snprintf(st->record_error, sizeof(st->record_error), "no space left on device");
            }
        }
        break;
    default:
        break;
    }
}
