#!/usr/bin/env node
'use strict';
/*
 * Fan-out: one Chromium WHIP publisher (fake camera 320x240 at 15 fps and
 * microphone) and VIEWERS Chromium WHEP viewer pages in one browser, all
 * cross-origin to medrelay.
 *
 * Viewers join one after another: each POSTs only after the previous one
 * decoded its first frame and at least JOIN_GAP_MS after the previous POST,
 * so the relay's key-frame requests (at most one per 300 ms per stream) are
 * not coalesced across joins.
 *
 * Asserts: every viewer decodes video (framesDecoded climbs between two
 * samples) at the publisher's frame size and receives audio; the viewers'
 * inbound video and audio SSRCs differ from each other (the relay gives
 * every subscriber its own); the publisher's pliCount grew during the joins
 * (at least 1; the number is reported, not pinned, since the relay may
 * coalesce or repeat requests); each first frame arrives within
 * FIRST_FRAME_LIMIT_MS of its POST. Then two viewers hang up with DELETE
 * (200/204) and the others keep decoding; then the rest and the publisher
 * hang up; medrelay still answers /healthz and stops cleanly.
 *
 * Prints one JSON line with the time to first frame per viewer and the
 * publisher's pliCount; screenshots of the publisher and viewer 1 go to
 * tests/artifacts/interop/chromium_fanout/.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/chromium_fanout.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');
const { httpGet } = require('./lib/server');
const { mediaSection } = require('./lib/sdp');

const ROOM = 'icu-2';
const STREAM = 'bed-12';
const VIEWERS = 5;
const CLOSE_FIRST = 2;          /* viewers that hang up while the others keep watching */
const JOIN_GAP_MS = 500;        /* > the relay's 300 ms key-frame request window */
const MEDIA_TIMEOUT_MS = 15000;
/* The 1-viewer test sees ~0.5-0.7 s; with up to five decoders busy on two
 * cores a join takes longer. Generous, but it still catches a join that
 * waits for the encoder's periodic key frame (no request from the relay). */
const FIRST_FRAME_LIMIT_MS = 5000;
const SAMPLE_GAP_MS = 1500;

function brief(s) {
    if (!s || !s.started)
        return 'not started';
    return JSON.stringify({
        connection: s.connectionState, ice: s.iceConnectionState, transport: s.transport,
        inbound: s.inbound, outbound: s.outbound, timing: s.timing,
    });
}

h.main('chromium_fanout', async (t) => {
    const srv = await serverFor(t);

    const web = await webFor(t);

    const browser = await chromiumFor(t);

    const pub = await browser.newPage('whip');
    t.addFailureInfo(() => `--- publisher page console:\n${browser.consoleTail('whip', 15)}\n---`);
    await pub.goto(`${web.url}/whip.html`);
    const pubStats = () => pub.evaluate(() => window.stats());
    t.addFailureInfo(async () => `--- publisher stats: ${brief(await pubStats())}`);

    /* viewers[i] = { name, page, stats(), joinedAt, ... } */
    const viewers = [];
    t.addFailureInfo(async () => {
        const out = [];
        for (const v of viewers) {
            out.push(`--- ${v.name} console:\n${browser.consoleTail(v.name, 10)}`);
            try {
                out.push(`--- ${v.name} stats: ${brief(await v.stats())}`);
                await v.page.screenshot({ path: path.join(t.dir, `${v.name}.failure.png`), timeout: 5000 });
            } catch (e) {
                out.push(`--- ${v.name}: ${e.message}`);
            }
        }
        return out.join('\n');
    });

    /* Publisher. */
    const pubToken = srv.token({ room: ROOM, role: 'clinic', name: 'bedside-cam' });
    try {
        await pub.evaluate((o) => window.start(o), {
            url: `${srv.url}/whip/${ROOM}/${STREAM}`, token: pubToken,
            video: { width: 320, height: 240, frameRate: 15 },
        });
    } catch (e) {
        throw new h.TestFailure(`WHIP publish failed: ${e.message}`);
    }
    const p0 = await h.waitFor('the publisher to connect and send video and audio', async () => {
        const s = await pubStats();
        return s.connectionState === 'connected' && s.outbound.video.packetsSent > 0 &&
               s.outbound.video.frameWidth > 0 && s.outbound.audio.packetsSent > 0 && s;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, describeLast: brief });
    t.log(`publisher sending ${p0.outbound.video.codec} ${p0.outbound.video.frameWidth}x` +
          `${p0.outbound.video.frameHeight}, pliCount ${p0.outbound.video.pliCount}`);

    /* Viewers, one after another. */
    const whepUrl = `${srv.url}/whep/${ROOM}/${STREAM}`;
    let lastPostAt = 0;
    for (let i = 1; i <= VIEWERS; i++) {
        const name = `whep${i}`;
        const page = await browser.newPage(name);
        await page.goto(`${web.url}/whep.html`);
        const v = { name, page, stats: () => page.evaluate(() => window.stats()), open: true };
        viewers.push(v);
        const wait = lastPostAt + JOIN_GAP_MS - Date.now();
        if (wait > 0)
            await h.sleep(wait);
        const pliBefore = (await pubStats()).outbound.video.pliCount;
        lastPostAt = Date.now();
        try {
            v.info = await page.evaluate((o) => window.start(o), {
                url: whepUrl, token: srv.token({ room: ROOM, role: 'viewer', name: `viewer-${i}` }),
            });
        } catch (e) {
            throw new h.TestFailure(`${name}: WHEP subscribe failed: ${e.message}`);
        }
        v.sdp = await page.evaluate(() => window.sdp());
        const first = await h.waitFor(`${name} to decode its first frame`, async () => {
            const s = await v.stats();
            return s.inbound.video.framesDecoded > 0 && s.timing.firstFrameAt > 0 && s;
        }, { timeoutMs: MEDIA_TIMEOUT_MS, describeLast: brief });
        v.firstFrameMs = first.timing.postToFirstFrameMs;
        v.pliBefore = pliBefore;
        v.pliAfter = (await pubStats()).outbound.video.pliCount;
        t.log(`${name}: first frame ${v.firstFrameMs} ms after its POST; publisher pliCount ` +
              `${pliBefore} → ${v.pliAfter}`);
    }

    /* Everyone watching: two samples per viewer. */
    const sampleAll = async (list) => Promise.all(list.map((v) => v.stats()));
    const watching = async (list, phase, key) => {
        const a = await sampleAll(list);
        await h.sleep(SAMPLE_GAP_MS);
        const b = await sampleAll(list);
        const p = await pubStats();
        list.forEach((v, k) => {
            const [x, y] = [a[k], b[k]];
            h.assert(y.connectionState === 'connected',
                     `${phase}: ${v.name} is ${y.connectionState}, expected connected`);
            h.assert(y.inbound.video.framesDecoded > x.inbound.video.framesDecoded,
                     `${phase}: ${v.name} framesDecoded did not climb: ` +
                     `${x.inbound.video.framesDecoded} → ${y.inbound.video.framesDecoded}`);
            h.assert(y.inbound.audio.packetsReceived > x.inbound.audio.packetsReceived,
                     `${phase}: ${v.name} audio packetsReceived did not climb: ` +
                     `${x.inbound.audio.packetsReceived} → ${y.inbound.audio.packetsReceived}`);
            h.assert(y.inbound.video.frameWidth === p.outbound.video.frameWidth &&
                     y.inbound.video.frameHeight === p.outbound.video.frameHeight,
                     `${phase}: ${v.name} decodes ${y.inbound.video.frameWidth}x${y.inbound.video.frameHeight}, ` +
                     `the publisher sends ${p.outbound.video.frameWidth}x${p.outbound.video.frameHeight}`);
            v.last = y;
            v.fps = v.fps || {};
            v.fps[key] = Number(((y.inbound.video.framesDecoded - x.inbound.video.framesDecoded) * 1000 /
                                 (y.at - x.at)).toFixed(1));
        });
        return p;
    };
    const pAll = await watching(viewers, `all ${VIEWERS} viewers`, 'all');
    h.assert(pAll.outbound.video.frameWidth === 320 && pAll.outbound.video.frameHeight === 240,
             `the publisher sends ${pAll.outbound.video.frameWidth}x${pAll.outbound.video.frameHeight}, ` +
             'asked for 320x240');
    t.log(`all ${VIEWERS} viewers decoding 320x240: fps ` +
          viewers.map((v) => `${v.name} ${v.fps.all}`).join(', '));
    await pub.screenshot({ path: path.join(t.dir, 'whip.png') });
    await viewers[0].page.screenshot({ path: path.join(t.dir, 'whep1.png') });

    /* Each viewer its own SSRCs, in getStats() and in the relay's answers. */
    const pubVideoSsrcs = pAll.outbound.video.ssrcs;
    for (const kind of ['video', 'audio']) {
        const seen = new Map();
        for (const v of viewers) {
            const ssrcs = v.last.inbound[kind].ssrcs;
            h.assert(ssrcs.length === 1, `${v.name} has ${ssrcs.length} inbound ${kind} streams (${ssrcs}), expected 1`);
            const ans = mediaSection(v.sdp.answer, kind);
            h.assert(ans && ans.ssrcs.includes(ssrcs[0]),
                     `${v.name}: inbound ${kind} SSRC ${ssrcs[0]} is not among the answer's a=ssrc ${ans && ans.ssrcs}`);
            h.assert(!seen.has(ssrcs[0]),
                     `${v.name} and ${seen.get(ssrcs[0])} receive ${kind} on the same SSRC ${ssrcs[0]}; ` +
                     'the relay should give every subscriber its own');
            seen.set(ssrcs[0], v.name);
            v[`${kind}Ssrc`] = ssrcs[0];
        }
    }
    t.log(`viewer video SSRCs ${viewers.map((v) => v.videoSsrc).join(', ')} (publisher ${pubVideoSsrcs}); ` +
          `audio ${viewers.map((v) => v.audioSsrc).join(', ')}`);

    const pliTotal = pAll.outbound.video.pliCount - p0.outbound.video.pliCount;
    const pliDuringJoins = viewers.map((v) => v.pliAfter - v.pliBefore);
    t.log(`publisher pliCount ${p0.outbound.video.pliCount} → ${pAll.outbound.video.pliCount} over ${VIEWERS} joins ` +
          `(per join ${pliDuringJoins.join(', ')}), firCount ${pAll.outbound.video.firCount}`);
    h.assert(pliTotal >= 1, `the publisher received no PLI while ${VIEWERS} viewers joined (pliCount ` +
             `${p0.outbound.video.pliCount} → ${pAll.outbound.video.pliCount})`);
    for (const v of viewers) {
        h.assert(v.firstFrameMs >= 0 && v.firstFrameMs < FIRST_FRAME_LIMIT_MS,
                 `${v.name}'s first frame took ${v.firstFrameMs} ms after its POST (limit ${FIRST_FRAME_LIMIT_MS} ms)`);
    }

    /* Two viewers leave; the others keep decoding. */
    const deletes = {};
    const hangup = async (v) => {
        const st = await v.page.evaluate(() => window.hangup());
        const detail = await v.page.evaluate(() => window.lastHangup);
        h.assert(st === 200 || st === 204, `${v.name} DELETE answered ${st}: ${JSON.stringify(detail)}`);
        deletes[v.name] = st;
        v.open = false;
    };
    for (const v of viewers.slice(0, CLOSE_FIRST))
        await hangup(v);
    t.log(`${viewers.slice(0, CLOSE_FIRST).map((v) => v.name).join(', ')} hung up`);
    const rest = viewers.slice(CLOSE_FIRST);
    await watching(rest, `after ${CLOSE_FIRST} viewers left`, 'after');
    t.log(`the other ${rest.length} keep decoding: fps ` + rest.map((v) => `${v.name} ${v.fps.after}`).join(', '));

    for (const v of rest)
        await hangup(v);
    const pst = await pub.evaluate(() => window.hangup());
    h.assert(pst === 200 || pst === 204, `publisher DELETE answered ${pst}`);
    deletes.whip = pst;
    t.log(`all DELETEs: ${JSON.stringify(deletes)}`);

    const health = await httpGet(`${srv.url}/healthz`, 2000);
    h.assert(health.status === 200, `GET /healthz after the run answered ${health.status}`);
    await browser.close();
    await srv.stop();

    /* The relay logs one "closed" line per peer it released. */
    const logText = fs.readFileSync(srv.logPath, 'utf8');
    const closed = (logText.match(/subscriber \w+ closed/g) || []).length;
    h.assert(closed === VIEWERS, `medrelay logged ${closed} subscriber closes, expected ${VIEWERS}`);

    const summary = {
        test: 'chromium_fanout',
        result: 'pass',
        chromium: browser.version,
        viewers: VIEWERS,
        publisher: {
            codec: pAll.outbound.video.codec,
            frame: `${pAll.outbound.video.frameWidth}x${pAll.outbound.video.frameHeight}`,
            videoSsrc: pubVideoSsrcs,
            pliCountBefore: p0.outbound.video.pliCount,
            pliCountAfterJoins: pAll.outbound.video.pliCount,
            pliPerJoin: pliDuringJoins,
            firCount: pAll.outbound.video.firCount,
        },
        firstFrameMs: Object.fromEntries(viewers.map((v) => [v.name, v.firstFrameMs])),
        /* decoded frames per second over SAMPLE_GAP_MS, with all viewers and after some left */
        fps: Object.fromEntries(viewers.map((v) => [v.name, v.fps])),
        viewerVideoSsrcs: viewers.map((v) => v.videoSsrc),
        viewerAudioSsrcs: viewers.map((v) => v.audioSsrc),
        framesDecoded: Object.fromEntries(viewers.map((v) => [v.name, v.last.inbound.video.framesDecoded])),
        packetsLost: Object.fromEntries(viewers.map((v) => [v.name,
            v.last.inbound.video.packetsLost + v.last.inbound.audio.packetsLost])),
        framesDropped: Object.fromEntries(viewers.map((v) => [v.name, v.last.inbound.video.framesDropped])),
        deletes,
    };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 120000 });
