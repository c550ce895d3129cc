/* ISO 8601 UTC timestamps; see isotime.h. */
#include "api/isotime.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Exactly n digits. */
static bool digits(const char **p, unsigned n, unsigned *out)
{
    unsigned v = 0;
    for (unsigned i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool literal(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* "Z", "+HH:MM", "-HH:MM", "+HHMM", "-HHMM" or nothing; *offset in seconds
 * east of UTC. */
static bool parse_zone(const char *p, int64_t *offset)
{
    unsigned hh, mm;
    *offset = 0;
    if (*p == '\0')
        return true;
    if (*p == 'Z' || *p == 'z')
        return p[1] == '\0';
    /* A '+' sent unencoded in a URL query arrives as a space. */
    if (*p != '+' && *p != '-' && *p != ' ')
        return false;
    int sign = *p == '-' ? -1 : 1;
    p++;
    if (!digits(&p, 2, &hh))
        return false;
    literal(&p, ':');
    if (!digits(&p, 2, &mm) || *p != '\0' || hh > 23 || mm > 59)
        return false;
    *offset = sign * (int64_t)(hh * 3600 + mm * 60);
    return true;
}

static bool parse_clock(const char **p, unsigned *h, unsigned *mi, unsigned *s)
{
    *s = 0;
    if (!digits(p, 2, h) || !literal(p, ':') || !digits(p, 2, mi))
        return false;
    if (literal(p, ':')) {
        if (!digits(p, 2, s))
            return false;
        if (**p == '.' || **p == ',') {
            (*p)++;
            if (**p < '0' || **p > '9')
                return false;
            while (**p >= '0' && **p <= '9')
                (*p)++;
        }
    }
    return *h <= 23 && *mi <= 59 && *s <= 60;
}

int mr_iso_time_parse(const char *s, int64_t *out)
{
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t offset = 0;
    const char *p = s;
    if (!s || !digits(&p, 4, &y) || !literal(&p, '-') || !digits(&p, 2, &mo) || !literal(&p, '-') ||
        !digits(&p, 2, &d))
        return MR_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return MR_EPARSE;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return MR_EPARSE;
        p++;
        if (!parse_clock(&p, &h, &mi, &sec) || !parse_zone(p, &offset))
            return MR_EPARSE;
    }
    if (sec == 60)
        sec = 59; /* a leap second: the last second of that minute */
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return 0;
}

void mr_iso_time_format(int64_t unix_s, char out[MR_ISO_TIME_LEN + 1])
{
    static const int64_t min = -62167219200LL; /* 0000-01-01T00:00:00Z */
    static const int64_t max = 253402300799LL; /* 9999-12-31T23:59:59Z */
    if (unix_s < min)
        unix_s = min;
    if (unix_s > max)
        unix_s = max;
    int64_t days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
    int64_t rem = unix_s - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[64]; /* the compiler cannot see that every field fits */
    snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m, d, (unsigned)(rem / 3600),
             (unsigned)(rem % 3600 / 60), (unsigned)(rem % 60));
    memcpy(out, tmp, MR_ISO_TIME_LEN);
    out[MR_ISO_TIME_LEN] = '\0';
}
