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
 *    points;
 *  - at 5 % uplink loss through medrelay, the recording has at most
 *    max(3, 10 %) as many video holes as the relay counted video packets
 *    lost on the uplink (what it would have without repair), over 30.
 * The clinic's stream is recorded (on demand, through the API) during the
 * relay path's uplink windows, the aiortc stream during its two windows:
 * the table's "uplink lost" (video packets lost on the uplink, from the
 * relay's receiver statistics, or recovered + given up for aiortc) and
 * "recording holes" (the recording's new video holes) cover each window
 * from the loss being set to 1.5 s after it was
 * cleared. At the end each recording must be complete, one file, and play
 * (ffprobe, video decoded to the end).
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
const ROOM = 'township-1';
/* After a window is cleared, before the relay's counts are read again: the recorder
 * declares a hole 400 ms after its turn, the relay gives up after its retries. */
const HOLES_SETTLE_MS = 1500;

/* The conditions of one path's sweep, in order: the clean window first. */
function conditions() {
    return [...UPLINK.map((pct) => ({ link: 'clinic-up', pct, label: pct ? `${pct} % clinic uplink` : 'clean' })),
            ...DOWNLINK.map((pct) => ({ link: 'expert-down', pct, label: `${pct} % expert downlink` }))];
}

/*
 * One window: loss on link (pct 0: none), measured; with `recorded` ({ srv,
 * room, stream, clinic }) the recording's holes and the uplink's loss over
 * it too (w.holes).
 */
async function lossWindow({ bed, link, pct, expert, clinic, srv, recorded = null }) {
    const snap = () => m.holesSnapshot(recorded);
    const before = recorded ? await snap() : null;
    if (pct)
        await bed.setLoss(link, pct);
    const w = await m.measureWindow({ expert, clinic, srv, seconds: WINDOW_S });
    await bed.clear();
    if (recorded) {
        await h.sleep(HOLES_SETTLE_MS);
        w.holes = m.holesDelta(before, await snap());
    }
    return w;
}

/*
 * Every condition on one path; resolves { label: window }. With `stream`
 * (the relay path), the stream is recorded through the uplink windows
 * (started before the first, stopped before the downlink ones); the
 * recording's id goes to recordings.
 */
async function sweep(t, bed, srv, p, rec, { stream = null, recordings = [] } = {}) {
    const out = {};
    let recording = null;
    for (const c of conditions()) {
        const record = stream && c.link === 'clinic-up';
        if (record && !recording) {
            recording = await m.startRecording(srv, ROOM, stream);
            recordings.push({ what: `relay, ${stream}`, recording });
            t.log(`recording ${recording.id} of ${ROOM}/${stream} started (the uplink windows)`);
        } else if (!record && recording && !recording.stopped) {
            await m.stopRecording(srv, ROOM, stream);
            recording.stopped = true;
        }
        await paths.recover(t, bed, p.expert);
        out[c.label] = await lossWindow({ bed, link: c.link, pct: c.pct, expert: p.expert, clinic: p.clinic, srv,
                                          recorded: record ? { srv, room: ROOM, stream, clinic: p.clinic } : null });
        rec.window(p.name, c.label, out[c.label]);
    }
    if (recording && !recording.stopped)
        await m.stopRecording(srv, ROOM, stream);
    return out;
}

/* aiortc publishing from the clinic namespace, clean and then at 5 % uplink loss, recorded. */
async function aiortcRows(t, bed, srv, web, expert, rec, recordings) {
    const pub = await paths.aiortcPublisher({ t, bed, srv, seconds: 2 * WINDOW_S + 60, room: ROOM });
    const view = await paths.relayViewer({ t, srv, web, expert, room: pub.room, stream: pub.stream });
    const recording = await m.startRecording(srv, pub.room, pub.stream);
    recordings.push({ what: 'relay, aiortc publisher', recording });
    t.log(`recording ${recording.id} of ${pub.room}/${pub.stream} started`);
    const out = {};
    for (const pct of [0, 5]) {
        await paths.recover(t, bed, view);
        out[pct] = await lossWindow({ bed, link: 'clinic-up', pct, expert: view, srv,
                                      recorded: { srv, room: pub.room, stream: pub.stream } });
        rec.window('relay, aiortc publisher', pct ? `${pct} % clinic uplink` : 'clean', out[pct]);
    }
    await m.stopRecording(srv, pub.room, pub.stream);
    await view.evaluate(() => window.hangup()).catch(() => {});
    pub.stop();
    return out;
}

/* The 5 % uplink window's holes through medrelay (Chromium clinic). */
function checkHoles(rec, relay) {
    const label = '5 % clinic uplink';
    const x = relay[label].holes;
    const bound = m.holesBound(x.uplinkLost);
    rec.check(x.uplinkLost !== null && x.uplinkLost > 30 && x.sameRecording && x.holesVideo !== null &&
              x.holesVideo <= bound,
              `${label}: holes without repair would be ~${x.uplinkLost} (video packets lost on the uplink, from ` +
              `the relay's ${x.uplinkLostFrom}; ${x.recovered} recovered + ${x.gaveUp} given up); the recording ` +
              `got ${x.holesVideo} with repair; ` +
              `expected over 30 lost and at most ${bound} holes (max(3, 10 %))`);
}

/* Every recording stopped: complete, one file each, and it plays. */
async function checkRecordings(t, srv, rec, recordings) {
    for (const { what, recording } of recordings) {
        const files = await m.finishedRecording(srv, recording.id);
        rec.result(`recording ${what}`, files);
        for (const f of files)
            t.log(`${what}: recording file ${f.rel}: ${JSON.stringify(f.entry)}\n  ffprobe: ${JSON.stringify(f.media)}`);
        const f = files[0];
        const v = f.media || {};
        rec.check(files.length === 1 && f.entry.state === 'complete' && f.rel && /^vp8 /.test(v.video || '') &&
                  v.durationS > 0 && v.videoPackets > 0 && v.videoFramesDecoded >= 0.95 * v.videoPackets,
                  `${what}: recording ${recording.id}: ${files.length} file(s), ${f.entry.state}, ${v.video}, ` +
                  `${v.audio}, ${v.durationS} s, ${v.videoFramesDecoded} frames decoded of ${v.videoPackets} ` +
                  'packets; expected one complete VP8 file, at least 95 % of it decoded');
    }
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
    const srv = await relayIn(t, bed, { recordPolicy: 'on-demand' });
    const web = await pagesIn(t, bed);
    const clinic = await chromiumIn(t, bed, 'clinic', { origin: web.url, extraArgs: paths.cameraArgs(video) });
    const expert = await chromiumIn(t, bed, 'expert', { origin: web.url });
    rec.meta({ chromium: clinic.version, video, windowS: WINDOW_S, uplink: UPLINK, downlink: DOWNLINK });

    const recordings = [];
    const relayP = await paths.relayPath({ t, srv, web, clinic, expert, video, room: ROOM, stream: 'cam' });
    await h.sleep(3000);
    const relay = await sweep(t, bed, srv, relayP, rec, { stream: 'cam', recordings });
    await relayP.close();

    const directP = await paths.directPath({ t, web, clinic, expert, video });
    await h.sleep(8000); /* the bandwidth estimate ramps up on a clean link, as the relay path's did */
    const direct = await sweep(t, bed, null, directP, rec);
    await directP.close();

    const aiortc = await aiortcRows(t, bed, srv, web, expert, rec, recordings);

    checkUplink(rec, relay, direct);
    checkDownlink(rec, relay);
    const a0 = m.frozenFraction(aiortc[0]);
    const a5 = m.frozenFraction(aiortc[5]);
    rec.check(aiortc[5].expert.framesDecoded > 0 && a5 <= a0 + 0.02,
              `aiortc publisher, 5 % clinic uplink: frozen ${(100 * a5).toFixed(1)} % through medrelay against ` +
              `${(100 * a0).toFixed(1)} % clean; expected at most 2 points more`);
    checkHoles(rec, relay);
    await checkRecordings(t, srv, rec, recordings);

    await srv.stop();
    rec.finish();
}, { watchdogMs: 1300000 });
