#!/usr/bin/env node
'use strict';
/*
 * aiortc → medrelay → Chromium: an independent WebRTC stack (aiortc 1.4,
 * Python) publishes over WHIP; a headless Chromium page watches over WHEP.
 * aiortc offers only AES_CM_128_HMAC_SHA1_80, so this covers the non-GCM
 * SRTP path and a second SDP dialect (video first, per-section ICE
 * credentials under BUNDLE, no trickle). Runs once with VP8 and once with
 * H.264 (packetization-mode 1).
 *
 * Asserts for each codec: the viewer decodes frames of the expected codec
 * and size and receives audio; the relay's publisher leg negotiated
 * SRTP_AES128_CM_SHA1_80; aiortc stays connected and its DELETE answers
 * 200/204; the viewer's DELETE too.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/aiortc_chromium.test.js
 */
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');

const ROOM = 'township-3';
const PUBLISH_SECONDS = 14;
const PYTHON = '/usr/bin/python3'; /* Debian's: it sees python3-aiortc */

/* Starts the aiortc publisher; resolves its JSON events as they arrive. */
function startAiortc(t, url, token, codec) {
    const script = path.join(__dirname, 'aiortc_whip_publish.py');
    const proc = spawn(PYTHON, [script, url, token, String(PUBLISH_SECONDS), codec],
                       { stdio: ['ignore', 'pipe', 'pipe'] });
    const events = [];
    const waiters = [];
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
        let ev;
        try { ev = JSON.parse(line); } catch (_) { return; }
        events.push(ev);
        waiters.splice(0).forEach((w) => w());
    });
    const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    t.onCleanup(`aiortc ${codec}`, () => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
    t.addFailureInfo(() => `--- aiortc (${codec}) stderr:\n${stderr.slice(-3000)}\n---`);
    const next = async (name, timeoutMs) => h.waitFor(`aiortc event "${name}"`, () => {
        const ev = events.find((e) => e.event === name || e.error);
        if (ev && ev.error)
            throw new h.TestFailure(`aiortc: ${JSON.stringify(ev)}`);
        return ev;
    }, { timeoutMs, intervalMs: 100 });
    return { proc, next, exited };
}

async function runCodec(t, srv, browser, web, codec, expectMime) {
    const stream = `cam-${codec}`;
    const pub = startAiortc(t, `${srv.url}/whip/${ROOM}/${stream}`,
                            srv.token({ room: ROOM, role: 'clinic', name: `aiortc-${codec}` }), codec);
    const published = await pub.next('published', 20000);
    t.log(`aiortc (${codec}) published: ${published.location}`);

    const view = await browser.newPage(`whep-${codec}`);
    await view.goto(`${web.url}/whep.html`);
    await view.evaluate((o) => window.start(o), {
        url: `${srv.url}/whep/${ROOM}/${stream}`,
        token: srv.token({ room: ROOM, role: 'expert', name: `expert-${codec}` }),
    });
    const stats = () => view.evaluate(() => window.stats());
    const a = await h.waitFor(`the viewer to decode ${codec} from aiortc`, async () => {
        const s = await stats();
        return s.inbound.video.framesDecoded > 0 && s;
    }, { timeoutMs: 15000 });
    await h.sleep(1500);
    const b = await stats();
    await view.screenshot({ path: path.join(t.dir, `whep-${codec}.png`) });
    h.assert(b.inbound.video.framesDecoded > a.inbound.video.framesDecoded,
             `${codec}: framesDecoded did not climb (${a.inbound.video.framesDecoded} → ${b.inbound.video.framesDecoded})`);
    h.assert(b.inbound.audio.packetsReceived > a.inbound.audio.packetsReceived,
             `${codec}: audio packetsReceived did not climb`);
    h.assert(String(b.inbound.video.codec).toLowerCase().replace('video/', '') === expectMime,
             `${codec}: the viewer decodes ${b.inbound.video.codec}, expected ${expectMime}`);
    h.assert(b.inbound.video.frameWidth === 320 && b.inbound.video.frameHeight === 240,
             `${codec}: frame ${b.inbound.video.frameWidth}x${b.inbound.video.frameHeight}, expected 320x240`);

    const del = await view.evaluate(() => window.hangup());
    h.assert(del === 200 || del === 204, `${codec}: viewer DELETE answered ${del}`);
    await view.close();
    const done = await pub.next('done', (PUBLISH_SECONDS + 15) * 1000);
    h.assert(done.state === 'connected', `${codec}: aiortc ended in state ${done.state}`);
    h.assert(done.delete === 200 || done.delete === 204, `${codec}: aiortc DELETE answered ${done.delete}`);
    h.assert((await pub.exited) === 0, `${codec}: the aiortc publisher exited non-zero`);
    return {
        codec: b.inbound.video.codec,
        framesDecoded: b.inbound.video.framesDecoded,
        audioPacketsReceived: b.inbound.audio.packetsReceived,
        viewerSrtp: b.transport.srtpCipher,
        postToFirstFrameMs: a.timing.postToFirstFrameMs,
    };
}

h.main('aiortc_chromium', async (t) => {
    const srv = await serverFor(t);
    const web = await webFor(t);
    const browser = await chromiumFor(t);

    const results = {};
    results.vp8 = await runCodec(t, srv, browser, web, 'vp8', 'vp8');
    results.h264 = await runCodec(t, srv, browser, web, 'h264', 'h264');

    /* The relay logs each leg's SRTP profile when it becomes secure. */
    const logText = fs.readFileSync(srv.logPath, 'utf8');
    const aesCm = (logText.match(/publisher \w+: secure after \d+ ms \(SRTP_AES128_CM_SHA1_80/g) || []).length;
    h.assert(aesCm === 2, `expected both aiortc legs on SRTP_AES128_CM_SHA1_80, the log shows ${aesCm}`);

    await browser.close();
    await srv.stop();
    const summary = { test: 'aiortc_chromium', result: 'pass', publisherSrtp: 'SRTP_AES128_CM_SHA1_80', ...results };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 120000 });
