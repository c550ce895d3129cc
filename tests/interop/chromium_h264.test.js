#!/usr/bin/env node
'use strict';
/*
 * Chromium publishes H.264 only → medrelay → a Chromium viewer with its
 * default offer (VP8 first, several H.264 profiles after), so the relay must
 * pick, from the viewer's own offer, the H.264 payload type that carries the
 * published stream (packetization-mode 1, a compatible profile).
 *
 * The publisher's video transceiver gets setCodecPreferences() with the
 * H.264 codecs of packetization-mode 1 that the browser can both send and
 * receive, 42e01f (constrained baseline 3.1) first (pages/client.js,
 * opts.videoCodec). If this Chromium cannot send H.264 (no OpenH264 and no
 * hardware encoder), the test FAILS and says so, with the browser's
 * capabilities: it never passes without having run.
 *
 * Asserts: the publisher's offer carries only H.264 (mode 1) on video and
 * the relay's answer picks one of them; the publisher encodes and sends
 * video/H264; the relay's answer to the viewer has H.264 on a payload type
 * of the viewer's offer, with packetization-mode=1; the viewer decodes H264
 * at the publisher's size and its frames climb; audio climbs; the first
 * frame arrives within 4 s of the WHEP POST (the relay asks the publisher
 * for a key frame when the viewer joins; without that, Chromium's next
 * H.264 IDR can be minutes away); DELETEs answer 200/204.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/chromium_h264.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');
const { httpGet } = require('./lib/server');
const { mediaSection, fmtpParam } = require('./lib/sdp');

const ROOM = 'ward-4';
const STREAM = 'endoscope';
const MEDIA_TIMEOUT_MS = 15000;
/* "Within a few seconds": the whip_whep_chromium test sees ~0.5-0.7 s for
 * VP8 on this machine; H.264 here ~0.5-1 s. 4 s leaves room for a loaded CI
 * machine yet fails when the join's key-frame request is missing. */
const FIRST_FRAME_LIMIT_MS = 4000;

function brief(s) {
    if (!s || !s.started)
        return 'not started';
    return JSON.stringify({
        connection: s.connectionState, ice: s.iceConnectionState, transport: s.transport,
        inbound: s.inbound, outbound: s.outbound, timing: s.timing,
    });
}

const isH264Mode1 = (c) => /^h264$/i.test(c.name) && fmtpParam(c.fmtp, 'packetization-mode') === '1';

h.main('chromium_h264', async (t) => {
    const srv = await serverFor(t);

    const web = await webFor(t);

    const browser = await chromiumFor(t);
    const pub = await browser.newPage('whip');
    const view = await browser.newPage('whep');
    t.addFailureInfo(() => `--- publisher page console:\n${browser.consoleTail('whip')}\n---`);
    t.addFailureInfo(() => `--- viewer page console:\n${browser.consoleTail('whep')}\n---`);
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

    /* Can this Chromium send H.264 at all? Find out for certain, and fail
     * (not skip) with the evidence when it cannot. */
    const caps = await pub.evaluate(() => window.videoCodecs());
    fs.writeFileSync(path.join(t.dir, 'video-capabilities.json'), JSON.stringify(caps, null, 2) + '\n');
    const sendH264 = caps.send.filter((c) => /^video\/H264 /i.test(c) && /packetization-mode=1/.test(c));
    t.log(`RTCRtpSender H.264 (packetization-mode=1): ${sendH264.join(' | ') || 'none'}`);
    h.assert(sendH264.length > 0,
             `Chromium ${browser.version} cannot send H.264 with packetization-mode=1 here ` +
             `(no OpenH264 and no hardware encoder?): RTCRtpSender.getCapabilities('video') = ` +
             `[${caps.send.join(', ')}]. This test needs an H.264 encoder in the browser.`);

    /* Publisher, H.264 only. */
    const pubToken = srv.token({ room: ROOM, role: 'clinic', name: 'scope-cart' });
    const viewToken = srv.token({ room: ROOM, role: 'viewer', name: 'gi-consultant' });
    const whipUrl = `${srv.url}/whip/${ROOM}/${STREAM}`;
    try {
        await pub.evaluate((o) => window.start(o),
                           { url: whipUrl, token: pubToken, videoCodec: 'H264', h264Profile: '42e01f' });
    } catch (e) {
        throw new h.TestFailure(`WHIP publish with H.264 preferences failed: ${e.message}`);
    }
    const pubSdp = await pub.evaluate(() => window.sdp());
    fs.writeFileSync(path.join(t.dir, 'whip-offer.sdp'), pubSdp.offer);
    fs.writeFileSync(path.join(t.dir, 'whip-answer.sdp'), pubSdp.answer);
    const pubOfferV = mediaSection(pubSdp.offer, 'video');
    const pubAnswerV = mediaSection(pubSdp.answer, 'video');
    h.assert(pubOfferV && pubOfferV.codecs.length > 0, 'the publisher offer has no video section');
    const offered = pubOfferV.codecs.map((c) => `${c.pt} ${c.name} ${c.fmtp}`);
    h.assert(pubOfferV.codecs.every(isH264Mode1),
             `setCodecPreferences did not take: the publisher offers video [${offered.join(' | ')}], ` +
             'expected only H264 with packetization-mode=1');
    h.assert(fmtpParam(pubOfferV.codecs[0].fmtp, 'profile-level-id').toLowerCase() === '42e01f',
             `the publisher's first H.264 codec is not profile 42e01f: ${offered[0]}`);
    h.assert(pubAnswerV && pubAnswerV.port !== 0 && pubAnswerV.codecs.length > 0,
             `the relay rejected the H.264-only video section:\n${pubSdp.answer}`);
    const pubCodec = pubAnswerV.codecs[0];
    h.assert(isH264Mode1(pubCodec) && pubOfferV.payloads.includes(pubCodec.pt),
             `the relay's WHIP answer picked ${pubCodec.pt} ${pubCodec.name} ${pubCodec.fmtp}, ` +
             `expected one of the offered H.264 payload types ${pubOfferV.payloads.join(',')}`);
    t.log(`WHIP: offered ${pubOfferV.codecs.length} H.264 payload types (first ${offered[0]}); ` +
          `relay answered ${pubCodec.pt} ${pubCodec.name} ${pubCodec.fmtp}`);

    const pubStats = () => pub.evaluate(() => window.stats());
    t.addFailureInfo(async () => `--- publisher stats: ${brief(await pubStats())}`);
    const p0 = await h.waitFor('the publisher to connect and send H.264 video and audio', async () => {
        const s = await pubStats();
        return s.connectionState === 'connected' && s.outbound.video.packetsSent > 0 &&
               s.outbound.video.framesEncoded > 0 && s.outbound.audio.packetsSent > 0 && s;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, describeLast: brief });
    h.assert(p0.outbound.video.codec === 'H264',
             `the publisher sends ${p0.outbound.video.codec || '(unknown codec)'}, expected H264`);
    t.log(`publisher sending H264 (${p0.outbound.video.codecFmtp}), encoder ` +
          `${p0.outbound.video.encoderImplementation || '(not exposed)'}, ` +
          `${p0.outbound.video.frameWidth}x${p0.outbound.video.frameHeight}`);

    /* Viewer, default offer. */
    const whepUrl = `${srv.url}/whep/${ROOM}/${STREAM}`;
    try {
        await view.evaluate((o) => window.start(o), { url: whepUrl, token: viewToken });
    } catch (e) {
        throw new h.TestFailure(`WHEP subscribe failed: ${e.message}`);
    }
    const viewSdp = await view.evaluate(() => window.sdp());
    fs.writeFileSync(path.join(t.dir, 'whep-offer.sdp'), viewSdp.offer);
    fs.writeFileSync(path.join(t.dir, 'whep-answer.sdp'), viewSdp.answer);
    const viewOfferV = mediaSection(viewSdp.offer, 'video');
    const viewAnswerV = mediaSection(viewSdp.answer, 'video');
    h.assert(viewOfferV && !isH264Mode1(viewOfferV.codecs[0]),
             `the viewer's offer was meant to be Chromium's default (VP8 first), but starts with ` +
             `${viewOfferV && JSON.stringify(viewOfferV.codecs[0])}`);
    h.assert(viewAnswerV && viewAnswerV.port !== 0 && viewAnswerV.codecs.length > 0,
             `the relay rejected the viewer's video section:\n${viewSdp.answer}`);
    const viewCodec = viewAnswerV.codecs[0];
    const viewOffered = viewOfferV.codecs.find((c) => c.pt === viewCodec.pt);
    h.assert(isH264Mode1(viewCodec),
             `the relay's WHEP answer picked ${viewCodec.pt} ${viewCodec.name} ${viewCodec.fmtp}; ` +
             'expected H264 packetization-mode=1 (the published codec)');
    h.assert(viewOffered && isH264Mode1(viewOffered),
             `the relay answered the viewer with payload type ${viewCodec.pt}, which the viewer did not ` +
             `offer as H.264 mode 1 (offered: ${JSON.stringify(viewOffered)})`);
    /* The viewer offers the publisher's exact profile (Chromium offers 42e01f
     * by default): a relay that matches profiles picks that payload type,
     * not merely the viewer's first H.264 (42001f, plain baseline). */
    const profileOf = (c) => fmtpParam(c.fmtp, 'profile-level-id').toLowerCase().slice(0, 4);
    const sameProfile = viewOfferV.codecs.filter((c) => isH264Mode1(c) && profileOf(c) === profileOf(pubCodec));
    if (sameProfile.length) {
        h.assert(profileOf(viewCodec) === profileOf(pubCodec),
                 `the viewer offered the published H.264 profile ${profileOf(pubCodec)} on payload type(s) ` +
                 `${sameProfile.map((c) => c.pt).join(',')}, but the relay answered ${viewCodec.pt} ` +
                 `(${viewCodec.fmtp})`);
    }
    const viewH264Offered = viewOfferV.codecs.filter(isH264Mode1)
        .map((c) => `${c.pt}:${fmtpParam(c.fmtp, 'profile-level-id')}`);
    t.log(`WHEP: viewer offered H.264 mode 1 as [${viewH264Offered.join(' ')}]; relay answered ` +
          `${viewCodec.pt} ${viewCodec.name} ${viewCodec.fmtp}`);

    const viewStats = () => view.evaluate(() => window.stats());
    t.addFailureInfo(async () => `--- viewer stats: ${brief(await viewStats())}`);
    const a = await h.waitFor('the viewer to decode an H.264 frame', async () => {
        const s = await viewStats();
        return s.inbound.video.framesDecoded > 0 && s.timing.firstFrameAt > 0 && s;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, describeLast: brief });
    t.log(`viewer decoded its first frame ${a.timing.postToFirstFrameMs} ms after the WHEP POST`);
    await h.sleep(1500);
    const b = await viewStats();
    const p = await pubStats();
    await pub.screenshot({ path: path.join(t.dir, 'whip.png') });
    await view.screenshot({ path: path.join(t.dir, 'whep.png') });

    h.assert(b.inbound.video.codec === 'H264', `the viewer decodes ${b.inbound.video.codec}, expected H264`);
    h.assert(p.outbound.video.codec === 'H264', `the publisher now sends ${p.outbound.video.codec}, expected H264`);
    h.assert(b.inbound.video.framesDecoded > a.inbound.video.framesDecoded,
             `viewer framesDecoded did not climb: ${a.inbound.video.framesDecoded} → ${b.inbound.video.framesDecoded}`);
    h.assert(b.inbound.audio.packetsReceived > a.inbound.audio.packetsReceived,
             `viewer audio packetsReceived did not climb: ${a.inbound.audio.packetsReceived} → ${b.inbound.audio.packetsReceived}`);
    h.assert(b.inbound.video.frameWidth === p.outbound.video.frameWidth &&
             b.inbound.video.frameHeight === p.outbound.video.frameHeight && b.inbound.video.frameWidth > 0,
             `the viewer decodes ${b.inbound.video.frameWidth}x${b.inbound.video.frameHeight}, the publisher ` +
             `sends ${p.outbound.video.frameWidth}x${p.outbound.video.frameHeight}`);
    h.assert(p.outbound.video.pliCount >= 1,
             `the publisher received no PLI after the viewer joined (pliCount ${p.outbound.video.pliCount})`);
    h.assert(a.timing.postToFirstFrameMs >= 0 && a.timing.postToFirstFrameMs < FIRST_FRAME_LIMIT_MS,
             `the first H.264 frame took ${a.timing.postToFirstFrameMs} ms after the WHEP POST ` +
             `(limit ${FIRST_FRAME_LIMIT_MS} ms)`);

    const deletes = {};
    for (const [name, page] of [['viewer', view], ['publisher', pub]]) {
        const st = await page.evaluate(() => window.hangup());
        const detail = await page.evaluate(() => window.lastHangup);
        h.assert(st === 200 || st === 204, `${name} DELETE answered ${st}: ${JSON.stringify(detail)}`);
        deletes[name] = st;
    }
    const health = await httpGet(`${srv.url}/healthz`, 2000);
    h.assert(health.status === 200, `GET /healthz after the run answered ${health.status}`);
    await browser.close();
    await srv.stop();

    const summary = {
        test: 'chromium_h264',
        result: 'pass',
        chromium: browser.version,
        publisher: {
            offeredH264: pubOfferV.codecs.map((c) => `${c.pt} ${c.fmtp}`),
            answer: `${pubCodec.pt} ${pubCodec.name} ${pubCodec.fmtp}`,
            profileLevelId: fmtpParam(pubCodec.fmtp, 'profile-level-id'),
            statsCodec: `${p.outbound.video.codec} ${p.outbound.video.codecFmtp}`,
            encoder: p.outbound.video.encoderImplementation,
            frame: `${p.outbound.video.frameWidth}x${p.outbound.video.frameHeight}`,
            framesEncoded: p.outbound.video.framesEncoded,
            pliReceived: p.outbound.video.pliCount,
        },
        viewer: {
            offeredH264: viewH264Offered,
            answer: `${viewCodec.pt} ${viewCodec.name} ${viewCodec.fmtp}`,
            profileLevelId: fmtpParam(viewCodec.fmtp, 'profile-level-id'),
            statsCodec: `${b.inbound.video.codec} ${b.inbound.video.codecFmtp}`,
            decoder: b.inbound.video.decoderImplementation,
            frame: `${b.inbound.video.frameWidth}x${b.inbound.video.frameHeight}`,
            framesDecoded: b.inbound.video.framesDecoded,
            audioPacketsReceived: b.inbound.audio.packetsReceived,
            srtpCipher: b.transport.srtpCipher,
        },
        whepPostToFirstFrameMs: a.timing.postToFirstFrameMs,
        deletes,
    };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 90000 });
