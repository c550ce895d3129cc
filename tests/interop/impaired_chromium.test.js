#!/usr/bin/env node
'use strict';
/*
 * Issue 15 on an impaired network, the short run (CTest label "impaired",
 * part of `make test`, about 3 minutes): a Chromium clinic and a Chromium
 * expert in their own network namespaces, medrelay in a third, joined
 * through a bridge (lib/netbed.js). The clinic publishes 640x480@30 VP8 +
 * Opus (MR_IMPAIRED_VIDEO) over WHIP, the expert watches over WHEP; then the
 * same browsers connect peer to peer over the same link (the direct path).
 *
 * Asserts, printing every measured number either way:
 *  (a) at 5 % random loss on the clinic's uplink, the expert's
 *      freeze-and-pause fraction through medrelay is at most the direct
 *      path's + 1 percentage point, and under 2 % (the larger of Chromium's
 *      figure and the in-page sampled stall fraction: lib/impaired_measure.js);
 *  (b) at 5 % loss on the expert's downlink, the relay asks the clinic for
 *      nothing because of it: the clinic's NACK and PLI+FIR counts grow no
 *      more than in a clean control window, while the expert did send NACKs;
 *  (c) after a 3 s outage of the clinic's uplink, the expert decodes a new
 *      frame within 1 s of the link returning (sampled every 100 ms in the
 *      page; the figure is printed);
 *  (d) with a 1 Mbit/s tbf cap on the clinic's uplink, after 15 s the
 *      clinic sends under the cap and the expert decodes more than 10 frames
 *      in every second of the window;
 *  (e) the clinic's stream is recorded (started through the API) over the
 *      5 % uplink window and the outage: over the window the recording
 *      gets at most max(3, 10 %) as many video holes as the relay counted
 *      video packets lost on the uplink (its receiver statistics, first
 *      arrivals only: the holes a recording had before the relay repaired
 *      loss), and that count is over 30; through the
 *      outage the recording stays the same one (same id, one segment, state
 *      recording) and its file keeps growing; stopped, it is complete, one
 *      file, and plays: ffprobe finds VP8 and Opus, decodes the video to the
 *      end, and the longest gap between video packets is under the outage
 *      + 2 s. Both hole counts are printed ("holes without repair would be
 *      ~N; with repair M"). Audio is not retransmitted: the recording takes
 *      a lost packet's frame from the next one's RED redundancy, so its
 *      audio holes are at most max(3, 25 %) of the audio packets lost on
 *      the uplink (the clinic's remote-inbound report), when over 10 were.
 *
 * The table and the raw figures go to tests/artifacts/impaired/
 * (impaired_chromium.md, .json); logs to tests/artifacts/interop/impaired_chromium/.
 * Needs root (namespaces), nftables and tc (scripts/deps.sh test).
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/impaired_chromium.test.js
 */
const h = require('./lib/harness');
const { bedFor, relayIn, pagesIn, chromiumIn } = require('./lib/netbed_stack');
const m = require('./lib/impaired_measure');
const paths = require('./lib/impaired_paths');
const report = require('./lib/impaired_report');

const LOSS_PCT = 5;
const WINDOW_S = Number(process.env.MR_IMPAIRED_WINDOW_S) || 18;
const CONTROL_S = 10;
const OUTAGE_MS = 3000;
const CAP = { rate: '1mbit', kbps: 1000, settleMs: 15000, windowS: 8 };
const ROOM = 'township-1';
const STREAM = 'cam';
/* After a loss window is cleared, before the relay's counts are read again: the
 * recorder declares a hole 400 ms after its turn, the relay gives up after its retries. */
const HOLES_SETTLE_MS = 1500;

/* (b): the relay path on a clean link, then with loss towards the expert. */
async function downlinkChecks(t, bed, srv, p, rec) {
    const control = await m.measureWindow({ expert: p.expert, clinic: p.clinic, srv, seconds: CONTROL_S });
    rec.window('relay', 'clean (control)', control);
    await bed.setLoss('expert-down', LOSS_PCT);
    const lossy = await m.measureWindow({ expert: p.expert, clinic: p.clinic, srv, seconds: WINDOW_S });
    await bed.clear();
    rec.window('relay', `${LOSS_PCT} % expert downlink`, lossy);
    const c0 = control.clinic;
    const c1 = lossy.clinic;
    const pliFir = (c) => (c.pliCount || 0) + (c.firCount || 0);
    rec.check(c1.nackCount !== null && c1.nackCount <= (c0.nackCount || 0),
              `(b) downlink loss: the clinic received ${c1.nackCount} NACKs (clean control window: ${c0.nackCount}); ` +
              'the relay must answer the expert\'s NACKs itself');
    rec.check(pliFir(c1) <= pliFir(c0),
              `(b) downlink loss: the clinic received ${pliFir(c1)} PLI+FIR (clean control window: ${pliFir(c0)}); ` +
              'one lossy viewer must cost the publisher no key frame');
    rec.check(lossy.expert.nackCount > 0,
              `(b) downlink loss: the expert sent ${lossy.expert.nackCount} NACKs; expected some at ` +
              `${LOSS_PCT} % loss (otherwise the loss did not reach it and this check proves nothing)`);
}

/* (e), the 5 % uplink window: the recording's holes against the video packets lost on the uplink. */
function holesCheck(rec, x) {
    const bound = m.holesBound(x.uplinkLost);
    rec.result('uplink holes', x);
    rec.check(x.uplinkLost !== null && x.uplinkLost > 30,
              `(e) ${LOSS_PCT} % uplink loss: the relay counted ${x.uplinkLost} video packets lost on the uplink ` +
              `(from its ${x.uplinkLostFrom}; its repair: ${x.recovered} recovered + ${x.gaveUp} given up); ` +
              'expected over 30 (otherwise the loss did not reach the relay and the holes prove nothing)');
    rec.check(x.sameRecording && x.holesVideo !== null && x.holesVideo <= bound,
              `(e) ${LOSS_PCT} % uplink loss: holes without repair would be ~${x.uplinkLost} (lost on the uplink); ` +
              `the recording ${x.recordingId} got ${x.holesVideo} video holes with repair (and ${x.holesAudio} ` +
              `audio); expected at most ${bound} (max(3, 10 % of the uplink's))`);
    /* One redundant block recovers a lost packet unless the next is lost
     * too (about LOSS_PCT % of the lost ones at random loss). */
    const audioBound = Math.max(3, Math.floor(0.25 * (x.uplinkLostAudio || 0)));
    rec.check(x.sameRecording && x.uplinkLostAudio !== null && x.uplinkLostAudio > 10 &&
              x.holesAudio !== null && x.holesAudio <= audioBound,
              `(e) ${LOSS_PCT} % uplink loss: ${x.uplinkLostAudio} audio packets lost on the uplink (expected over ` +
              `10), ${x.redRecovered} recorded from the next packet's RED redundancy; the recording got ` +
              `${x.holesAudio} audio holes, expected at most ${audioBound} (max(3, 25 % of the lost))`);
}

/* (c), and (e) for the outage: the recording before it, when the link returns and 5 s later. */
async function outageCheck(t, bed, srv, p, rec, recording) {
    await paths.recover(t, bed, p.expert);
    const snap = () => m.holesSnapshot({ srv, room: ROOM, stream: STREAM, clinic: p.clinic });
    const files = () => m.recordingMedia(srv.recordDir, recording.id);
    await m.startSampler(p.expert, 100);
    const before = await snap();
    await h.sleep(1000);
    await bed.setOutage('clinic-up', true);
    await h.sleep(OUTAGE_MS);
    const restoredAt = await bed.setOutage('clinic-up', false);
    const filesAtRestore = files();
    await h.sleep(5000);
    const samples = await m.takeSamples(p.expert);
    await m.stopSampler(p.expert);
    const filesAfter = files();
    const after = await snap();
    const r = m.resumeFigures(samples, restoredAt);
    const x = m.holesDelta(before, after);
    rec.result('outage', { outageMs: OUTAGE_MS, ...r });
    rec.result('outage recording', { ...x, filesAtRestore, filesAfter });
    t.log(`outage: first new frame ${r.resumeMs} ms after the link returned; ` +
          `>= 10 frames/s again after ${r.flowingMs} ms (samples ${r.samplingGapMs} ms apart around it)`);
    t.log(`outage: ${report.holesLine(x)}; files when the link returned ${JSON.stringify(filesAtRestore)}, ` +
          `5 s later ${JSON.stringify(filesAfter)}`);
    rec.check(r.resumeMs !== null && r.resumeMs <= 1000,
              `(c) after a ${OUTAGE_MS / 1000} s uplink outage the first new frame came ${r.resumeMs} ms after ` +
              'the link returned; expected within 1000 ms');
    const one = (l) => l.length === 1 && /\.recording\.(webm|mkv)$/.test(l[0].rel);
    rec.check(x.sameRecording && x.recordingId === recording.id && x.state === 'recording' && x.segments === 1,
              `(e) through the outage the stream's recording stayed ${recording.id}: now ${x.recordingId}, state ` +
              `${x.state}, ${x.segments} segment(s); expected the same id, "recording", 1 segment`);
    rec.check(one(filesAtRestore) && one(filesAfter) && filesAfter[0].rel === filesAtRestore[0].rel &&
              filesAfter[0].size > filesAtRestore[0].size,
              `(e) the recording's file when the link returned: ${JSON.stringify(filesAtRestore)}; 5 s later: ` +
              `${JSON.stringify(filesAfter)}; expected one file in progress, the same, grown`);
}

/* (e), at the end: the stopped recording is complete, one file, and every file it has plays to the end. */
async function recordingFileCheck(t, srv, rec, recording) {
    const files = await m.finishedRecording(srv, recording.id);
    rec.result('recording files', files);
    for (const f of files)
        t.log(`recording file ${f.rel}: ${JSON.stringify(f.entry)}\n  ffprobe: ${JSON.stringify(f.media)}`);
    rec.check(files.length === 1,
              `(e) recording ${recording.id} stopped: ${files.length} file(s) (${files.map((f) => f.rel).join(', ')}); ` +
              'expected one: the outage must not cut the recording');
    for (const f of files) {
        const e = f.entry;
        const v = f.media || {};
        rec.check(e.state === 'complete' && e.downloadable && f.rel && !/\.recording\./.test(f.rel) &&
                  /^vp8 /.test(v.video || '') && v.audio === 'opus' && /webm|matroska/.test(v.format || '') &&
                  v.durationS > 0 && typeof e.duration_s === 'number' &&
                  Math.abs(v.durationS - e.duration_s) <= 0.1 * e.duration_s,
                  `(e) ${f.rel}: ${e.state}, ffprobe ${v.format}, video ${v.video}, audio ${v.audio}, ${v.durationS} s ` +
                  `(the sidecar says ${e.duration_s} s); expected complete, VP8 + Opus, the sidecar's duration within 10 %`);
        rec.check(v.videoPackets > 0 && v.videoFramesDecoded >= 0.95 * v.videoPackets &&
                  v.longestVideoGapS !== null && v.longestVideoGapS < OUTAGE_MS / 1000 + 2,
                  `(e) ${f.rel}: video decoded ${v.videoFramesDecoded} frames of ${v.videoPackets} packets; longest ` +
                  `gap between video packets ${v.longestVideoGapS} s (the ${OUTAGE_MS / 1000} s outage); expected ` +
                  `at least 95 % decoded and a gap under ${OUTAGE_MS / 1000 + 2} s`);
    }
    const last = files[files.length - 1].entry;
    rec.check(last.lost_packets && typeof last.lost_packets.video === 'number',
              `(e) the finished recording's sidecar counts ${JSON.stringify(last.lost_packets)} holes; expected counts`);
}

/* (d): a tbf cap on the clinic's uplink. */
async function capCheck(t, bed, srv, p, rec) {
    await paths.recover(t, bed, p.expert);
    /* The cap proves something only if the clinic sends more than it without one. */
    const free = await m.measureWindow({ expert: p.expert, clinic: p.clinic, srv, seconds: 3, settleMs: 0 });
    rec.window('relay', 'clean, before the cap', free);
    rec.check(free.clinic.totalSendKbps > CAP.kbps,
              `(d) without a cap the clinic sent ${free.clinic.totalSendKbps} kbit/s; it must send more than ` +
              `${CAP.kbps} for the cap to be tested`);
    await bed.setRate('clinic-up', CAP.rate);
    t.log(`rate cap ${CAP.rate}: settling ${CAP.settleMs / 1000} s`);
    const w = await m.measureWindow({ expert: p.expert, clinic: p.clinic, srv, seconds: CAP.windowS,
                                      settleMs: CAP.settleMs });
    await bed.clear();
    rec.window('relay', `${CAP.rate} uplink cap`, w);
    rec.check(w.clinic.totalSendKbps !== null && w.clinic.totalSendKbps < CAP.kbps,
              `(d) under a ${CAP.rate} cap the clinic sent ${w.clinic.totalSendKbps} kbit/s (audio + video with ` +
              `headers; target ${w.clinic.targetKbps} kbit/s); expected under ${CAP.kbps}`);
    rec.check(w.stall.minFramesPerSecond !== null && w.stall.minFramesPerSecond > 10 && w.expert.fps > 10,
              `(d) under a ${CAP.rate} cap the expert decoded ${w.expert.fps} frames/s on average, ` +
              `${w.stall.minFramesPerSecond} in its worst second; expected over 10 throughout`);
}

h.main('impaired_chromium', async (t) => {
    const video = paths.videoSpec();
    const rec = report.recorder(t, 'impaired_chromium');
    const bed = await bedFor(t);
    const srv = await relayIn(t, bed, { recordPolicy: 'on-demand' });
    const web = await pagesIn(t, bed);
    const clinic = await chromiumIn(t, bed, 'clinic', { origin: web.url, extraArgs: paths.cameraArgs(video) });
    const expert = await chromiumIn(t, bed, 'expert', { origin: web.url });
    rec.meta({ chromium: clinic.version, video, windowS: WINDOW_S, lossPct: LOSS_PCT });

    const relay = await paths.relayPath({ t, srv, web, clinic, expert, video, room: ROOM, stream: STREAM });
    t.addFailureInfo(() => `--- clinic page console:\n${clinic.consoleTail('whip')}\n` +
                           `--- expert page console:\n${expert.consoleTail('whep')}`);
    await h.sleep(3000);
    await downlinkChecks(t, bed, srv, relay, rec);

    /* (e): recorded from here through the outage. */
    const recording = await m.startRecording(srv, ROOM, STREAM);
    t.log(`recording ${recording.id} of ${ROOM}/${STREAM} started`);
    t.addFailureInfo(() => `--- record dir ${srv.recordDir}: ` +
                           JSON.stringify(m.listRecordDir(srv.recordDir).map((f) => `${f.rel} ${f.size}`)));
    await paths.recover(t, bed, relay.expert);
    const snap = () => m.holesSnapshot({ srv, room: ROOM, stream: STREAM, clinic: relay.clinic });
    const before = await snap();
    await bed.setLoss('clinic-up', LOSS_PCT);
    const relayUp = await m.measureWindow({ expert: relay.expert, clinic: relay.clinic, srv, seconds: WINDOW_S });
    await bed.clear();
    await h.sleep(HOLES_SETTLE_MS);
    relayUp.holes = m.holesDelta(before, await snap());
    rec.window('relay', `${LOSS_PCT} % clinic uplink`, relayUp);
    holesCheck(rec, relayUp.holes);

    await outageCheck(t, bed, srv, relay, rec, recording);
    if (!await m.stopRecording(srv, ROOM, STREAM))
        t.log(`${ROOM}/${STREAM} was gone when its recording was to stop (the publisher was closed; see the log)`);
    await capCheck(t, bed, srv, relay, rec);
    await relay.close();

    const direct = await paths.directPath({ t, web, clinic, expert, video });
    await h.sleep(8000); /* the direct path's bandwidth estimate ramps up on a clean link, as the relay's did */
    await bed.setLoss('clinic-up', LOSS_PCT);
    const directUp = await m.measureWindow({ expert: direct.expert, clinic: direct.clinic, seconds: WINDOW_S });
    await bed.clear();
    rec.window('direct', `${LOSS_PCT} % clinic uplink`, directUp);
    await direct.close();

    const r = m.frozenFraction(relayUp);
    const d = m.frozenFraction(directUp);
    rec.check(r <= d + 0.01,
              `(a) ${LOSS_PCT} % uplink loss: frozen ${(100 * r).toFixed(1)} % of the time through medrelay ` +
              `against ${(100 * d).toFixed(1)} % on the direct path (the larger of Chromium's freeze+pause ` +
              'and the sampled stall fraction); expected at most the direct path\'s + 1 point');
    rec.check(r < 0.02,
              `(a) ${LOSS_PCT} % uplink loss: frozen ${(100 * r).toFixed(1)} % of the time through medrelay ` +
              `(${relayUp.expert.fps} frames/s); expected under 2 %`);
    rec.check(directUp.expert.nackCount > 0,
              `(a) ${LOSS_PCT} % uplink loss: the expert sent ${directUp.expert.nackCount} NACKs on the direct ` +
              'path; expected some (otherwise the loss did not reach it and the comparison proves nothing)');

    await recordingFileCheck(t, srv, rec, recording);
    await srv.stop();
    rec.finish(); /* prints the table, writes the files, throws the failed checks */
}, { watchdogMs: 330000 });
