/* Which simulcast layers a publisher's section will send (negotiate.h). */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sdp/negotiate.h"

static bool rid_allows(const struct mr_sdp_rid *r, const struct mr_codec *c)
{
    if (r->n_pts == 0)
        return true;
    for (unsigned i = 0; i < r->n_pts; i++)
        if (r->pts[i] == c->pt)
            return true;
    return false;
}

int mr_negotiate_simulcast(const struct mr_sdp_media *m, const struct mr_codec *c,
                           const struct mr_ext_ids *ext, struct mr_sdp_sim_stream *out,
                           unsigned max, char *detail, size_t dlen)
{
    if (!m->simulcast || m->n_sim_send == 0)
        return 0;
    /* Every stream the list names must be defined (RFC 8853 §5.2). */
    for (unsigned i = 0; i < m->n_sim_send; i++) {
        const struct mr_sdp_rid *r = mr_sdp_media_rid(m, m->sim_send[i].rid);
        if (!r || !r->send) {
            snprintf(detail, dlen,
                     "a=simulcast in section %s names rid '%s' without an "
                     "a=rid:%s send line",
                     m->mid, m->sim_send[i].rid, m->sim_send[i].rid);
            return MR_EPARSE;
        }
    }
    /* Without the rid extension the layers cannot be told apart: answered
     * without simulcast, the browser sends one stream. */
    if (m->kind != MR_MEDIA_VIDEO || !ext->id[MR_RTP_EXT_RID])
        return 0;
    unsigned n = 0;
    for (unsigned i = 0; i < m->n_sim_send && n < max; i++) {
        const struct mr_sdp_rid *r = mr_sdp_media_rid(m, m->sim_send[i].rid);
        if (rid_allows(r, c))
            out[n++] = m->sim_send[i];
    }
    /* One layer is no simulcast: answered as a plain stream. */
    return n >= 2 ? (int)n : 0;
}
