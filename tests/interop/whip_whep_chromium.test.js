#!/usr/bin/env node
'use strict';
/*
 * Chromium → medrelay → Chromium: a WHIP publisher page and a WHEP viewer
 * page (both served by a separate static server, so every request to
 * medrelay is cross-origin and goes through CORS) meet in room clinic-7,
 * stream cam.
 *
 * Asserts, within ~15 s: the publisher connects and sends; the viewer's
 * decoded video frames and received audio packets climb; the publisher got a
 * key-frame request (PLI) when the viewer joined; both sides report
 * an SRTP cipher; each DELETE answers 200/204, and so does a second DELETE
 * of the same session (DELETE is idempotent); medrelay still answers
 * /healthz and stops cleanly on SIGTERM.
 *
 * Prints one JSON line (ciphers, POST→first frame, frames decoded) and
 * saves screenshots and logs in tests/artifacts/interop/whip_whep_chromium/.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/whip_whep_chromium.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');
const { httpGet } = require('./lib/server');

const ROOM = 'clinic-7';
const STREAM = 'cam';
const MEDIA_TIMEOUT_MS = 15000;

function brief(s) {
    if (!s || !s.started)
        return 'not started';
    return JSON.stringify({
        connection: s.connectionState, ice: s.iceConnectionState, pair: s.candidatePair,
        transport: s.transport, inbound: s.inbound, outbound: s.outbound, timing: s.timing,
    });
}

h.main('whip_whep_chromium', async (t) => {

    const srv = await serverFor(t);

    const web = await webFor(t);
    h.assert(web.url !== srv.url, 'the pages must be on another origin than medrelay');

    const pubToken = srv.token({ room: ROOM, role: 'clinic', name: 'cart-7' });
    const viewToken = srv.token({ room: ROOM, role: 'viewer', name: 'remote-expert' });

    const browser = await chromiumFor(t);
    const pub = await browser.newPage('whip');
    const view = await browser.newPage('whep');
    t.addFailureInfo(() => `--- publisher page console:\n${browser.consoleTail('whip')}\n---`);
    t.addFailureInfo(() => `--- viewer page console:\n${browser.consoleTail('whep')}\n---`);
    /* On failure, a screenshot of each page shows where it stood. */
    t.addFailureInfo(async () => {
        for (const [name, page] of [['whip', pub], ['whep', view]]) {
            try {
                await page.screenshot({ path: path.join(t.dir, `${name}.failure.png`), timeout: 5000 });
            } catch (_) { /* page gone */ }
        }
        return '';
    });
    await pub.goto(`${web.url}/whip.html`);
    await view.goto(`${web.url}/whep.html`);

    /* Publisher. */
    const whipUrl = `${srv.url}/whip/${ROOM}/${STREAM}`;
    let pubInfo;
    try {
        pubInfo = await pub.evaluate((o) => window.start(o), { url: whipUrl, token: pubToken });
    } catch (e) {
        throw new h.TestFailure(`WHIP publish failed: ${e.message}`);
    }
    t.log(`WHIP 201, Location ${pubInfo.location}`);
    const pubStats = () => pub.evaluate(() => window.stats());
    t.addFailureInfo(async () => `--- publisher stats: ${brief(await pubStats())}`);
    await h.waitFor('the publisher to connect to medrelay and send video and audio', async () => {
        const s = await pubStats();
        return s.connectionState === 'connected' && s.outbound.video.packetsSent > 0 &&
               s.outbound.audio.packetsSent > 0 && s;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, describeLast: brief });
    t.log('publisher connected and sending');

    /* Viewer. */
    const whepUrl = `${srv.url}/whep/${ROOM}/${STREAM}`;
    let viewInfo;
    try {
        viewInfo = await view.evaluate((o) => window.start(o), { url: whepUrl, token: viewToken });
    } catch (e) {
        throw new h.TestFailure(`WHEP subscribe failed: ${e.message}`);
    }
    t.log(`WHEP 201, Location ${viewInfo.location}`);
    const viewStats = () => view.evaluate(() => window.stats());
    t.addFailureInfo(async () => `--- viewer stats: ${brief(await viewStats())}`);
    const a = await h.waitFor('the viewer to decode a video frame', async () => {
        const s = await viewStats();
        return s.inbound.video.framesDecoded > 0 && s.timing.firstFrameAt > 0 && s;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, intervalMs: 100, describeLast: brief });
    t.log(`viewer decoded its first frame ${a.timing.postToFirstFrameMs} ms after the WHEP POST`);
    await h.sleep(1500);
    const b = await viewStats();
    const p = await pubStats();

    await pub.screenshot({ path: path.join(t.dir, 'whip.png') });
    await view.screenshot({ path: path.join(t.dir, 'whep.png') });

    h.assert(b.inbound.video.framesDecoded > a.inbound.video.framesDecoded,
             `viewer framesDecoded did not climb: ${a.inbound.video.framesDecoded} → ${b.inbound.video.framesDecoded}`);
    h.assert(b.inbound.audio.packetsReceived > a.inbound.audio.packetsReceived,
             `viewer audio packetsReceived did not climb: ${a.inbound.audio.packetsReceived} → ${b.inbound.audio.packetsReceived}`);
    h.assert(b.transport.srtpCipher, `viewer reports no srtpCipher: ${JSON.stringify(b.transport)}`);
    h.assert(p.transport.srtpCipher, `publisher reports no srtpCipher: ${JSON.stringify(p.transport)}`);
    /* The relay asks the publisher for a key frame as soon as the viewer is
     * secure; without that request Chromium's next key frame can be minutes
     * away. The bound is loose on purpose (shared CI machines): it catches
     * a missing request, not a slow one. */
    h.assert(p.outbound.video.pliCount >= 1,
             `the publisher received no PLI after the viewer joined (pliCount ${p.outbound.video.pliCount})`);
    h.assert(a.timing.postToFirstFrameMs < 3000,
             `the first frame took ${a.timing.postToFirstFrameMs} ms after the WHEP POST`);
    h.assert(b.inbound.video.frameWidth > 0 && b.inbound.video.frameHeight > 0,
             `viewer frame size is ${b.inbound.video.frameWidth}x${b.inbound.video.frameHeight}`);
    t.log(`viewer srtp ${b.transport.srtpCipher}, dtls ${b.transport.dtlsCipher} (${b.transport.tlsVersion}); ` +
          `publisher srtp ${p.transport.srtpCipher}, dtls ${p.transport.dtlsCipher} (${p.transport.tlsVersion})`);

    /* Hang up: viewer first, then publisher; each session URL twice. */
    const hangups = {};
    for (const [name, page] of [['viewer', view], ['publisher', pub]]) {
        const first = await page.evaluate(() => window.hangup());
        const firstDetail = await page.evaluate(() => window.lastHangup);
        h.assert(first === 200 || first === 204,
                 `${name} DELETE answered ${first}, expected 200 or 204: ${JSON.stringify(firstDetail)}`);
        const again = await page.evaluate(() => window.hangup());
        const againDetail = await page.evaluate(() => window.lastHangup);
        h.assert(again === first,
                 `${name} second DELETE answered ${again} ${JSON.stringify(againDetail)}, ` +
                 `expected ${first} like the first: DELETE is idempotent`);
        hangups[name] = [first, again];
        t.log(`${name} DELETE → ${first}, again → ${again}`);
    }

    const health = await httpGet(`${srv.url}/healthz`, 2000);
    h.assert(health.status === 200, `GET /healthz after the run answered ${health.status}`);
    await browser.close();
    await srv.stop(); /* throws if medrelay crashed or stopped badly */

    const summary = {
        test: 'whip_whep_chromium',
        result: 'pass',
        chromium: browser.version,
        viewer: {
            srtpCipher: b.transport.srtpCipher,
            dtlsCipher: b.transport.dtlsCipher,
            tlsVersion: b.transport.tlsVersion,
            videoCodec: b.inbound.video.codec,
            audioCodec: b.inbound.audio.codec,
            frame: `${b.inbound.video.frameWidth}x${b.inbound.video.frameHeight}`,
            framesDecoded: b.inbound.video.framesDecoded,
            audioPacketsReceived: b.inbound.audio.packetsReceived,
            packetsLost: b.inbound.video.packetsLost + b.inbound.audio.packetsLost,
            candidatePair: `${b.candidatePair.local} <-> ${b.candidatePair.remote}`,
        },
        publisher: {
            srtpCipher: p.transport.srtpCipher,
            dtlsCipher: p.transport.dtlsCipher,
            tlsVersion: p.transport.tlsVersion,
            videoPacketsSent: p.outbound.video.packetsSent,
            audioPacketsSent: p.outbound.audio.packetsSent,
            audioCodec: p.outbound.audio.codec,
            pliReceived: p.outbound.video.pliCount,
        },
        whepPostToFirstFrameMs: a.timing.postToFirstFrameMs,
        deletes: hangups,
    };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 90000 });
