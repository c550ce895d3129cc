#!/usr/bin/env node
'use strict';
/*
 * What real clients put on the wire through medrelay, for the benchmark's
 * `--client real` mode (tests/bench/README.md): a headless Chromium
 * publisher (WHIP; a Y4M file with sensor-like noise as its camera, so that
 * VP8 spends the bitrate a real camera makes it spend) and Chromium viewers
 * (WHEP), optionally also GStreamer webrtcbin viewers (gst_whep.py), while
 * the caller captures the media ports with tcpdump. analyze.py reads the
 * capture.
 *
 * Run it in a network namespace of its own, so that the capture holds no
 * one else's traffic (capture.sh does: namespace, tcpdump, this, analyze).
 *
 *   node capture.js --seconds 60 --viewers 2 --gst-viewers 1 --out DIR
 *
 * Needs the interop tests' playwright-core (npm ci --prefix tests/interop),
 * Chromium and build/medrelay (MEDRELAY_BIN).
 */
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const interop = path.resolve(__dirname, '..', '..', 'interop', 'lib');
const h = require(path.join(interop, 'harness'));
const { serverFor, chromiumFor } = require(path.join(interop, 'stack'));

function arg(name, dflt) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const SECONDS = Number(arg('seconds', 60));
const VIEWERS = Number(arg('viewers', 2));
const GST_VIEWERS = Number(arg('gst-viewers', 0));
const Y4M = arg('y4m', '');
const WIDTH = Number(arg('width', 1280));
const HEIGHT = Number(arg('height', 720));
const MAX_KBPS = Number(arg('max-kbps', 2500));
const ROOM = 'capture';
const STREAM = 'cam';

/* Runs in the page: a WHIP or WHEP client (no trickle), answer applied. */
async function pageStart(o) {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    window.pc = pc;
    if (o.publish) {
        const stream = await navigator.mediaDevices.getUserMedia({
            audio: true,
            video: { width: { exact: o.width }, height: { exact: o.height }, frameRate: { exact: 30 } },
        });
        for (const t of stream.getTracks())
            pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
    } else {
        pc.addTransceiver('audio', { direction: 'recvonly' });
        pc.addTransceiver('video', { direction: 'recvonly' });
        pc.ontrack = (e) => {
            const v = document.createElement(e.track.kind);
            v.srcObject = new MediaStream([e.track]);
            v.autoplay = true;
            v.muted = true;
            document.body.appendChild(v);
        };
    }
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete')
            return resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 2000);
    });
    const res = await fetch(o.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${o.token}` },
        body: pc.localDescription.sdp,
    });
    const answer = await res.text();
    if (res.status !== 201)
        throw new Error(`POST ${o.url}: ${res.status} ${answer}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    if (o.publish && o.maxKbps) {
        const s = pc.getSenders().find((x) => x.track && x.track.kind === 'video');
        const p = s.getParameters();
        p.encodings[0].maxBitrate = o.maxKbps * 1000;
        await s.setParameters(p);
    }
    return { offer: pc.localDescription.sdp, answer };
}

/* Runs in the page: the stats that say what the encoder and the RTCP did. */
async function pageStats() {
    const out = {};
    (await window.pc.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp' || r.type === 'inbound-rtp' || r.type === 'remote-inbound-rtp' ||
            r.type === 'transport' || r.type === 'candidate-pair')
            out[`${r.type}:${r.kind || r.id}`] = r;
    });
    return out;
}

h.main('bench_clients_capture', async (t) => {
    const out = arg('out', t.dir);
    const srv = await serverFor(t, { config: { recording: { policy: 'never' } } });
    const extra = [`--unsafely-treat-insecure-origin-as-secure=${srv.url}`];
    if (Y4M)
        extra.push(`--use-file-for-fake-video-capture=${Y4M}`);
    const browser = await chromiumFor(t, { extraArgs: extra });
    const pubToken = srv.token({ room: ROOM, role: 'clinic', name: 'cap-pub' });
    const viewToken = srv.token({ room: ROOM, role: 'viewer', name: 'cap-view' });
    const pages = [];
    const pub = await browser.newPage('publisher');
    await pub.goto(`${srv.url}/`);
    const pubSdp = await pub.evaluate(pageStart, {
        publish: true, url: `${srv.url}/whip/${ROOM}/${STREAM}`, token: pubToken,
        width: WIDTH, height: HEIGHT, maxKbps: MAX_KBPS,
    });
    fs.writeFileSync(path.join(out, 'publisher.sdp.json'), JSON.stringify(pubSdp, null, 1));
    pages.push(['publisher', pub]);
    for (let i = 0; i < VIEWERS; i++) {
        const v = await browser.newPage(`viewer${i}`);
        await v.goto(`${srv.url}/`);
        const sdp = await v.evaluate(pageStart, { publish: false, url: `${srv.url}/whep/${ROOM}/${STREAM}`,
                                                  token: viewToken });
        fs.writeFileSync(path.join(out, `viewer${i}.sdp.json`), JSON.stringify(sdp, null, 1));
        pages.push([`viewer${i}`, v]);
    }
    const gst = [];
    for (let i = 0; i < GST_VIEWERS; i++) {
        const p = spawn('/usr/bin/python3', [path.join(__dirname, 'gst_whep.py'), `${srv.url}/whep/${ROOM}/${STREAM}`,
                                             viewToken, String(SECONDS + 5), path.join(out, `gst${i}.sdp.json`)],
                        { stdio: ['ignore', 'inherit', 'inherit'] });
        t.onCleanup(`gst${i}`, () => p.kill('SIGKILL'));
        gst.push(p);
    }
    /* Stats every 5 s: bitrate, frames, key frames, RTCP counters. */
    const statsLog = fs.createWriteStream(path.join(out, 'stats.jsonl'));
    const t0 = Date.now();
    while (Date.now() - t0 < SECONDS * 1000) {
        await h.sleep(5000);
        for (const [name, page] of pages) {
            const s = await page.evaluate(pageStats);
            statsLog.write(JSON.stringify({ t: (Date.now() - t0) / 1000, name, s }) + '\n');
        }
        const o = (await pub.evaluate(pageStats))['outbound-rtp:video'] || {};
        h.log(`publisher: ${o.frameWidth}x${o.frameHeight} ${o.framesPerSecond} fps, target ` +
              `${Math.round((o.targetBitrate || 0) / 1000)} kbit/s, ${o.keyFramesEncoded} key frames, ` +
              `quality limited by ${o.qualityLimitationReason}`);
    }
    statsLog.end();
}, { watchdogMs: (SECONDS + 90) * 1000 });
