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
 */
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

const pct = (x) => (x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(1)} %`);
const num = (x) => (x === null || x === undefined ? 'n/a' : String(x));

/* Rows { path, impairment, w } (w from measureWindow) as a Markdown table. */
function markdownTable(rows) {
    const head = ['path', 'impairment', 'freeze+pause', 'stall', 'fps', 'expert NACKs', 'expert PLIs',
                  'rtx recv', 'clinic rtx sent', 'clinic NACKs in', 'clinic PLI+FIR in', 'send kbit/s',
                  'target kbit/s', 'recv kbit/s', 'limit', 'loss seen'];
    const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
    for (const { path, impairment, w } of rows) {
        const e = w.expert;
        const c = w.clinic || {};
        const pliFir = c.pliCount === undefined ? null : (c.pliCount || 0) + (c.firCount || 0);
        lines.push(`| ${[path, impairment, pct(e.freezePauseFraction) + (e.noFrames ? ' (no frames)' : ''),
            pct(w.stall.stallFraction), num(e.fps), num(e.nackCount), num(e.pliCount),
            num(e.retransmittedPacketsReceived), num(c.retransmittedPacketsSent), num(c.nackCount), num(pliFir),
            num(c.totalSendKbps), num(c.targetKbps), num(e.recvKbps), num(c.qualityLimitationReason),
            e.lossPct === null ? 'n/a' : `${e.lossPct} %`].join(' | ')} |`);
    }
    return lines.join('\n');
}

module.exports = {
    installProbe, snapshot, startSampler, takeSamples, stopSampler, measureWindow,
    expertFigures, clinicFigures, stallFigures, frozenFraction, resumeFigures, parseMetrics, metricsDelta,
    markdownTable,
};
