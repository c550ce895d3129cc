/*
 * Retention: recordings older than [recording] retention_days are deleted,
 * each one logged and audited. The server runs the sweep at start-up and
 * then hourly on the control thread; a sweep costs one walk of the record
 * directory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/isotime.h"
#include "api/store.h"
#include "core/audit.h"
#include "core/error.h"
#include "core/log.h"

struct sweep {
    const char *dir;
    int64_t cutoff; /* recordings that ended before this go */
    unsigned deleted;
};

static bool sweep_one(const struct mr_store_entry *e, void *user)
{
    struct sweep *s = user;
    char redacted[MR_LOG_REDACT_LEN], when[MR_ISO_TIME_LEN + 1], detail[160];
    int64_t t = e->end_s != INT64_MIN ? e->end_s : e->start_s;
    /* A recording in progress is never old; one whose times cannot be read
     * is kept rather than guessed at. */
    if (strcmp(e->state, "recording") == 0 || t == INT64_MIN || t >= s->cutoff)
        return true;
    mr_iso_time_format(t, when);
    if (mr_store_delete(s->dir, e) < 0) {
        mr_log_error(RECORD, "retention: cannot delete recording %s in room %s: %s", e->id,
                     mr_log_redact(MR_LOG_RECORD, e->room, redacted), strerror(errno));
        return true;
    }
    const char *stream = json_string_value(json_object_get(e->meta, "stream"));
    snprintf(detail, sizeof(detail), "id=%s stream=%s ended=%s", e->id, stream ? stream : "", when);
    mr_audit("record-expire", e->room, NULL, NULL, detail);
    mr_log_info(RECORD, "retention: deleted recording %s in room %s (ended %s)", e->id,
                mr_log_redact(MR_LOG_RECORD, e->room, redacted), when);
    s->deleted++;
    return true;
}

unsigned mr_api_retention_sweep(const struct mr_config *cfg, int64_t now_s)
{
    if (cfg->retention_days == 0)
        return 0;
    struct sweep s = {cfg->record_dir, now_s - (int64_t)cfg->retention_days * 86400, 0};
    if (mr_store_each(cfg->record_dir, NULL, sweep_one, &s) < 0)
        mr_log_error(RECORD, "retention: the record directory cannot be read");
    unsigned pruned = mr_store_prune_dates(cfg->record_dir, now_s);
    if (s.deleted || pruned)
        mr_log_info(RECORD, "retention: %u recording(s) and %u empty date folder(s) removed",
                    s.deleted, pruned);
    return s.deleted;
}
