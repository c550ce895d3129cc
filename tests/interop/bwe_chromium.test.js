#!/usr/bin/env node
'use strict';
/*
 * Per-viewer layer choice under a downlink cap (issue 17), with real
 * Chromium peers on the impaired-network bed (lib/netbed.js): medrelay in
 * the server namespace, a Chromium clinic in the clinic namespace
 * publishing its fake camera (1280x720) as three rid layers (q, h, f) over
 * WHIP, a Chromium expert in the expert namespace watching over WHEP, and a
 * second, "clean" viewer page in the clinic's browser, whose link is never
 * capped. The stream is recorded (started through the API).
 *
 * The relay must give each viewer the layer its own downlink carries:
 * medrelay estimates each viewer's bandwidth (transport-cc feedback, a
 * delay-based estimator, probing) and moves one viewer without touching the
 * others, the publisher, or the recording. Asserts, printing every figure
 * either way (the expert's decoded frame width, framesDecoded and audio
 * packetsReceived are sampled in the page every 50 ms):
 *  (a) clean link, 10 s: the expert decodes the top layer (1280 wide)
 *      throughout and receives more than the cap will let through
 *      (otherwise the cap proves nothing);
 *  (b) `tbf rate 500kbit` on the expert's downlink (MR_BWE_RATE, burst and
 *      latency MR_BWE_BURST / MR_BWE_LATENCY, netbed's defaults 32kb / 50ms):
 *      the expert decodes a lower layer within 2.5 s of the cap being in
 *      place (issue 17: "moved to a lower layer within 2 s"; the extra 0.5 s
 *      is sampling and a loaded 2-core machine; the figure is printed), and
 *      its picture never stands still for 500 ms or more over the 20 s the
 *      cap is held (longest time without a new decoded frame; Chromium's
 *      freezeCount / totalFreezesDuration deltas are printed too);
 *  (c) no flapping under the cap: at most one layer switch (a change of the
 *      decoded width) in the last 15 s of the hold;
 *  (d) audio keeps flowing under the cap: the expert's audio
 *      packetsReceived never stands still for 1 s;
 *  (e) cap lifted: the expert decodes 1280 wide again within 10 s;
 *  (f) the clean viewer stays on 1280 throughout (at most one dip, under
 *      1 s: the estimator is per viewer) and keeps decoding;
 *  (g) the recording holds the top layer throughout: every frame of the
 *      finished file is 1280 wide (ffprobe) and ffmpeg decodes it cleanly;
 *  (h) what the operator console shows (GET /api/rooms/{room}/sessions)
 *      at the end of the hold: the expert below the top layer "for its
 *      downlink", with an estimate under 1.5x the cap; the clean viewer on
 *      the top layer, the best.
 * All checks are evaluated, printed and summed up in one JSON line before
 * the test fails. The expert's WHEP offer (transport-cc feedback, the
 * transport-wide-cc extension, rtx, goog-remb) and the relay's answer are
 * printed and saved, for the estimator's negotiation. Artifacts in
 * tests/artifacts/interop/bwe_chromium/. Needs root (namespaces), nftables,
 * tc, ffmpeg (scripts/deps.sh test). About 45 s.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/bwe_chromium.test.js
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const h = require('./lib/harness');
const { bedFor, relayIn, pagesIn, chromiumIn } = require('./lib/netbed_stack');
const m = require('./lib/impaired_measure');
const { mediaSection } = require('./lib/sdp');

const ROOM = 'township-bwe';
const STREAM = 'cam';
const VIDEO = { width: 1280, height: 720, frameRate: 30 };
const CAP = {
    rate: process.env.MR_BWE_RATE || '500kbit',
    burst: process.env.MR_BWE_BURST || '32kb',
    latency: process.env.MR_BWE_LATENCY || '50ms',
};
const CLEAN_MS = 10000;
const HOLD_MS = 20000;
const CALM_MS = 15000;         /* (c): the last 15 s of the hold */
const DOWN_TARGET_MS = 2000;   /* issue 17 */
const DOWN_LIMIT_MS = 2500;
const STALL_LIMIT_MS = 500;
const AUDIO_GAP_LIMIT_MS = 1000;
const UP_LIMIT_MS = 10000;
const CLEAN_DIP_LIMIT_MS = 1000;
const EXPERT_SAMPLE_MS = 50;
const CLEAN_SAMPLE_MS = 100;
const METRICS_RE = /layer|bwe|estimat|probe|bitrate|bandwidth|twcc|congest|padding/i;

/* tc sizes and times: "32kb" → bytes (tc's k is 1024), "50ms" → ms. */
function tcBytes(x) {
    const r = /^(\d+(?:\.\d+)?)(k|m)?b?$/i.exec(x);
    return r ? Number(r[1]) * ({ k: 1024, m: 1024 * 1024 }[(r[2] || '').toLowerCase()] || 1) : null;
}
function tcMs(x) {
    const r = /^(\d+(?:\.\d+)?)(us|ms|s)?$/.exec(x);
    return r ? Number(r[1]) * ({ us: 0.001, ms: 1, s: 1000 }[r[2] || 'us'] || 0.001) : null;
}

/* "500kbit", "2mbit" → kbit/s. */
function rateKbps(rate) {
    const x = /^(\d+(?:\.\d+)?)(k|m)?bit$/i.exec(rate);
    if (!x)
        throw new h.SetupError(`MR_BWE_RATE "${rate}" is not like 500kbit or 1mbit`);
    return Number(x[1]) * ((x[2] || '').toLowerCase() === 'm' ? 1000 : (x[2] ? 1 : 0.001));
}

/*
 * An in-page sampler of the inbound streams (every intervalMs, kept in the
 * page): t (Date.now() when getStats resolved, the clock the test shares),
 * fd framesDecoded, w/hgt frameWidth/Height, vb video bytes, ap audio
 * packetsReceived, fc/fdur freezeCount/totalFreezesDuration, kf
 * keyFramesDecoded, pli, nack, lost, rtt (ms, the selected pair's
 * currentRoundTripTime: STUN checks every few seconds, whose responses
 * queue behind the media on a capped downlink).
 */
function startSampler(page, intervalMs) {
    return page.evaluate((ms) => {
        if (window.bweSampler)
            clearInterval(window.bweSampler.timer);
        const st = { samples: [], busy: false };
        st.timer = setInterval(async () => {
            if (st.busy)
                return;
            st.busy = true;
            try {
                const report = await window.rawStats();
                const s = { t: Date.now(), fd: 0, w: 0, hgt: 0, vb: 0, ap: 0, fc: 0, fdur: 0, kf: 0, pli: 0,
                            nack: 0, lost: 0, rtt: null };
                let pairId = '';
                report.forEach((x) => {
                    if (x.type === 'transport' && x.selectedCandidatePairId)
                        pairId = x.selectedCandidatePairId;
                    if (x.type === 'inbound-rtp' && x.kind === 'video') {
                        s.fd += x.framesDecoded || 0;
                        s.w = Math.max(s.w, x.frameWidth || 0);
                        s.hgt = Math.max(s.hgt, x.frameHeight || 0);
                        s.vb += x.bytesReceived || 0;
                        s.fc += x.freezeCount || 0;
                        s.fdur += x.totalFreezesDuration || 0;
                        s.kf += x.keyFramesDecoded || 0;
                        s.pli += x.pliCount || 0;
                        s.nack += x.nackCount || 0;
                        s.lost += x.packetsLost || 0;
                    } else if (x.type === 'inbound-rtp' && x.kind === 'audio') {
                        s.ap += x.packetsReceived || 0;
                    }
                });
                const pair = pairId && report.get(pairId);
                if (pair && typeof pair.currentRoundTripTime === 'number')
                    s.rtt = Math.round(pair.currentRoundTripTime * 1000);
                st.samples.push(s);
            } catch (_) {
                /* closing */
            } finally {
                st.busy = false;
            }
        }, ms);
        window.bweSampler = st;
    }, intervalMs);
}

const lastSample = (page) => page.evaluate(() => {
    const s = window.bweSampler && window.bweSampler.samples;
    return s && s.length ? s[s.length - 1] : null;
});
const allSamples = (page) => page.evaluate(() => {
    clearInterval(window.bweSampler.timer);
    return window.bweSampler.samples;
});

const within = (samples, from, to) => samples.filter((s) => s.t >= from && s.t <= to);
/* The last sample at or before t (or the first one). */
const at = (samples, t) => samples.filter((s) => s.t <= t).pop() || samples[0];

/*
 * The longest time in [from, to] without a new decoded frame: from the
 * sample that last saw framesDecoded grow (before `from` too: a stall that
 * began earlier counts whole) to the next that did, or to `to`. Also the
 * longest gap between two samples (a late timer on a busy machine, the
 * resolution of every figure here). clip: a stall that began before
 * `from` counts from `from` only.
 */
function longestStall(samples, from, to, key = 'fd', { clip = false } = {}) {
    let lastGrow = null;
    let prev = null;
    let longest = 0;
    let longestAt = null;
    let sampleGap = 0;
    for (const s of samples) {
        if (s.t > to)
            break;
        if (prev && s.t >= from)
            sampleGap = Math.max(sampleGap, s.t - prev.t);
        if (!prev || s[key] > prev[key]) {
            const since = clip ? Math.max(lastGrow, from) : lastGrow;
            if (lastGrow !== null && s.t >= from && s.t - since > longest) {
                longest = s.t - since;
                longestAt = since;
            }
            lastGrow = s.t;
        }
        prev = s;
    }
    const since = clip ? Math.max(lastGrow, from) : lastGrow;
    if (lastGrow !== null && to - since > longest && prev && prev.t >= from) {
        longest = to - since;
        longestAt = since;
    }
    return { ms: longest, startsAt: longestAt, sampleGapMs: sampleGap };
}

/* The decoded widths over [from, to] as [{ t, w }] at each change (the first sample's included). */
function widthChanges(samples, from, to) {
    const out = [];
    for (const s of within(samples, from, to)) {
        if (!s.w)
            continue;
        if (!out.length || out[out.length - 1].w !== s.w)
            out.push({ t: s.t, w: s.w });
    }
    return out;
}

/* Time spent under width `top` in [from, to] (each sample stands for the time to the next), and the longest dip. */
function timeBelow(samples, from, to, top) {
    const ws = within(samples, from, to);
    let total = 0;
    let longest = 0;
    let run = 0;
    for (let i = 0; i + 1 < ws.length; i++) {
        const dt = ws[i + 1].t - ws[i].t;
        if (ws[i].w && ws[i].w < top) {
            total += dt;
            run += dt;
            longest = Math.max(longest, run);
        } else {
            run = 0;
        }
    }
    const widths = ws.map((s) => s.w).filter(Boolean);
    return { ms: total, longestMs: longest, minWidth: widths.length ? Math.min(...widths) : null };
}

const kbpsBetween = (a, b, key = 'vb') => Math.round(((b[key] - a[key]) * 8) / (b.t - a.t));

/* What a WHEP offer (or answer) says about congestion control, per kind. */
function ccSummary(sdp) {
    const out = {};
    for (const kind of ['video', 'audio']) {
        const sec = mediaSection(sdp, kind);
        if (!sec) {
            out[kind] = null;
            continue;
        }
        const main = sec.codecs.find((c) => /^(VP8|opus)$/i.test(c.name)) || sec.codecs[0];
        const fb = sec.lines.filter((l) => l.startsWith(`a=rtcp-fb:${main.pt} `)).map((l) => l.split(' ').slice(1).join(' '));
        const rtx = sec.codecs.find((c) => /^rtx$/i.test(c.name) && c.fmtp === `apt=${main.pt}`);
        const extmaps = sec.lines.filter((l) => l.startsWith('a=extmap:'))
            .map((l) => l.replace(/^a=extmap:/, ''));
        out[kind] = {
            codec: `${main.name}/${main.pt}`,
            rtcpFb: fb,
            transportCc: fb.includes('transport-cc') || sec.lines.includes('a=rtcp-fb:* transport-cc'),
            googRemb: fb.includes('goog-remb'),
            twccExtmap: extmaps.find((e) => /transport-wide-cc/.test(e)) || null,
            absSendTime: extmaps.find((e) => /abs-send-time/.test(e)) || null,
            rtx: rtx ? `rtx/${rtx.pt} apt=${main.pt}` : null,
            red: sec.codecs.some((c) => /^red$/i.test(c.name)),
            ulpfec: sec.codecs.some((c) => /^ulpfec$/i.test(c.name)),
            extmaps,
            rtcpRsize: sec.lines.includes('a=rtcp-rsize'),
        };
    }
    return out;
}

async function metricLines(srv) {
    const text = await srv.metricsText().catch((e) => `# /metrics: ${e.message}`);
    return text.split('\n').filter((l) => l && !l.startsWith('#') && METRICS_RE.test(l));
}

function metricValue(lines, name) {
    const l = lines.find((x) => x.startsWith(`${name} `));
    return l ? Number(l.split(/\s+/)[1]) : null;
}

/* Per-layer send rates of the clinic between two window.layers() readings. */
function layerKbps(a, b, ms) {
    const out = {};
    for (const rid of Object.keys(b))
        out[rid] = a[rid] ? Math.round(((b[rid].bytesSent - a[rid].bytesSent) * 8) / ms) : null;
    return out;
}

async function startViewer(page, srv, name) {
    try {
        await page.evaluate((o) => window.start(o), {
            url: `${srv.url}/whep/${ROOM}/${STREAM}`, iceTimeoutMs: 3000,
            token: srv.token({ room: ROOM, role: 'expert', name }),
        });
    } catch (e) {
        throw new h.TestFailure(`WHEP subscribe (${name}) failed: ${e.message}`);
    }
}

h.main('bwe_chromium', async (t) => {
    const capKbps = rateKbps(CAP.rate);
    const bed = await bedFor(t);
    const srv = await relayIn(t, bed, { recordPolicy: 'on-demand' });
    const web = await pagesIn(t, bed);
    const clinic = await chromiumIn(t, bed, 'clinic', { origin: web.url });
    const expert = await chromiumIn(t, bed, 'expert', { origin: web.url });
    const checks = [];
    const check = (ok, msg) => {
        checks.push({ ok: !!ok, msg });
        t.log(`${ok ? 'ok  ' : 'FAIL'} ${msg}`);
    };

    /* The clinic publishes three layers. */
    const pub = await clinic.newPage('whip');
    await pub.goto(`${web.url}/whip.html`);
    await m.installProbe(pub, web.url);
    t.addFailureInfo(() => `--- clinic page console:\n${clinic.consoleTail('whip')}`);
    t.addFailureInfo(async () => `--- clinic layers: ${JSON.stringify(await pub.evaluate(() => window.layers()).catch((e) => e.message))}`);
    try {
        await pub.evaluate((o) => window.start(o), {
            url: `${srv.url}/whip/${ROOM}/${STREAM}`, iceTimeoutMs: 3000, simulcast: true, video: VIDEO,
            token: srv.token({ room: ROOM, role: 'clinic', name: 'clinic-cart' }),
        });
    } catch (e) {
        throw new h.TestFailure(`WHIP publish (simulcast) from the clinic namespace failed: ${e.message}`);
    }
    const t0 = Date.now();
    const all = await h.waitFor('the clinic to send all three layers', async () => {
        const l = await pub.evaluate(() => window.layers());
        return ['q', 'h', 'f'].every((r) => l[r] && l[r].framesSent > 0) && l;
    }, { timeoutMs: 30000, intervalMs: 200 });
    const width = { q: all.q.width, h: all.h.width, f: all.f.width };
    const TOP = width.f;
    t.log(`the clinic sends q, h, f (${JSON.stringify(width)}) ${Date.now() - t0} ms after the WHIP answer`);
    h.assert(TOP === VIDEO.width && width.h < TOP && width.q < width.h,
             `layer sizes ${JSON.stringify(width)}; expected f ${VIDEO.width} wide above h and q`);

    /* The expert (capped later) and the clean viewer (the clinic's browser, never capped). */
    const view = await expert.newPage('whep');
    await view.goto(`${web.url}/whep.html`);
    const clean = await clinic.newPage('whep-clean');
    await clean.goto(`${web.url}/whep.html`);
    t.addFailureInfo(() => `--- expert page console:\n${expert.consoleTail('whep')}\n` +
                           `--- clean viewer console:\n${clinic.consoleTail('whep-clean')}`);
    t.addFailureInfo(async () => `--- expert last sample: ${JSON.stringify(await lastSample(view).catch(() => null))}`);
    const viewAt = Date.now();
    await startViewer(view, srv, 'expert-bwe');
    await startViewer(clean, srv, 'viewer-clean');
    await startSampler(view, EXPERT_SAMPLE_MS);
    await startSampler(clean, CLEAN_SAMPLE_MS);

    /* What a Chromium viewer offers, for the estimator's negotiation. */
    const sdp = await view.evaluate(() => window.sdp());
    fs.writeFileSync(path.join(t.dir, 'whep-offer.sdp'), sdp.offer);
    fs.writeFileSync(path.join(t.dir, 'whep-answer.sdp'), sdp.answer);
    const offerCc = ccSummary(sdp.offer);
    const answerCc = ccSummary(sdp.answer);
    for (const [what, cc] of [['WHEP offer (Chromium viewer)', offerCc], ['WHEP answer (medrelay)', answerCc]]) {
        for (const kind of ['video', 'audio']) {
            const c = cc[kind];
            if (!c) {
                t.log(`${what} ${kind}: no section`);
                continue;
            }
            t.log(`${what} ${kind} ${c.codec}: rtcp-fb [${c.rtcpFb.join(', ')}]; transport-cc ${c.transportCc}; ` +
                  `twcc extmap ${c.twccExtmap || 'none'}; abs-send-time ${c.absSendTime || 'none'}; ` +
                  `rtx ${c.rtx || 'none'}; red ${c.red}; ulpfec ${c.ulpfec}; rtcp-rsize ${c.rtcpRsize}`);
            t.log(`${what} ${kind} extmaps: ${c.extmaps.join(' | ')}`);
        }
    }

    const topWait = (page, who) => h.waitFor(`${who} to decode the top layer (${TOP} wide)`, async () => {
        const s = await lastSample(page);
        return s && s.w === TOP && s;
    }, { timeoutMs: 30000, intervalMs: 100, describeLast: (s) => JSON.stringify(s) });
    await topWait(view, 'the expert');
    t.log(`the expert decodes ${TOP} wide ${Date.now() - viewAt} ms after its WHEP POST`);
    await topWait(clean, 'the clean viewer');

    /* (g) recorded from here to the end. */
    const recording = await m.startRecording(srv, ROOM, STREAM);
    t.log(`recording ${recording.id} of ${ROOM}/${STREAM} started`);

    /* (a) */
    const cleanFrom = Date.now();
    const layers0 = await pub.evaluate(() => window.layers());
    await h.sleep(CLEAN_MS);
    const layers1 = await pub.evaluate(() => window.layers());
    const cleanMs = Date.now() - cleanFrom;
    const metricsBefore = await metricLines(srv);

    /* (b) */
    const capAsked = Date.now();
    await bed.setRate('expert-down', CAP.rate, { burst: CAP.burst, latency: CAP.latency });
    const capAt = Date.now();
    const link = bed.links['expert-down'];
    const tbf = (await bed.exec(link.ns, 'tc', ['qdisc', 'show', 'dev', link.dev]).catch((e) => e.message)).trim();
    t.log(`cap in place ${capAt - capAsked} ms after it was asked for: ${tbf}`);
    /* tc sets tbf's queue limit to rate x latency + burst: what a packet can wait is that at the rate. */
    const limitB = Math.round((capKbps * 1000 / 8) * (tcMs(CAP.latency) / 1000) + tcBytes(CAP.burst));
    const tbfInfo = { limit_bytes: limitB, max_queue_ms: Math.round((limitB * 8) / capKbps),
                      bucket_bytes: tcBytes(CAP.burst) };
    t.log(`tbf: a bucket of ${tbfInfo.bucket_bytes} B (passes unqueued at first), then a queue of at most ` +
          `${limitB} B = ${tbfInfo.max_queue_ms} ms at ${capKbps} kbit/s before packets are dropped`);
    await h.sleep(HOLD_MS / 2);
    const layersMid = await pub.evaluate(() => window.layers());
    const midAt = Date.now();
    await h.sleep(HOLD_MS - (Date.now() - capAt));
    const layers2 = await pub.evaluate(() => window.layers());
    const layers2At = Date.now();
    const metricsCapped = await metricLines(srv);
    /* What the operator console shows of each viewer (GET /api/rooms/{room}/sessions). */
    const sessionsCapped = await srv.api('GET', `/api/rooms/${ROOM}/sessions`).catch((e) => ({ error: e.message }));
    const layerOf = (sub) => {
        const list = (sessionsCapped.json && sessionsCapped.json.sessions) || [];
        const ses = list.find((x) => x.sub === sub && x.kind === 'subscribe');
        return ses ? ses.layer : undefined;
    };
    const expertLayer = layerOf('expert-bwe');
    const cleanLayer = layerOf('viewer-clean');
    t.log(`sessions API under the cap: the expert ${JSON.stringify(expertLayer)}, the clean viewer ${JSON.stringify(cleanLayer)}`);
    const tbfStats = (await bed.exec(link.ns, 'tc', ['-s', 'qdisc', 'show', 'dev', link.dev])
        .catch((e) => e.message)).trim().replace(/\s+/g, ' ');
    t.log(`tbf after the hold: ${tbfStats}`);
    t.log(`clinic layers after the hold: ${JSON.stringify(layers2)}`);

    /* (e) */
    const liftFd = (await lastSample(view)).fd;
    await bed.setRate('expert-down', null);
    const liftAt = Date.now();
    const upSeen = await h.waitFor('the expert back on the top layer', async () => {
        const s = await lastSample(view);
        return s && s.t > liftAt && s.w === TOP && s.fd > liftFd && s;
    }, { timeoutMs: UP_LIMIT_MS + 2000, intervalMs: 100 }).catch(() => null);
    t.log(upSeen ? `cap lifted: the expert decodes new ${TOP}-wide frames`
        : `cap lifted: the expert not back on ${TOP} wide within ${(UP_LIMIT_MS + 2000) / 1000} s`);
    await h.sleep(3000);
    const endAt = Date.now();
    const metricsAfter = await metricLines(srv);
    const viewerStats = await view.evaluate(() => window.stats()).catch(() => null);

    const es = await allSamples(view);
    const cs = await allSamples(clean);
    fs.writeFileSync(path.join(t.dir, 'expert-samples.json'), JSON.stringify(es));
    fs.writeFileSync(path.join(t.dir, 'clean-samples.json'), JSON.stringify(cs));
    await pub.screenshot({ path: path.join(t.dir, 'whip.png') }).catch(() => {});
    await view.screenshot({ path: path.join(t.dir, 'whep.png') }).catch(() => {});

    /* (g): stop, let the browsers go (CPU for ffmpeg), read the file. */
    if (!await m.stopRecording(srv, ROOM, STREAM))
        t.log(`${ROOM}/${STREAM} was gone when its recording was to stop (see the server log)`);
    for (const page of [view, clean, pub])
        await page.evaluate(() => window.hangup()).catch(() => {});
    await expert.close();
    await clinic.close();
    let recFiles = [];
    let recWidths = {};
    let decodeErrors = '';
    try {
        recFiles = await m.finishedRecording(srv, recording.id);
        for (const f of recFiles) {
            const file = path.join(srv.recordDir, f.rel);
            const widths = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries',
                                                    'frame=width', '-of', 'csv=p=0', file],
                                        { timeout: 120000, maxBuffer: 64 << 20 }).toString().trim().split('\n')
                .filter(Boolean).map(Number);
            widths.forEach((w) => { recWidths[w] = (recWidths[w] || 0) + 1; });
            try {
                decodeErrors += execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'],
                                             { timeout: 120000, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
            } catch (e) {
                decodeErrors += `ffmpeg failed: ${e.stderr ? e.stderr.toString().slice(-800) : e.message}`;
            }
        }
    } catch (e) {
        decodeErrors += `the recording could not be read: ${e.message}`;
    }
    t.log(`recording: ${recFiles.length} file(s) ${recFiles.map((f) => f.rel).join(', ')}; frames by width ` +
          `${JSON.stringify(recWidths)}; ffmpeg: ${decodeErrors.trim() ? decodeErrors.trim().slice(0, 300) : 'no errors'}`);
    await srv.stop();

    /* Figures. */
    const rel = (x) => (x === null ? null : x - capAt);
    const cleanS = within(es, cleanFrom, capAt);
    const cleanWidths = [...new Set(cleanS.map((s) => s.w))];
    const cleanKbps = cleanS.length > 1 ? kbpsBetween(cleanS[0], cleanS[cleanS.length - 1]) : null;
    const cleanFps = cleanS.length > 1 ? Math.round((cleanS[cleanS.length - 1].fd - cleanS[0].fd) /
                                                    ((cleanS[cleanS.length - 1].t - cleanS[0].t) / 1000)) : null;
    const down = es.find((s) => s.t >= capAt && s.t <= liftAt && s.w && s.w < TOP);
    const downMs = down ? down.t - capAt : null;
    const stall = longestStall(es, capAt, liftAt);
    const s0 = at(es, capAt);
    const s1 = at(es, liftAt);
    /* Chromium adds a freeze when it ends: one still open at the lift shows only in the second figure. */
    const sEnd = at(es, endAt);
    const freezes = { count: s1.fc - s0.fc, durationMs: Math.round((s1.fdur - s0.fdur) * 1000),
                      count_to_end: sEnd.fc - s0.fc, duration_to_end_ms: Math.round((sEnd.fdur - s0.fdur) * 1000) };
    const changesHold = widthChanges(es, capAt, liftAt);
    const calm = widthChanges(es, liftAt - CALM_MS, liftAt);
    const switchesCalm = Math.max(0, calm.length - 1);
    const audioGap = longestStall(es, capAt, liftAt, 'ap');
    const audioPackets = s1.ap - s0.ap;
    const tail = within(es, liftAt - 10000, liftAt);
    const cappedKbps = tail.length > 1 ? kbpsBetween(tail[0], tail[tail.length - 1]) : null;
    /* Back up: a frame decoded after the lift, at the top width (a picture frozen on a 1280-wide frame is not). */
    const fdAtLift = at(es, liftAt).fd;
    const up = es.find((s) => s.t > liftAt && s.w === TOP && s.fd > fdAtLift);
    const upMs = up ? up.t - liftAt : null;
    const upStall = longestStall(es, liftAt, Math.min(endAt, (up ? up.t : endAt) + 2000), 'fd', { clip: true });
    const rtts = (from, to) => within(es, from, to).map((s) => s.rtt).filter((x) => x !== null);
    const rttClean = rtts(cleanFrom, capAt);
    const rttHold = rtts(capAt, liftAt);
    const rtt = { clean_max_ms: rttClean.length ? Math.max(...rttClean) : null,
                  hold_max_ms: rttHold.length ? Math.max(...rttHold) : null,
                  hold_values_ms: [...new Set(rttHold)] };
    const changesAll = widthChanges(es, cleanFrom, endAt);
    const cv = timeBelow(cs, cleanFrom, endAt, TOP);
    const cvStall = longestStall(cs, cleanFrom, endAt);
    const cvChanges = widthChanges(cs, cleanFrom, endAt);
    const switchesMetric = (l) => metricValue(l, 'medrelay_layer_switches_total');
    const kbpsClean = layerKbps(layers0, layers1, cleanMs);
    const kbpsCapped = layerKbps(layersMid, layers2, layers2At - midAt);
    const ev = viewerStats ? viewerStats.inbound.video : {};

    t.log(`clean link: the expert decoded widths ${JSON.stringify(cleanWidths)}, ${cleanFps} frames/s, ` +
          `${cleanKbps} kbit/s video; the clinic sent q/h/f at ${JSON.stringify(kbpsClean)} kbit/s`);
    t.log(`cap ${CAP.rate}: the expert's widths ${changesHold.map((c) => `${c.w}@+${c.t - capAt}ms`).join(' → ')}; ` +
          `first below ${TOP}: ${downMs === null ? 'never' : `${downMs} ms`}; longest stall ${stall.ms} ms ` +
          `(from +${rel(stall.startsAt)} ms; samples at most ${stall.sampleGapMs} ms apart); ` +
          `Chromium freezes +${freezes.count} lasting ${freezes.durationMs} ms (to the end of the run, ` +
          `ended after the lift included: +${freezes.count_to_end}, ${freezes.duration_to_end_ms} ms); ` +
          `video ${cappedKbps} kbit/s over the last 10 s; audio +${audioPackets} packets, longest audio gap ${audioGap.ms} ms; ` +
          `the clinic sent q/h/f at ${JSON.stringify(kbpsCapped)} kbit/s in the second half`);
    t.log(`cap lifted: a new ${TOP}-wide frame ${upMs === null ? 'never' : `after ${upMs} ms`}; longest stall after ` +
          `the lift ${upStall.ms} ms; STUN RTT on the expert's pair: clean at most ${rtt.clean_max_ms} ms, ` +
          `under the cap ${JSON.stringify(rtt.hold_values_ms)} ms`);
    t.log(`clean viewer: widths ${cvChanges.map((c) => `${c.w}@${c.t - capAt}ms`).join(' → ')} (ms from the cap); ` +
          `${cv.ms} ms below ${TOP} (longest dip ${cv.longestMs} ms); longest stall ${cvStall.ms} ms`);
    t.log(`expert at the end: ${JSON.stringify({ nackCount: ev.nackCount, pliCount: ev.pliCount, packetsLost: ev.packetsLost, keyFramesDecoded: ev.keyFramesDecoded, freezeCount: ev.freezeCount })}`);
    t.log(`relay metrics before the cap: ${metricsBefore.join('; ')}`);
    t.log(`relay metrics after the hold: ${metricsCapped.join('; ')}`);
    t.log(`relay metrics at the end: ${metricsAfter.join('; ')}`);

    /* Checks. */
    check(cleanS.length > 10 && cleanWidths.length === 1 && cleanWidths[0] === TOP && cleanFps > 10,
          `(a) clean link: the expert decoded widths ${JSON.stringify(cleanWidths)} at ${cleanFps} frames/s; ` +
          `expected ${TOP} throughout, over 10 frames/s`);
    check(cleanKbps !== null && cleanKbps > capKbps,
          `(a) clean link: the expert received ${cleanKbps} kbit/s of video; expected more than the ${capKbps} ` +
          'kbit/s cap (otherwise the cap does not bite and the test proves nothing)');
    check(downMs !== null && downMs <= DOWN_LIMIT_MS,
          `(b) capped at ${CAP.rate}: the expert was moved below ${TOP} wide ` +
          `${downMs === null ? `never in the ${HOLD_MS / 1000} s hold (every frame it decoded was ` +
                               `${[...new Set(changesHold.map((c) => c.w))].join(' or ')} wide: it was sent the top layer ` +
                               'throughout)' : `${downMs} ms after the cap`}; ` +
          `expected within ${DOWN_TARGET_MS} ms (issue 17), checked at ${DOWN_LIMIT_MS}`);
    check(stall.ms < STALL_LIMIT_MS,
          `(b) capped at ${CAP.rate}: the expert's picture stood still for ${stall.ms} ms at most (from ` +
          `+${rel(stall.startsAt)} ms after the cap; Chromium counted ${freezes.count} freezes, ` +
          `${freezes.durationMs} ms); expected under ${STALL_LIMIT_MS} ms`);
    check(switchesCalm <= 1,
          `(c) capped at ${CAP.rate}: ${switchesCalm} layer switches in the last ${CALM_MS / 1000} s of the hold ` +
          `(${calm.map((c) => c.w).join(' → ')}); expected at most 1`);
    check(audioPackets > 0 && audioGap.ms < AUDIO_GAP_LIMIT_MS,
          `(d) capped at ${CAP.rate}: the expert received ${audioPackets} audio packets, none for ` +
          `${audioGap.ms} ms at most; expected audio throughout (no gap of ${AUDIO_GAP_LIMIT_MS} ms)`);
    check(upMs !== null && upMs <= UP_LIMIT_MS,
          `(e) cap lifted: the expert decoded a new ${TOP}-wide frame ${upMs === null ? 'never (in 12 s)' : `after ${upMs} ms`}` +
          `${down ? '' : ' (it had never left it)'}; expected within ${UP_LIMIT_MS} ms`);
    check(cv.minWidth === TOP || (cv.longestMs < CLEAN_DIP_LIMIT_MS && cvChanges.length <= 3),
          `(f) the clean viewer's widths ${cvChanges.map((c) => c.w).join(' → ')}: ${cv.ms} ms below ${TOP} ` +
          `(longest dip ${cv.longestMs} ms); expected ${TOP} throughout, at most one dip under ${CLEAN_DIP_LIMIT_MS} ms`);
    check(cvStall.ms < 1000,
          `(f) the clean viewer's picture stood still for ${cvStall.ms} ms at most; expected under 1000 ms`);
    check(expertLayer && expertLayer.sent !== 'high' && expertLayer.why === 'downlink' &&
          expertLayer.downlink_kbps > 0 && expertLayer.downlink_kbps < capKbps * 1.5 &&
          cleanLayer && cleanLayer.sent === 'high' && cleanLayer.why === 'best',
          `(h) the sessions API under the cap: the expert ${JSON.stringify(expertLayer)}, the clean viewer ` +
          `${JSON.stringify(cleanLayer)}; expected the expert below high for its downlink (estimate under ` +
          `${capKbps * 1.5} kbit/s), the clean viewer on high, the best`);
    const recTotal = Object.values(recWidths).reduce((a, b) => a + b, 0);
    check(recFiles.length === 1 && recTotal > 30 && recWidths[TOP] === recTotal && !decodeErrors.trim(),
          `(g) the recording: ${recFiles.length} file(s), frames by width ${JSON.stringify(recWidths)}, ffmpeg: ` +
          `${decodeErrors.trim() ? decodeErrors.trim().slice(0, 400) : 'no errors'}; expected one file, every ` +
          `frame ${TOP} wide, decoded without an error`);

    const failed = checks.filter((c) => !c.ok);
    const summary = {
        test: 'bwe_chromium', result: failed.length ? 'fail' : 'pass', chromium: expert.version,
        cap: { ...CAP, tbf, ...tbfInfo }, layers: width, layer_kbps_clean: kbpsClean, layer_kbps_capped: kbpsCapped,
        expert_clean_kbps: cleanKbps, expert_capped_kbps: cappedKbps,
        down_ms: downMs, max_stall_ms: stall.ms, max_sample_gap_ms: stall.sampleGapMs, freezes,
        widths_in_hold: changesHold.map((c) => ({ w: c.w, ms: c.t - capAt })),
        switches_in_hold: switchesCalm, audio_packets_in_hold: audioPackets, audio_max_gap_ms: audioGap.ms,
        up_ms: upMs, up_stall_ms: upStall.ms, rtt,
        expert_widths: changesAll.map((c) => ({ w: c.w, ms: c.t - capAt })),
        clean_viewer: { widths: cvChanges.map((c) => ({ w: c.w, ms: c.t - capAt })), ms_below_top: cv.ms,
                        longest_dip_ms: cv.longestMs, min_width: cv.minWidth, max_stall_ms: cvStall.ms },
        relay_layer_switches: { before_cap: switchesMetric(metricsBefore), after_hold: switchesMetric(metricsCapped),
                                end: switchesMetric(metricsAfter) },
        relay_metrics: { before_cap: metricsBefore, after_hold: metricsCapped, end: metricsAfter },
        recording_frames_by_width: recWidths,
        whep_offer: { video: offerCc.video && { ...offerCc.video, extmaps: undefined },
                      audio: offerCc.audio && { ...offerCc.audio, extmaps: undefined } },
        whep_answer: { video: answerCc.video && { ...answerCc.video, extmaps: undefined },
                       audio: answerCc.audio && { ...answerCc.audio, extmaps: undefined } },
        failed: failed.map((c) => c.msg),
    };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
    if (failed.length)
        throw new h.TestFailure(`${failed.length} of ${checks.length} checks failed:\n  ${failed.map((c) => c.msg).join('\n  ')}`);
}, { watchdogMs: 200000 });
