#!/usr/bin/env node
'use strict';
/*
 * Self-test of the interop harness, no server needed: in one Chromium page,
 * two RTCPeerConnections with the fake camera and microphone connect to
 * each other, and the shared stats summary (pages/stats.js, the code the
 * WHIP/WHEP test asserts on) must show decoded frames climbing, audio
 * packets climbing and an SRTP cipher. If this fails, fix the machine or
 * the harness before blaming medrelay.
 *
 *   node tests/interop/selftest_loopback.test.js
 */
const path = require('path');
const h = require('./lib/harness');
const { webFor, chromiumFor } = require('./lib/stack');

h.main('selftest_loopback', async (t) => {
    const web = await webFor(t);

    const browser = await chromiumFor(t);
    const page = await browser.newPage('loopback');
    t.addFailureInfo(() => `--- loopback page console:\n${browser.consoleTail('loopback')}\n---`);

    await page.goto(`${web.url}/loopback.html`);
    const info = await page.evaluate(() => window.runLoopback({ video: { width: 320, height: 240, frameRate: 15 } }));
    t.log(`loopback connected in-page: ${info.offerCandidates} offer / ${info.answerCandidates} answer candidates`);
    h.assert(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 /m.test(info.offer),
             'the offer has no 127.0.0.1 UDP host candidate (is --allow-loopback-in-peer-connection set? ' +
             'without media permission candidates hide behind mDNS names)');
    h.assert(!/\.local /.test(info.offer), 'the offer has mDNS (.local) candidates: media permission was not granted');

    const stats = () => page.evaluate(() => window.stats());
    const first = await h.waitFor('the receiver to decode a frame',
                                  async () => { const s = await stats(); return s.inbound.video.framesDecoded > 0 && s; },
                                  { timeoutMs: 15000, intervalMs: 100, describeLast: () => '' });
    await h.sleep(1000);
    const second = await stats();
    const sender = await page.evaluate(() => window.senderStats());
    await page.screenshot({ path: path.join(t.dir, 'loopback.png') });

    h.assert(second.inbound.video.framesDecoded > first.inbound.video.framesDecoded,
             `framesDecoded did not climb: ${first.inbound.video.framesDecoded} → ${second.inbound.video.framesDecoded}`);
    h.assert(second.inbound.audio.packetsReceived > first.inbound.audio.packetsReceived,
             `audio packetsReceived did not climb: ${first.inbound.audio.packetsReceived} → ${second.inbound.audio.packetsReceived}`);
    h.assert(second.transport.srtpCipher, `no srtpCipher in the receiver's transport stats: ${JSON.stringify(second.transport)}`);
    h.assert(second.transport.dtlsCipher, `no dtlsCipher in the receiver's transport stats: ${JSON.stringify(second.transport)}`);
    h.assert(second.candidatePair.state === 'succeeded',
             `selected candidate pair is ${JSON.stringify(second.candidatePair)}`);
    h.assert(sender.outbound.video.packetsSent > 0 && sender.outbound.audio.packetsSent > 0,
             `sender stats show nothing sent: ${JSON.stringify(sender.outbound)}`);
    h.assert(second.inbound.video.frameWidth > 0 && second.inbound.video.frameWidth <= 640,
             `unexpected decoded width ${second.inbound.video.frameWidth} (asked for 320x240)`);

    const summary = {
        test: 'selftest_loopback',
        chromium: browser.version,
        srtpCipher: second.transport.srtpCipher,
        dtlsCipher: second.transport.dtlsCipher,
        tlsVersion: second.transport.tlsVersion,
        videoCodec: second.inbound.video.codec,
        audioCodec: second.inbound.audio.codec,
        frame: `${second.inbound.video.frameWidth}x${second.inbound.video.frameHeight}`,
        framesDecoded: second.inbound.video.framesDecoded,
        audioPacketsReceived: second.inbound.audio.packetsReceived,
        startToFirstFrameMs: second.timing.startToFirstFrameMs,
        candidatePair: `${second.candidatePair.local} <-> ${second.candidatePair.remote}`,
    };
    console.log(JSON.stringify(summary));
}, { watchdogMs: 60000 });
