#!/usr/bin/env node
'use strict';
/*
 * Issue 15 on an impaired network, the full sweep (CTest label
 * "impaired-long", `make test-impaired`, outside `make test`; about 10
 * minutes): the bed, browsers and paths of impaired_chromium.test.js, with
 * 30 s windows (MR_IMPAIRED_WINDOW_S) at 0, 2, 5 and 10 % random loss on the
 * clinic's uplink and at 2, 5 and 10 % on the expert's downlink (0 % is the
 * clean control for both), through medrelay and on the direct path; then an
 * aiortc publisher (it answers NACKs with its own retransmissions) in the
 * clinic namespace, clean and at 5 % uplink loss, watched by the Chromium
 * expert through medrelay.
 *
 * Before each window every impairment is removed and the expert's picture
 * must move again (up to 12 s), so one window's damage does not leak into
 * the next; the session is kept, so the clinic's encoder has ramped up.
 *
 * Asserts the targets, printing every figure either way:
 *  - at 5 % and 10 % uplink loss, frozen time through medrelay at most the
 *    direct path's + 1 point; under 2 % at 5 %;
 *  - at every downlink loss level, the clinic receives no more NACKs and
 *    PLI+FIR than in the clean window, and the expert did send NACKs;
 *  - aiortc at 5 % uplink loss: frozen time at most its clean window's + 2
 *    points.
 * Writes the Markdown table and the raw JSON to tests/artifacts/impaired/
 * (impaired_sweep.md, impaired_sweep.json).
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/impaired_sweep.test.js
 */
const h = require('./lib/harness');
const { bedFor, relayIn, pagesIn, chromiumIn } = require('./lib/netbed_stack');
const m = require('./lib/impaired_measure');
const paths = require('./lib/impaired_paths');
const report = require('./lib/impaired_report');

const WINDOW_S = Number(process.env.MR_IMPAIRED_WINDOW_S) || 30;
const UPLINK = [0, 2, 5, 10];
const DOWNLINK = [2, 5, 10];

/* The conditions of one path's sweep, in order: the clean window first. */
function conditions() {
    return [...UPLINK.map((pct) => ({ link: 'clinic-up', pct, label: pct ? `${pct} % clinic uplink` : 'clean' })),
            ...DOWNLINK.map((pct) => ({ link: 'expert-down', pct, label: `${pct} % expert downlink` }))];
}

/* Every condition on one path; resolves { label: window }. */
async function sweep(t, bed, srv, p, rec) {
    const out = {};
    for (const c of conditions()) {
        await paths.recover(t, bed, p.expert);
        if (c.pct)
            await bed.setLoss(c.link, c.pct);
        out[c.label] = await m.measureWindow({ expert: p.expert, clinic: p.clinic, srv, seconds: WINDOW_S });
        await bed.clear();
        rec.window(p.name, c.label, out[c.label]);
    }
    return out;
}

/* aiortc publishing from the clinic namespace, clean and then at 5 % uplink loss. */
async function aiortcRows(t, bed, srv, web, expert, rec) {
    const pub = await paths.aiortcPublisher({ t, bed, srv, seconds: 2 * WINDOW_S + 60 });
    const view = await paths.relayViewer({ t, srv, web, expert, room: pub.room, stream: pub.stream });
    const out = {};
    for (const pct of [0, 5]) {
        await paths.recover(t, bed, view);
        if (pct)
            await bed.setLoss('clinic-up', pct);
        out[pct] = await m.measureWindow({ expert: view, srv, seconds: WINDOW_S });
        await bed.clear();
        rec.window('relay, aiortc publisher', pct ? `${pct} % clinic uplink` : 'clean', out[pct]);
    }
    await view.evaluate(() => window.hangup()).catch(() => {});
    pub.stop();
    return out;
}

function checkUplink(rec, relay, direct) {
    for (const pct of [5, 10]) {
        const label = `${pct} % clinic uplink`;
        const r = m.frozenFraction(relay[label]);
        const d = m.frozenFraction(direct[label]);
        rec.check(r <= d + 0.01,
                  `${label}: frozen ${(100 * r).toFixed(1)} % through medrelay against ${(100 * d).toFixed(1)} % ` +
                  'on the direct path; expected at most the direct path\'s + 1 point');
        if (pct === 5)
            rec.check(r < 0.02, `${label}: frozen ${(100 * r).toFixed(1)} % through medrelay; expected under 2 %`);
    }
}

function checkDownlink(rec, relay) {
    const clean = relay.clean.clinic;
    const pliFir = (c) => (c.pliCount || 0) + (c.firCount || 0);
    for (const pct of DOWNLINK) {
        const label = `${pct} % expert downlink`;
        const c = relay[label].clinic;
        rec.check(c.nackCount !== null && c.nackCount <= (clean.nackCount || 0) && pliFir(c) <= pliFir(clean),
                  `${label}: the clinic received ${c.nackCount} NACKs and ${pliFir(c)} PLI+FIR through medrelay ` +
                  `(clean window: ${clean.nackCount} and ${pliFir(clean)}); expected no more`);
        rec.check(relay[label].expert.nackCount > 0,
                  `${label}: the expert sent ${relay[label].expert.nackCount} NACKs; expected some`);
    }
}

h.main('impaired_sweep', async (t) => {
    const video = paths.videoSpec();
    const rec = report.recorder(t, 'impaired_sweep');
    const bed = await bedFor(t);
    const srv = await relayIn(t, bed);
    const web = await pagesIn(t, bed);
    const clinic = await chromiumIn(t, bed, 'clinic', { origin: web.url, extraArgs: paths.cameraArgs(video) });
    const expert = await chromiumIn(t, bed, 'expert', { origin: web.url });
    rec.meta({ chromium: clinic.version, video, windowS: WINDOW_S, uplink: UPLINK, downlink: DOWNLINK });

    const relayP = await paths.relayPath({ t, srv, web, clinic, expert, video });
    await h.sleep(3000);
    const relay = await sweep(t, bed, srv, relayP, rec);
    await relayP.close();

    const directP = await paths.directPath({ t, web, clinic, expert, video });
    await h.sleep(8000); /* the bandwidth estimate ramps up on a clean link, as the relay path's did */
    const direct = await sweep(t, bed, null, directP, rec);
    await directP.close();

    const aiortc = await aiortcRows(t, bed, srv, web, expert, rec);

    checkUplink(rec, relay, direct);
    checkDownlink(rec, relay);
    const a0 = m.frozenFraction(aiortc[0]);
    const a5 = m.frozenFraction(aiortc[5]);
    rec.check(aiortc[5].expert.framesDecoded > 0 && a5 <= a0 + 0.02,
              `aiortc publisher, 5 % clinic uplink: frozen ${(100 * a5).toFixed(1)} % through medrelay against ` +
              `${(100 * a0).toFixed(1)} % clean; expected at most 2 points more`);

    await srv.stop();
    rec.finish();
}, { watchdogMs: 1300000 });
