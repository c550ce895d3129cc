/*
 * UTC timestamps in ISO 8601 / RFC 3339 form, as the recorder writes them
 * in sidecars and as API clients pass them in filters. Pure: no time zone
 * database, no locale, no clock.
 */
#ifndef MR_API_ISOTIME_H
#define MR_API_ISOTIME_H

#include <stdint.h>

#define MR_ISO_TIME_LEN 20 /* "YYYY-MM-DDTHH:MM:SSZ" */

/*
 * Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM[:SS[.fraction]]"
 * followed by "Z", "+HH:MM", "-HH:MM", "+HHMM" or nothing (UTC); 't', 'z'
 * and a space in place of 'T' are accepted too, and a space in place of
 * the '+' of an offset (what an unencoded '+' becomes in a URL query).
 * The fraction is dropped.
 * Returns 0 with Unix seconds in *out, or MR_EPARSE.
 */
int mr_iso_time_parse(const char *s, int64_t *out);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" and a NUL (years 0000-9999; others are
 * clamped). */
void mr_iso_time_format(int64_t unix_s, char out[MR_ISO_TIME_LEN + 1]);

#endif
