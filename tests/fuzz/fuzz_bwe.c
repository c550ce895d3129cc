/*
 * Fuzz target for relay/bwe: a viewer's downlink estimator, fed what a
 * viewer's feedback says, which a viewer controls entirely. abort() marks
 * a broken property.
 *
 * The input is a stream of 6-byte events driving one estimator: packets
 * sent (in order, or with the sequence number jumping back or far ahead,
 * sizes from 0 to 65535, probe clusters, clocks that stand still or leap),
 * and feedback: a run of statuses (received or lost, in any order, with
 * arrival times that go back, stand still or leap by hours, for numbers
 * sent or never sent), or the input's own bytes as a transport-cc FCI
 * through the parser (rtcp/twcc.h) as downlink.c reads it. After every
 * event the estimate stays within [min, max], the receive rate is finite,
 * and nothing reads outside its memory (ASan, UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bwe/bwe.h"
#include "rtcp/twcc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MIN_BPS 50000u
#define MAX_BPS 50000000u

static void check(int cond)
{
    if (!cond)
        abort();
}

static struct mr_bwe bwe;

static void check_bounds(void)
{
    uint32_t e = mr_bwe_estimate(&bwe);
    check(e >= MIN_BPS && e <= MAX_BPS);
    check(mr_bwe_loss_permille(&bwe) <= 1000);
    check(mr_bwe_usage(&bwe) <= MR_BWE_UNDERUSE);
}

/* The input's remaining bytes as a feedback FCI, read like downlink.c. */
static void feedback_from(const uint8_t *fci, size_t len, int64_t now)
{
    struct mr_twcc_fb fb;
    if (mr_twcc_parse(fci, len, &fb) < 0)
        return;
    struct mr_twcc_iter it;
    struct mr_twcc_status st;
    mr_bwe_feedback_begin(&bwe, now);
    mr_twcc_iter_init(&it, &fb);
    while (mr_twcc_next(&it, &st))
        mr_bwe_feedback_status(&bwe, st.seq, st.received, st.arrival_us);
    mr_bwe_feedback_end(&bwe, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mr_bwe_config cfg = {.start_bps = 300000, .min_bps = MIN_BPS, .max_bps = MAX_BPS};
    int64_t now = 1000000, arrival = 5000000;
    uint16_t tseq = 0;
    mr_bwe_init(&bwe, &cfg, now);
    for (size_t i = 0; i + 6 <= size; i += 6) {
        const uint8_t *e = data + i;
        uint16_t a = (uint16_t)(e[1] << 8 | e[2]), b = (uint16_t)(e[3] << 8 | e[4]);
        switch (e[0] & 7) {
        case 0: /* a packet: size a, probe cluster e[5] & 3, time on by b µs */
            now += b;
            mr_bwe_on_sent(&bwe, tseq++, a, now, (uint16_t)(e[5] & 3));
            break;
        case 1: /* the sequence number jumps */
            tseq = a;
            break;
        case 2: /* the sender's clock leaps (a stalled worker) */
            now += (int64_t)a * 1000 * (e[5] + 1);
            break;
        case 3: { /* a feedback of up to 16 statuses from number a */
            mr_bwe_feedback_begin(&bwe, now);
            for (unsigned k = 0; k < (e[5] & 15u) + 1; k++) {
                arrival += (int64_t)(int16_t)b * (k + 1) * ((e[5] & 0x80) ? 1000 : 1);
                mr_bwe_feedback_status(&bwe, (uint16_t)(a + k), (e[5] >> (k & 7)) & 1, arrival);
            }
            mr_bwe_feedback_end(&bwe, now);
            break;
        }
        case 4: /* the viewer's clock leaps by hours, either way */
            arrival += ((int64_t)(int16_t)a) * 3600000000LL / 100;
            break;
        case 5:
            mr_bwe_set_rtt(&bwe, (int64_t)(int16_t)a * 1000);
            break;
        case 6: /* the rest of the input is one feedback FCI */
            feedback_from(e + 1, size - i - 1, now);
            check_bounds();
            return 0;
        default: /* a probe's result is read */
            (void)mr_bwe_probe_result(&bwe, (uint16_t)(a & 3));
            break;
        }
        check_bounds();
        (void)mr_bwe_acked_bps(&bwe);
    }
    return 0;
}
