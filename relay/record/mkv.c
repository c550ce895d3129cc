/*
 * A Matroska walker for files the muxer never finished (the relay was
 * killed): it finds the timestamp of the last complete block, which is the
 * playable length, and can write that into Info/Duration so players show
 * it. GstDiscoverer is no help there: without a duration in the header it
 * reports the length of the first cluster or none at all.
 *
 * EBML (RFC 8794): every element is an ID (a variable-length integer of 1-4
 * bytes that keeps its length marker), a size (1-8 bytes, marker removed;
 * all value bits set means "unknown"), then the data. matroskamux writes the
 * Segment and the cluster being filled with unknown sizes and patches them
 * afterwards, so a cut-off file ends in an unknown-size cluster, whose end
 * is found at the next top-level ID or at the end of the file.
 */
#include "record/record_priv.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

#define ID_EBML           0x1A45DFA3u
#define ID_SEGMENT        0x18538067u
#define ID_INFO           0x1549A966u
#define ID_TIMECODE_SCALE 0x2AD7B1u
#define ID_DURATION       0x4489u
#define ID_CLUSTER        0x1F43B675u
#define ID_CLUSTER_TIME   0xE7u
#define ID_SIMPLE_BLOCK   0xA3u
#define ID_BLOCK_GROUP    0xA0u
#define ID_BLOCK          0xA1u

static bool top_level(uint32_t id)
{
    switch (id) {
    case 0x114D9B74u: /* SeekHead */
    case ID_INFO:
    case 0x1654AE6Bu: /* Tracks */
    case ID_CLUSTER:
    case 0x1C53BB6Bu: /* Cues */
    case 0x1254C367u: /* Tags */
    case 0x1043A770u: /* Chapters */
    case 0x1941A469u: /* Attachments */
        return true;
    default:
        return false;
    }
}

/* The number of bytes of a variable-length integer, from its first byte. */
static unsigned vint_len(uint8_t b, unsigned max)
{
    unsigned n = 1;
    for (uint8_t mask = 0x80; n <= max && !(b & mask); mask >>= 1)
        n++;
    return n;
}

int mr_rec_ebml_header(const uint8_t *buf, size_t len, uint32_t *id, uint64_t *size, bool *unknown,
                       size_t *hdr_len)
{
    if (len < 1)
        return MR_ETRUNC;
    unsigned il = vint_len(buf[0], 4);
    if (il > 4)
        return MR_EPARSE;
    if (len < il + 1)
        return MR_ETRUNC;
    uint32_t v = 0;
    for (unsigned i = 0; i < il; i++)
        v = v << 8 | buf[i];
    unsigned sl = vint_len(buf[il], 8);
    if (sl > 8)
        return MR_EPARSE;
    if (len < il + sl)
        return MR_ETRUNC;
    uint64_t s = buf[il] & (0xffu >> sl);
    for (unsigned i = 1; i < sl; i++)
        s = s << 8 | buf[il + i];
    *id = v;
    *unknown = s == ((uint64_t)1 << (7 * sl)) - 1;
    *size = s;
    *hdr_len = il + sl;
    return 0;
}

struct elem {
    uint32_t id;
    uint64_t data; /* file offset of the data */
    uint64_t end;  /* data + size, or the limit when unknown */
    bool unknown;
};

static int read_elem(int fd, uint64_t pos, uint64_t limit, struct elem *e)
{
    uint8_t b[12];
    ssize_t n = pread(fd, b, sizeof(b), (off_t)pos);
    if (n <= 0)
        return MR_ETRUNC;
    uint64_t size;
    size_t hl;
    int rc = mr_rec_ebml_header(b, (size_t)n, &e->id, &size, &e->unknown, &hl);
    if (rc < 0)
        return rc;
    e->data = pos + hl;
    if (e->data > limit)
        return MR_ETRUNC;
    bool fits = size <= limit - e->data;
    e->end = e->unknown || !fits ? limit : e->data + size;
    return e->unknown || fits ? 0 : MR_ETRUNC;
}

static uint64_t read_uint(int fd, const struct elem *e)
{
    uint8_t b[8];
    uint64_t len = e->end - e->data, v = 0;
    if (len > sizeof(b) || pread(fd, b, len, (off_t)e->data) != (ssize_t)len)
        return 0;
    for (uint64_t i = 0; i < len; i++)
        v = v << 8 | b[i];
    return v;
}

static double read_float(int fd, const struct elem *e)
{
    uint8_t b[8];
    uint64_t len = e->end - e->data, bits = 0;
    if ((len != 4 && len != 8) || pread(fd, b, len, (off_t)e->data) != (ssize_t)len)
        return -1;
    for (uint64_t i = 0; i < len; i++)
        bits = bits << 8 | b[i];
    if (len == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof(f));
        return f;
    }
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static void scan_info(int fd, const struct elem *info, struct mr_rec_mkv_scan *out)
{
    struct elem e;
    for (uint64_t pos = info->data; pos < info->end; pos = e.end) {
        if (read_elem(fd, pos, info->end, &e) < 0 || e.unknown)
            return;
        if (e.id == ID_TIMECODE_SCALE)
            out->timecode_scale = read_uint(fd, &e);
        if (e.id == ID_DURATION && (e.end - e.data == 4 || e.end - e.data == 8)) {
            out->duration_off = (int64_t)e.data;
            out->duration_len = (unsigned)(e.end - e.data);
            out->duration_val = read_float(fd, &e);
        }
    }
}

/* A block starts with the track number (a vint) and a signed 16-bit time
 * relative to its cluster; only blocks wholly inside the file count. */
static void note_block(int fd, const struct elem *e, int64_t cluster_time, int64_t *max_time,
                       unsigned *blocks)
{
    uint8_t b[10];
    if (e->unknown || pread(fd, b, sizeof(b), (off_t)e->data) < 4)
        return;
    unsigned tl = vint_len(b[0], 8);
    if (tl > 8 || e->data + tl + 2 > e->end)
        return;
    int16_t rel = (int16_t)(b[tl] << 8 | b[tl + 1]);
    int64_t t = cluster_time + rel;
    if (t > *max_time)
        *max_time = t;
    (*blocks)++;
}

/* Returns where the cluster ends: its size, or for an unknown size the next
 * top-level element or the first element that does not fit in the file. */
static uint64_t scan_cluster(int fd, const struct elem *c, int64_t *max_time, unsigned *blocks)
{
    int64_t ctime = 0;
    uint64_t pos = c->data;
    struct elem e, g;
    while (pos < c->end) {
        if (read_elem(fd, pos, c->end, &e) < 0)
            return c->end;
        if (c->unknown && top_level(e.id))
            return pos;
        if (e.unknown)
            return c->end;
        if (e.id == ID_CLUSTER_TIME)
            ctime = (int64_t)read_uint(fd, &e);
        else if (e.id == ID_SIMPLE_BLOCK)
            note_block(fd, &e, ctime, max_time, blocks);
        else if (e.id == ID_BLOCK_GROUP)
            for (uint64_t p = e.data; p < e.end && read_elem(fd, p, e.end, &g) == 0; p = g.end)
                if (g.id == ID_BLOCK)
                    note_block(fd, &g, ctime, max_time, blocks);
        pos = e.end;
    }
    return c->end;
}

int mr_rec_mkv_scan(int fd, struct mr_rec_mkv_scan *out)
{
    struct stat st;
    memset(out, 0, sizeof(*out));
    out->timecode_scale = 1000000;
    out->duration_off = -1;
    if (fstat(fd, &st) < 0)
        return MR_EIO;
    uint64_t fsize = (uint64_t)st.st_size;
    struct elem e, seg;
    if (read_elem(fd, 0, fsize, &e) < 0 || e.id != ID_EBML)
        return MR_EPARSE;
    if (read_elem(fd, e.end, fsize, &seg) < 0 || seg.id != ID_SEGMENT)
        return MR_EPARSE;
    int64_t max_time = -1;
    uint64_t pos = seg.data;
    while (pos < seg.end) {
        if (read_elem(fd, pos, seg.end, &e) < 0)
            break;
        if (e.id == ID_INFO)
            scan_info(fd, &e, out);
        if (e.id == ID_CLUSTER) {
            pos = scan_cluster(fd, &e, &max_time, &out->blocks);
            continue;
        }
        if (e.unknown)
            break;
        pos = e.end;
    }
    if (max_time > 0)
        out->duration_ns = (uint64_t)max_time * out->timecode_scale;
    return out->blocks ? 0 : MR_ENOENT;
}

int mr_rec_mkv_patch_duration(int fd, const struct mr_rec_mkv_scan *scan)
{
    if (scan->duration_off < 0 || scan->duration_val != 0 || scan->timecode_scale == 0)
        return MR_ENOENT;
    double v = (double)scan->duration_ns / (double)scan->timecode_scale;
    uint8_t b[8];
    uint64_t bits;
    if (scan->duration_len == 4) {
        float f = (float)v;
        uint32_t b32;
        memcpy(&b32, &f, sizeof(b32));
        bits = (uint64_t)b32 << 32;
    } else {
        memcpy(&bits, &v, sizeof(bits));
    }
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(bits >> (56 - 8 * i));
    if (pwrite(fd, b, scan->duration_len, scan->duration_off) != (ssize_t)scan->duration_len)
        return MR_EIO;
    return 0;
}
