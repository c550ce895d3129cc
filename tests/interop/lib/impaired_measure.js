'use strict';
/*
 * Measurement for the impaired-network tests: getStats() deltas over a
 * window (pages/impaired_probe.js takes the readings in the page), the
 * relay's /metrics deltas, and the Markdown table of the results.
 *
 *   const w = await measureWindow({ expert, clinic, srv, seconds: 15 });
 *   w.expert.freezePauseFraction, w.clinic.nackCount, w.relay (counter deltas)
 *
 * The freeze-and-pause fraction is Chromium's own:
 * (Δ totalFreezesDuration + Δ totalPausesDuration) / window. Chromium
 * counts a freeze only once the next frame is rendered, and counts nothing
 * when no frame arrives at all, so a window without a single decoded frame
 * is reported as frozen throughout (1.0), never as 0, and a freeze that
 * began before the window counts at most the window. The stall fraction,
 * from 100 ms samples of framesDecoded, is an independent check of it (gaps
 * over 300 ms between new frames, including one still open at the end);
 * frozenFraction() is the larger of the two, what the targets are checked on.
 *
 * Recordings (issue 15: "recovered packets reach the recording"): the
 * relay's own counts around a loss window (holesSnapshot, holesDelta): the
 * video packets lost on the uplink, which is what a recording had as holes
 * before the relay repaired loss (it forwarded only what arrived), against
 * the holes the recording has now; and the finished file (recordingFiles).
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const h = require('./harness');

/* Adds pages/impaired_probe.js to a page that does not load it itself. */
async function installProbe(page, webUrl) {
    if (await page.evaluate(() => !!window.impairedProbe))
        return;
    await page.addScriptTag({ url: `${webUrl}/impaired_probe.js` });
}

const snapshot = (page) => page.evaluate(() => window.impairedProbe.snapshot());
const startSampler = (page, ms = 100) => page.evaluate((i) => window.impairedProbe.startSampler(i), ms);
const takeSamples = (page) => page.evaluate(() => window.impairedProbe.takeSamples());
const stopSampler = (page) => page.evaluate(() => window.impairedProbe.stopSampler());

/* b[k] - a[k], or null when this browser does not report k. */
function delta(a, b, k) {
    return typeof a[k] === 'number' && typeof b[k] === 'number' ? b[k] - a[k] : null;
}

const round = (x, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null
    : Math.round(x * 10 ** digits) / 10 ** digits);
const kbps = (bytes, seconds) => (bytes === null ? null : round((bytes * 8) / 1000 / seconds, 0));

/* The expert's inbound video over a window, from two snapshots. */
function expertFigures(a, b) {
    const seconds = (b.at - a.at) / 1000;
    const i0 = a.inbound;
    const i1 = b.inbound;
    const frames = delta(i0, i1, 'framesDecoded') || 0;
    const freezes = delta(i0, i1, 'totalFreezesDuration') || 0;
    const pauses = delta(i0, i1, 'totalPausesDuration') || 0;
    const lost = delta(i0, i1, 'packetsLost');
    const received = delta(i0, i1, 'packetsReceived');
    return {
        seconds: round(seconds, 2),
        framesDecoded: frames,
        fps: round(frames / seconds),
        framesPerSecond: i1.framesPerSecond === undefined ? null : i1.framesPerSecond,
        freezeCount: delta(i0, i1, 'freezeCount'),
        totalFreezesDuration: round(freezes, 3),
        pauseCount: delta(i0, i1, 'pauseCount'),
        totalPausesDuration: round(pauses, 3),
        /* A freeze that began before the window is counted whole when it ends in it: at most 1. */
        freezePauseFraction: frames > 0 ? Math.min(1, round((freezes + pauses) / seconds, 4)) : 1,
        noFrames: frames === 0,
        nackCount: delta(i0, i1, 'nackCount'),
        pliCount: delta(i0, i1, 'pliCount'),
        firCount: delta(i0, i1, 'firCount'),
        retransmittedPacketsReceived: delta(i0, i1, 'retransmittedPacketsReceived'),
        keyFramesDecoded: delta(i0, i1, 'keyFramesDecoded'),
        packetsLost: lost,
        packetsReceived: received,
        lossPct: lost !== null && received ? round((100 * lost) / (lost + received), 2) : null,
        recvKbps: kbps(delta(i0, i1, 'bytesReceived'), seconds),
        frame: `${i1.frameWidth || 0}x${i1.frameHeight || 0}`,
    };
}

/* The clinic's outbound video (and its whole send rate) over a window. */
function clinicFigures(a, b) {
    const seconds = (b.at - a.at) / 1000;
    const o0 = a.outbound;
    const o1 = b.outbound;
    const bytes = (s) => (s.bytesSent || 0) + (s.headerBytesSent || 0);
    const all = bytes(o1) + bytes(b.audioOut) - bytes(o0) - bytes(a.audioOut);
    return {
        seconds: round(seconds, 2),
        retransmittedPacketsSent: delta(o0, o1, 'retransmittedPacketsSent'),
        nackCount: delta(o0, o1, 'nackCount'),
        pliCount: delta(o0, o1, 'pliCount'),
        firCount: delta(o0, o1, 'firCount'),
        keyFramesEncoded: delta(o0, o1, 'keyFramesEncoded'),
        packetsSent: delta(o0, o1, 'packetsSent'),
        sendKbps: kbps(delta(o0, o1, 'bytesSent'), seconds),
        totalSendKbps: kbps(all, seconds),
        targetKbps: typeof o1.targetBitrate === 'number' ? round(o1.targetBitrate / 1000, 0) : null,
        qualityLimitationReason: o1.qualityLimitationReason || null,
        framesPerSecond: o1.framesPerSecond === undefined ? null : o1.framesPerSecond,
        frame: `${o1.frameWidth || 0}x${o1.frameHeight || 0}`,
        rttMs: typeof b.pair.currentRoundTripTime === 'number' ? round(b.pair.currentRoundTripTime * 1000, 0) : null,
        availableOutgoingKbps: typeof b.pair.availableOutgoingBitrate === 'number'
            ? round(b.pair.availableOutgoingBitrate / 1000, 0) : null,
        remoteLostPackets: delta(a.remoteInbound, b.remoteInbound, 'packetsLost'),
    };
}

/*
 * From samples { t, fd } of framesDecoded: the time spent in gaps of more
 * than thresholdMs between new frames (one still open at endAt counts), the
 * longest gap, and the fewest frames decoded in any 1 s of the window. A
 * gap counts only when at least two samples inside it saw no new frame: a
 * sampling timer that fired late (a busy machine) is not a stall.
 */
function stallFigures(samples, startAt, endAt, thresholdMs = 300) {
    const inWindow = samples.filter((s) => s.t >= startAt && s.t <= endAt);
    if (inWindow.length < 2)
        return { stallFraction: null, longestStallMs: null, minFramesPerSecond: null, samples: inWindow.length };
    let lastT = inWindow[0].t;
    let lastFd = inWindow[0].fd;
    let unchanged = 0;
    let stall = 0;
    let longest = 0;
    const gap = (g) => {
        if (unchanged < 2)
            return;
        longest = Math.max(longest, g);
        if (g > thresholdMs)
            stall += g;
    };
    for (const s of inWindow.slice(1)) {
        if (s.fd > lastFd) {
            gap(s.t - lastT);
            lastT = s.t;
            lastFd = s.fd;
            unchanged = 0;
        } else {
            unchanged++;
        }
    }
    gap(endAt - lastT);
    let minPerSecond = Infinity;
    for (let i = 0, j = 0; i < inWindow.length; i++) {
        while (j < inWindow.length && inWindow[j].t < inWindow[i].t + 1000)
            j++;
        if (j >= inWindow.length)
            break;
        const span = (inWindow[j].t - inWindow[i].t) / 1000;
        minPerSecond = Math.min(minPerSecond, (inWindow[j].fd - inWindow[i].fd) / span);
    }
    return {
        stallFraction: round(Math.min(1, stall / (endAt - startAt)), 4),
        longestStallMs: longest,
        minFramesPerSecond: Number.isFinite(minPerSecond) ? round(minPerSecond) : null,
        samples: inWindow.length,
    };
}

/*
 * The fraction the targets are checked on: the larger of Chromium's
 * freeze-and-pause fraction and the sampled stall fraction. Chromium adds a
 * freeze only when the next frame is rendered, so one still open when the
 * window closes (a picture that stays frozen) is invisible to it.
 */
function frozenFraction(w) {
    return Math.max(w.expert.freezePauseFraction, w.stall.stallFraction || 0);
}

/*
 * After an outage ended at restoredAt: ms until framesDecoded first grew,
 * and until it grew by at least 10 frames within one second (flowing again).
 */
function resumeFigures(samples, restoredAt) {
    const before = samples.filter((s) => s.t <= restoredAt);
    const after = samples.filter((s) => s.t > restoredAt);
    const fd0 = before.length ? before[before.length - 1].fd : 0;
    const first = after.find((s) => s.fd > fd0);
    let flowing = null;
    for (const s of after) {
        const later = after.find((x) => x.t >= s.t + 1000);
        if (later && later.fd - s.fd >= 10 && s.fd > fd0) {
            flowing = s;
            break;
        }
    }
    const lastBefore = before.length ? before[before.length - 1].t : null;
    return {
        resumeMs: first ? first.t - restoredAt : null,
        flowingMs: flowing ? flowing.t - restoredAt : null,
        framesAtRestore: fd0,
        samplingGapMs: first && lastBefore ? first.t - lastBefore : null,
    };
}

/*
 * Prometheus text → Map(series → { name, value, type }). Series keep their
 * labels: `medrelay_x_total{cause="pli"}`.
 */
function parseMetrics(text) {
    const types = new Map();
    const out = new Map();
    for (const line of text.split('\n')) {
        const t = /^# TYPE (\S+) (\S+)/.exec(line);
        if (t) {
            types.set(t[1], t[2]);
            continue;
        }
        if (!line || line.startsWith('#'))
            continue;
        const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (m)
            out.set(m[1] + (m[2] || ''), { name: m[1], value: Number(m[3]), type: types.get(m[1]) || 'untyped' });
    }
    return out;
}

/* The repair-related counters that matter to issue 15; their names may not exist yet. */
const REPAIR_RE = /nack|rtx|retrans|pli|fir|keyframe/i;

/* Deltas of every counter whose series (name or labels) mentions repair; gauges left out. */
function metricsDelta(textA, textB) {
    const a = parseMetrics(textA);
    const b = parseMetrics(textB);
    const out = {};
    for (const [series, v] of b) {
        if (v.type === 'gauge' || !REPAIR_RE.test(series))
            continue;
        out[series] = v.value - (a.has(series) ? a.get(series).value : 0);
    }
    return out;
}

/*
 * One measurement window: settle, then snapshots of both pages (clinic may
 * be null, e.g. for aiortc) and of /metrics (srv may be null: the direct
 * path) at the start and after `seconds`, with the expert sampled every
 * 100 ms in between.
 */
async function measureWindow({ expert, clinic = null, srv = null, seconds, settleMs = 2000 }) {
    await h.sleep(settleMs);
    await startSampler(expert, 100);
    const m0 = srv ? await srv.metricsText() : null;
    const e0 = await snapshot(expert);
    const c0 = clinic ? await snapshot(clinic) : null;
    await h.sleep(seconds * 1000);
    const e1 = await snapshot(expert);
    const c1 = clinic ? await snapshot(clinic) : null;
    const m1 = srv ? await srv.metricsText() : null;
    const samples = await takeSamples(expert);
    await stopSampler(expert);
    return {
        expert: expertFigures(e0, e1),
        stall: stallFigures(samples, e0.at, e1.at),
        clinic: c0 ? clinicFigures(c0, c1) : null,
        relay: m0 ? metricsDelta(m0, m1) : null,
    };
}

/* --- Recordings: holes against the uplink's loss ------------------------------- */

const RECOVERED = 'medrelay_recovered_packets_total';
const GAVE_UP = 'medrelay_nack_giveups_total';
const RED_RECOVERED = 'medrelay_recording_red_recovered_packets_total';

/* The stream's status (docs/api.md, "Streams"), or null when it is not there. */
async function streamStatus(srv, room, stream) {
    const r = await srv.api('GET', `/api/rooms/${room}/streams`);
    if (r.status !== 200 || !r.json)
        throw new h.TestFailure(`GET /api/rooms/${room}/streams answered ${r.status}: ${r.body.slice(0, 300)}`);
    return (r.json.streams || []).find((s) => s.stream === stream) || null;
}

/*
 * Starts recording room/stream through the API (the room's policy must be
 * on-demand or always) and waits until the recorder writes it (state
 * "recording": it began at a key frame). Resolves the stream's recording
 * object ({ id, state, segments, lost_packets, ... }).
 */
async function startRecording(srv, room, stream, { timeoutMs = 10000 } = {}) {
    const r = await srv.api('POST', `/api/rooms/${room}/streams/${stream}/recording`);
    if (r.status !== 200)
        throw new h.TestFailure(`POST /api/rooms/${room}/streams/${stream}/recording answered ${r.status}: ` +
                                r.body.slice(0, 300));
    let last = null;
    const st = await h.waitFor(`the recording of ${room}/${stream} to be written (state "recording")`, async () => {
        last = await streamStatus(srv, room, stream);
        const state = last && last.recording ? last.recording.state : null;
        return (state === 'recording' || state === 'failed') && last;
    }, { timeoutMs, intervalMs: 200, describeLast: () => JSON.stringify(last) });
    if (st.recording.state !== 'recording')
        throw new h.TestFailure(`the recording of ${room}/${stream} failed: ${JSON.stringify(st.recording)} ` +
                                `(recording_error ${JSON.stringify(st.recording_error)})`);
    return st.recording;
}

/*
 * Stops it (DELETE); resolves the stream's status as answered, or null when
 * the stream is gone (its publisher was closed: the recording ended with it).
 */
async function stopRecording(srv, room, stream) {
    const r = await srv.api('DELETE', `/api/rooms/${room}/streams/${stream}/recording`);
    if (r.status === 404 && r.json && r.json.error === 'stream-not-found')
        return null;
    if (r.status !== 200)
        throw new h.TestFailure(`DELETE /api/rooms/${room}/streams/${stream}/recording answered ${r.status}: ` +
                                r.body.slice(0, 300));
    return r.json;
}

/*
 * What the relay has counted so far for one stream: its repair counters
 * (/metrics: lost video packets recovered by retransmissions, and given up
 * on), the stream's recording (its holes, lost_packets) and link health,
 * and, when the clinic's page is given, the cumulative loss in the relay's
 * receiver reports as the clinic received them (remote-inbound-rtp video:
 * first arrivals only, so loss before repair).
 */
async function holesSnapshot({ srv, room, stream, clinic = null }) {
    const metrics = parseMetrics(await srv.metricsText());
    const st = await streamStatus(srv, room, stream);
    const c = clinic ? await snapshot(clinic) : null;
    const value = (k) => (metrics.has(k) ? metrics.get(k).value : null);
    return {
        at: Date.now(),
        recovered: value(RECOVERED),
        gaveUp: value(GAVE_UP),
        redRecovered: value(RED_RECOVERED),
        recording: st ? st.recording : null,
        link: st ? st.link : null,
        reportedLost: c && typeof c.remoteInbound.packetsLost === 'number' ? c.remoteInbound.packetsLost : null,
        reportedLostAudio: c && c.remoteInboundAudio && typeof c.remoteInboundAudio.packetsLost === 'number'
            ? c.remoteInboundAudio.packetsLost : null,
    };
}

/*
 * Between two holesSnapshot()s: uplinkLost, the video packets lost on the
 * uplink, which is what a recording lacked before the relay repaired loss
 * (it recorded what arrived): the relay's receiver statistics (expected -
 * received, first arrivals only, as its receiver reports give them to the
 * clinic) when the clinic's page was read, else the relay's repair counters
 * (recovered + given up, `relayCounted`, always given: the bed does not
 * reorder, so every loss ends as one of the two); uplinkLostAudio, the audio
 * packets lost (the relay's receiver reports, when the clinic's page was
 * read), and redRecovered, those the recording took from RED redundancy
 * (audio is not retransmitted); the recording's new holes (video, audio)
 * when the same recording ran throughout; the recording's id, state and
 * segments at the end.
 */
function holesDelta(a, b) {
    const d = (x, y) => (typeof x === 'number' && typeof y === 'number' ? y - x : null);
    const ra = a.recording;
    const rb = b.recording;
    const same = !!(ra && rb && ra.id === rb.id);
    const lost = (r, k) => (r && r.lost_packets ? r.lost_packets[k] : null);
    const recovered = d(a.recovered, b.recovered);
    const gaveUp = d(a.gaveUp, b.gaveUp);
    const relayCounted = recovered === null || gaveUp === null ? null : recovered + gaveUp;
    const reportedLost = d(a.reportedLost, b.reportedLost);
    return {
        seconds: round((b.at - a.at) / 1000, 1),
        uplinkLost: reportedLost !== null ? reportedLost : relayCounted,
        uplinkLostFrom: reportedLost !== null ? 'receiver reports' : 'recovered + given up',
        reportedLost,
        relayCounted,
        recovered,
        gaveUp,
        uplinkLostAudio: d(a.reportedLostAudio, b.reportedLostAudio),
        redRecovered: d(a.redRecovered, b.redRecovered),
        recordingId: rb ? rb.id : null,
        sameRecording: same,
        holesVideo: same ? d(lost(ra, 'video'), lost(rb, 'video')) : null,
        holesAudio: same ? d(lost(ra, 'audio'), lost(rb, 'audio')) : null,
        state: rb ? rb.state : null,
        segments: rb ? rb.segments : null,
        link: b.link,
    };
}

/*
 * The largest number of recording holes (video) that still counts as
 * "repaired" for a window in which uplinkLost video packets were lost:
 * 10 % of them, at least 3. A recording without repair has about
 * uplinkLost holes, so the bound is met only when retransmissions reach
 * the recording (the checks also require uplinkLost > 30).
 */
function holesBound(uplinkLost) {
    return Math.max(3, Math.floor(0.1 * uplinkLost));
}

/* Every file of the record dir (recursively): { path, rel, size }. */
function listRecordDir(dir) {
    const out = [];
    const walk = (d) => {
        for (const n of fs.readdirSync(d).sort()) {
            const p = path.join(d, n);
            const st = fs.statSync(p);
            if (st.isDirectory())
                walk(p);
            else
                out.push({ path: p, rel: path.relative(dir, p), size: st.size });
        }
    };
    if (fs.existsSync(dir))
        walk(dir);
    return out;
}

/* The media files of recording `id` in the record dir (in progress or finished), by name. */
function recordingMedia(dir, id) {
    const re = new RegExp(`_${id.slice(0, 8)}(_\\d+)?(\\.recording)?\\.(webm|mkv)$`);
    return listRecordDir(dir).filter((f) => re.test(f.rel));
}

function run(cmd, args, timeoutMs = 60000) {
    try {
        return execFileSync(cmd, args, { timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'],
                                         maxBuffer: 64 << 20 }).toString();
    } catch (e) {
        const stderr = e.stderr ? e.stderr.toString().trim().slice(-1000) : '';
        throw new h.TestFailure(`\`${cmd} ${args.join(' ')}\` failed (${e.status !== undefined ? `status ${e.status}`
            : e.message})${stderr ? `: ${stderr}` : ''}`);
    }
}

/*
 * One finished media file as players see it: ffprobe's format and streams,
 * the video decoded to the end (frames read against packets), and the
 * longest gap between consecutive video packets (where an outage shows).
 */
function probeMedia(file) {
    const probe = JSON.parse(run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', file]));
    const streams = probe.streams || [];
    const v = streams.find((s) => s.codec_type === 'video');
    const a = streams.find((s) => s.codec_type === 'audio');
    const out = {
        format: probe.format ? probe.format.format_name : null,
        durationS: probe.format ? round(Number(probe.format.duration), 2) : null,
        video: v ? `${v.codec_name} ${v.width}x${v.height}` : null,
        audio: a ? a.codec_name : null,
        videoPackets: null,
        videoFramesDecoded: null,
        longestVideoGapS: null,
    };
    if (!v)
        return out;
    const counted = JSON.parse(run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames',
        '-count_packets', '-show_entries', 'stream=nb_read_frames,nb_read_packets', '-of', 'json', file], 120000));
    const cs = (counted.streams || [])[0] || {};
    out.videoPackets = Number(cs.nb_read_packets);
    out.videoFramesDecoded = Number(cs.nb_read_frames);
    const pk = JSON.parse(run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
                                          'packet=pts_time', '-of', 'json', file]));
    const times = (pk.packets || []).map((p) => Number(p.pts_time)).filter(Number.isFinite).sort((x, y) => x - y);
    let gap = 0;
    for (let i = 1; i < times.length; i++)
        gap = Math.max(gap, times[i] - times[i - 1]);
    out.longestVideoGapS = times.length > 1 ? round(gap, 3) : null;
    return out;
}

/*
 * After a recording was stopped: waits until every file of recording `id`
 * is complete (GET /api/recordings?recording=ID, newest first), then
 * probes each file in srv.recordDir. Resolves [{ entry (the API's object),
 * rel, media (probeMedia) }], in segment order.
 */
async function finishedRecording(srv, id, { timeoutMs = 20000 } = {}) {
    let last = null;
    const entries = await h.waitFor(`recording ${id} to be complete`, async () => {
        const r = await srv.api('GET', `/api/recordings?recording=${id}`);
        last = r;
        const list = r.status === 200 && r.json ? r.json.recordings || [] : [];
        return list.length && list.every((e) => e.state !== 'recording') && list;
    }, { timeoutMs, intervalMs: 250, describeLast: () => (last ? `${last.status} ${last.body.slice(0, 500)}` : '') });
    const media = recordingMedia(srv.recordDir, id);
    return entries.slice().sort((x, y) => x.segment - y.segment).map((entry) => {
        const suffix = entry.segment > 1 ? `_${entry.segment}` : '';
        const re = new RegExp(`_${id.slice(0, 8)}${suffix}\\.(webm|mkv)$`);
        const f = media.find((x) => re.test(x.rel));
        return { entry, rel: f ? f.rel : null, media: f ? probeMedia(f.path) : null };
    });
}

const pct = (x) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
const num = (x) => (x === null || x === undefined ? 'n/a' : String(x));

/*
 * Rows { path, impairment, w } (w from measureWindow) as a Markdown table.
 * When any window has w.holes (holesDelta), two more columns: the video
 * packets lost on the uplink (the relay's count) and the recording's video
 * holes over the same span; "n/a" where nothing was recorded.
 */
function markdownTable(rows) {
    const head = ['path', 'impairment', 'freeze+pause', 'stall', 'fps', 'expert NACKs', 'expert PLIs',
                  'rtx recv', 'clinic rtx sent', 'clinic NACKs in', 'clinic PLI+FIR in', 'send kbit/s',
                  'target kbit/s', 'recv kbit/s', 'limit', 'loss seen'];
    const withHoles = rows.some((r) => r.w.holes);
    if (withHoles)
        head.push('uplink lost', 'recording holes');
    const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
    for (const { path, impairment, w } of rows) {
        const e = w.expert;
        const c = w.clinic || {};
        const pliFir = c.pliCount === undefined ? null : (c.pliCount || 0) + (c.firCount || 0);
        const cells = [path, impairment, pct(e.freezePauseFraction) + (e.noFrames ? ' (no frames)' : ''),
            pct(w.stall.stallFraction), num(e.fps), num(e.nackCount), num(e.pliCount),
            num(e.retransmittedPacketsReceived), num(c.retransmittedPacketsSent), num(c.nackCount), num(pliFir),
            num(c.totalSendKbps), num(c.targetKbps), num(e.recvKbps), num(c.qualityLimitationReason),
            e.lossPct === null ? 'n/a' : `${e.lossPct} %`];
        if (withHoles)
            cells.push(num(w.holes && w.holes.uplinkLost), num(w.holes && w.holes.holesVideo));
        lines.push(`| ${cells.join(' | ')} |`);
    }
    return lines.join('\n');
}

module.exports = {
    installProbe, snapshot, startSampler, takeSamples, stopSampler, measureWindow,
    expertFigures, clinicFigures, stallFigures, frozenFraction, resumeFigures, parseMetrics, metricsDelta,
    markdownTable, streamStatus, startRecording, stopRecording, holesSnapshot, holesDelta, holesBound,
    listRecordDir, recordingMedia, probeMedia, finishedRecording,
};
