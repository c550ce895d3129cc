/*
 * The recorder's pure and file-level pieces: the VP8 key-frame header
 * (RFC 6386 9.1), EBML element headers (RFC 8794), the Matroska walk over a
 * cut-off file and the Duration patch, file names, modes, the sidecar and
 * SHA-256 (FIPS 180-2 "abc" vector).
 */
#include <sys/stat.h>

#include "core/error.h"
#include "mr_test.h"
#include "record/record_priv.h"
#include "test_record_media.h"

static void test_vp8_header(void)
{
    /* key frame, version 0, shown, first partition 0x0b2a bytes; then the
     * start code, 320 (scale 1 in the top bits) x 240 */
    const uint8_t key[10] = {0x50, 0x59, 0x01, 0x9d, 0x01, 0x2a, 0x40, 0x41, 0xf0, 0x00};
    unsigned w = 0, h = 0;
    CHECK_INT(mr_rec_vp8_size(key, sizeof(key), &w, &h), 0);
    CHECK_INT(w, 320);
    CHECK_INT(h, 240);
    const uint8_t inter[3] = {0x51, 0x59, 0x01};
    CHECK_INT(mr_rec_vp8_size(inter, sizeof(inter), &w, &h), MR_ENOENT);
    CHECK_INT(mr_rec_vp8_size(key, 9, &w, &h), MR_EPARSE);
    CHECK_INT(mr_rec_vp8_size(key, 2, &w, &h), MR_EPARSE);
    uint8_t bad[10];
    memcpy(bad, key, sizeof(bad));
    bad[4] = 0x02;
    CHECK_INT(mr_rec_vp8_size(bad, sizeof(bad), &w, &h), MR_EPARSE);
    memcpy(bad, key, sizeof(bad));
    bad[6] = bad[7] = 0;
    CHECK_INT(mr_rec_vp8_size(bad, sizeof(bad), &w, &h), MR_EPARSE);
}

static void test_ebml_header(void)
{
    uint32_t id;
    uint64_t size;
    bool unknown;
    size_t hl;
    const uint8_t ebml[] = {0x1a, 0x45, 0xdf, 0xa3, 0x9f};
    CHECK_INT(mr_rec_ebml_header(ebml, sizeof(ebml), &id, &size, &unknown, &hl), 0);
    CHECK_INT(id, 0x1a45dfa3);
    CHECK_INT(size, 31);
    CHECK(!unknown);
    CHECK_INT(hl, 5);
    const uint8_t seg[] = {0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_INT(mr_rec_ebml_header(seg, sizeof(seg), &id, &size, &unknown, &hl), 0);
    CHECK(unknown);
    CHECK_INT(hl, 12);
    const uint8_t two[] = {0xe7, 0x40, 0x02};
    CHECK_INT(mr_rec_ebml_header(two, sizeof(two), &id, &size, &unknown, &hl), 0);
    CHECK_INT(id, 0xe7);
    CHECK_INT(size, 2);
    CHECK_INT(hl, 3);
    CHECK_INT(mr_rec_ebml_header(seg, 6, &id, &size, &unknown, &hl), MR_ETRUNC);
    CHECK_INT(mr_rec_ebml_header(seg, 0, &id, &size, &unknown, &hl), MR_ETRUNC);
    const uint8_t zero[] = {0x00, 0x81};
    CHECK_INT(mr_rec_ebml_header(zero, sizeof(zero), &id, &size, &unknown, &hl), MR_EPARSE);
    const uint8_t zsize[] = {0xe7, 0x00, 0x00};
    CHECK_INT(mr_rec_ebml_header(zsize, sizeof(zsize), &id, &size, &unknown, &hl), MR_EPARSE);
}

/* Appends an element with a one-byte size. */
static size_t put(uint8_t *p, const uint8_t *id, size_t idlen, const uint8_t *data, size_t len)
{
    memcpy(p, id, idlen);
    p[idlen] = (uint8_t)(0x80 | len);
    memcpy(p + idlen + 1, data, len);
    return idlen + 1 + len;
}

static size_t block(uint8_t *p, int16_t rel)
{
    const uint8_t id[] = {0xa3};
    const uint8_t data[] = {0x81, (uint8_t)(rel >> 8), (uint8_t)rel, 0x80, 1, 2, 3};
    return put(p, id, 1, data, sizeof(data));
}

/* EBML header, Segment (unknown size), Info (scale 1 ms, Duration 0), a
 * finished cluster at 0 ms (blocks at 0 and 500), then an unfinished one
 * at 1000 ms (a block at +200, and one cut off at +400). */
static size_t cut_off_file(uint8_t *buf)
{
    uint8_t *p = buf;
    const uint8_t ebml_id[] = {0x1a, 0x45, 0xdf, 0xa3}, doctype[] = {0x42, 0x82};
    uint8_t inner[32];
    size_t n = put(inner, doctype, 2, (const uint8_t *)"webm", 4);
    p += put(p, ebml_id, 4, inner, n);
    const uint8_t seg[] = {0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    memcpy(p, seg, sizeof(seg));
    p += sizeof(seg);
    const uint8_t scale_id[] = {0x2a, 0xd7, 0xb1}, scale[] = {0x0f, 0x42, 0x40};
    const uint8_t dur_id[] = {0x44, 0x89}, dur[8] = {0};
    n = put(inner, scale_id, 3, scale, 3);
    n += put(inner + n, dur_id, 2, dur, 8);
    const uint8_t info_id[] = {0x15, 0x49, 0xa9, 0x66};
    p += put(p, info_id, 4, inner, n);
    const uint8_t cl_id[] = {0x1f, 0x43, 0xb6, 0x75}, tc_id[] = {0xe7};
    uint8_t cl[64];
    const uint8_t t0[] = {0x00};
    n = put(cl, tc_id, 1, t0, 1);
    n += block(cl + n, 0);
    n += block(cl + n, 500);
    p += put(p, cl_id, 4, cl, n);
    memcpy(p, cl_id, 4);
    memcpy(p + 4, seg + 4, 8); /* unknown size */
    p += 12;
    const uint8_t t1[] = {0x03, 0xe8};
    p += put(p, tc_id, 1, t1, 2);
    p += block(p, 200);
    p += block(p, 400) - 3; /* the last bytes never reached the disk */
    return (size_t)(p - buf);
}

static void test_mkv_scan(void)
{
    char path[] = "/tmp/mr-rec-mkv-XXXXXX";
    int fd = mkstemp(path);
    uint8_t buf[256];
    size_t len = cut_off_file(buf);
    CHECK_INT(write(fd, buf, len), (long long)len);
    struct mr_rec_mkv_scan scan;
    CHECK_INT(mr_rec_mkv_scan(fd, &scan), 0);
    CHECK_INT(scan.blocks, 3);
    CHECK_INT(scan.duration_ns, 1200000000LL);
    CHECK_INT(scan.timecode_scale, 1000000);
    CHECK_INT(scan.duration_len, 8);
    CHECK(scan.duration_off > 0 && scan.duration_val == 0);
    CHECK_INT(mr_rec_mkv_patch_duration(fd, &scan), 0);
    CHECK_INT(mr_rec_mkv_scan(fd, &scan), 0);
    CHECK(scan.duration_val == 1200.0);
    CHECK_INT(mr_rec_mkv_patch_duration(fd, &scan), MR_ENOENT); /* only a zero */
    CHECK_INT(ftruncate(fd, 20), 0);
    CHECK(mr_rec_mkv_scan(fd, &scan) < 0);
    close(fd);
    unlink(path);
}

static void test_names(void)
{
    char stream[MR_NAME_MAX + 1], id8[9];
    unsigned seg;
    CHECK(mr_rec_parse_stem("cam_20240101T101010Z_deadbeef", stream, sizeof(stream), id8, &seg));
    CHECK_STR(stream, "cam");
    CHECK_STR(id8, "deadbeef");
    CHECK_INT(seg, 1);
    CHECK(mr_rec_parse_stem("my_cam_2_20240101T101010Z_0123abcd_12", stream, sizeof(stream), id8,
                            &seg));
    CHECK_STR(stream, "my_cam_2");
    CHECK_INT(seg, 12);
    CHECK(!mr_rec_parse_stem("20240101T101010Z_deadbeef", stream, sizeof(stream), id8, &seg));
    CHECK(!mr_rec_parse_stem("cam_20240101T101010_deadbeef", stream, sizeof(stream), id8, &seg));
    CHECK(!mr_rec_parse_stem("cam_20240101T101010Z_DEADBEEF", stream, sizeof(stream), id8, &seg));
    char s[32];
    mr_rec_iso8601(1700000000123456LL, s);
    CHECK_STR(s, "2023-11-14T22:13:20.123Z");
    mr_rec_utc_stamp(1700000000123456LL, s);
    CHECK_STR(s, "20231114T221320Z");
    mr_rec_utc_date(1700000000123456LL, s);
    CHECK_STR(s, "2023-11-14");
}

static void test_files_and_sidecar(void)
{
    char root[128], err[128], path[256];
    tm_tmpdir(root, sizeof(root), "units");
    mode_t old = umask(0); /* modes must not depend on it */
    CHECK_INT(mr_rec_mkdirs(root, "room/2024-01-01", err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/room", root);
    CHECK_INT(tm_mode(path), 0750);
    snprintf(path, sizeof(path), "%s/room/2024-01-01/a.webm", root);
    CHECK_INT(mr_rec_create_file(path, err, sizeof(err)), 0);
    CHECK_INT(tm_mode(path), 0640);
    CHECK_INT(mr_rec_create_file(path, err, sizeof(err)), MR_EIO);
    CHECK_STR(err, "File exists");
    struct mr_rec_sidecar sc = {.id = "0123456789abcdef",
                                .room = "room",
                                .stream = "s",
                                .state = "recording",
                                .file = "a.recording.webm",
                                .container = "webm",
                                .audio = "opus",
                                .start_us = 1,
                                .duration_s = -1,
                                .size = -1,
                                .segment = 1};
    snprintf(path, sizeof(path), "%s/room/2024-01-01/a.json", root);
    CHECK_INT(mr_rec_sidecar_write(path, &sc), 0);
    CHECK_INT(tm_mode(path), 0640);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size >= 2048); /* room for the last version */
    json_t *doc = json_load_file(path, 0, NULL);
    CHECK_STR(tm_jstr(doc, "state"), "recording");
    CHECK(json_is_null(json_object_get(doc, "publisher")));
    CHECK(json_is_null(json_object_get(doc, "sha256")));
    CHECK(json_is_null(json_object_get(doc, "width")));
    CHECK_STR(tm_jstr(json_object_get(doc, "codecs"), "audio"), "opus");
    json_decref(doc);
    sc.state = "complete";
    sc.duration_s = 12.3456;
    sc.size = 99;
    sc.width = 640;
    sc.height = 480;
    sc.sha256 = "ab";
    CHECK_INT(mr_rec_sidecar_write(path, &sc), 0);
    doc = json_load_file(path, 0, NULL);
    CHECK_STR(tm_jstr(doc, "state"), "complete");
    CHECK(tm_jnum(doc, "duration_s") == 12.346);
    CHECK_INT(json_integer_value(json_object_get(doc, "width")), 640);
    CHECK_STR(tm_jstr(doc, "start"), "1970-01-01T00:00:00.000Z");
    json_decref(doc);
    umask(old);

    char hex[MR_RECORD_SHA256_LEN + 1];
    snprintf(path, sizeof(path), "%s/abc", root);
    FILE *f = fopen(path, "w");
    fputs("abc", f);
    fclose(f);
    CHECK_INT(mr_rec_hash_file(path, hex), 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    tm_rmrf(root);
}

MR_TEST_MAIN(MR_TEST(test_vp8_header), MR_TEST(test_ebml_header), MR_TEST(test_mkv_scan),
             MR_TEST(test_names), MR_TEST(test_files_and_sidecar))
