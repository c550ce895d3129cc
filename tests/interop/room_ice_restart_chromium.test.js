#!/usr/bin/env node
'use strict';
/*
 * ICE restart of a room subscription (docs/protocol.md, `subscribe` with
 * `iceRestart: true`): an expert's network changes, its console asks the
 * relay to restart ICE on the one subscriber RTCPeerConnection it has; the
 * relay offers new ICE credentials on the same connection, the browser
 * answers with its own, and the video carries on: same connection, same
 * tracks and SSRCs, no new DTLS handshake.
 *
 * A Chromium WHIP publisher (pages/whip.html) publishes `cam` into a room;
 * a Chromium page (pages/room_sub.html) joins over /ws as an expert,
 * subscribes and decodes. Asserts:
 *  - a normal update offer (`subscribe` again, no restart) keeps the ICE
 *    credentials, and an answer to it whose a=ice-ufrag was changed is
 *    refused (`error`, code bad-sdp, request answer) while the browser's
 *    own answer is then accepted and the video goes on;
 *  - `subscribe` with `iceRestart: true` gets an `offer` with `new: false`,
 *    another a=ice-ufrag and a=ice-pwd than every earlier offer, the same
 *    DTLS fingerprint and the same sections (mids, kinds, a=ssrc, msid);
 *  - the page applies it to the same RTCPeerConnection, its answer carries
 *    new credentials of its own and is accepted (`ok`, no `error`); no
 *    track event, no new transceiver;
 *  - within 3 s of that `ok` the transport runs on the new local ufrag
 *    (getStats transport.iceLocalUsernameFragment; selected pair's local
 *    and remote candidates of the new generation when Chromium names their
 *    ufrag), selectedCandidatePairChanges grew, and framesDecoded climbs on
 *    the same inbound-rtp SSRC; packetsLost does not jump (the relay's
 *    sequence numbers carry on);
 *  - DTLS: the transport's dtlsState is `connected` in every sample taken
 *    through the restart, the RTCDtlsTransport never changed state, the
 *    relay's certificate is the same, and the relay logged one DTLS
 *    completion ("secure after") for this connection and one ICE restart;
 *  - after the restart, an update's answer with the browser's new ufrag is
 *    accepted and one with its old ufrag is refused (the relay took the new
 *    credentials).
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/room_ice_restart_chromium.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');

const ROOM = 'ward-11';
const STREAM = 'cam';
const BACK_WITHIN_MS = 3000;

/* --- SDP ---------------------------------------------------------------- */

function attr(sdp, name) {
    const m = new RegExp(`^a=${name}:(.*)$`, 'm').exec(sdp || '');
    return m ? m[1].trim() : '';
}

function allAttr(sdp, name) {
    return [...new Set((String(sdp || '').match(new RegExp(`^a=${name}:.*$`, 'gm')) || [])
        .map((l) => l.slice(name.length + 3).trim()))];
}

/* Every m-section: kind, port, mid, direction, msid, a=ssrc values. */
function sections(sdp) {
    const out = [];
    let cur = null;
    for (const line of String(sdp || '').split(/\r?\n/)) {
        if (line.startsWith('m=')) {
            const p = line.slice(2).split(' ');
            cur = { kind: p[0], port: Number(p[1]), mid: '', direction: 'sendrecv', msid: '', ssrcs: [] };
            out.push(cur);
            continue;
        }
        if (!cur)
            continue;
        let m;
        if ((m = /^a=mid:(.*)$/.exec(line)))
            cur.mid = m[1].trim();
        else if ((m = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line)))
            cur.direction = m[1];
        else if ((m = /^a=msid:(.*)$/.exec(line)))
            cur.msid = m[1].trim();
        else if ((m = /^a=ssrc:(\d+) /.exec(line)) && !cur.ssrcs.includes(Number(m[1])))
            cur.ssrcs.push(Number(m[1]));
    }
    return out;
}

function sectionsKey(sdp) {
    return JSON.stringify(sections(sdp).map((s) => [s.kind, s.port === 0 ? 0 : 1, s.mid, s.direction, s.msid, s.ssrcs]));
}

/* The answer with another ICE ufrag on every a=ice-ufrag line. */
function withUfrag(sdp, ufrag) {
    return sdp.replace(/^a=ice-ufrag:.*$/gm, `a=ice-ufrag:${ufrag}`);
}

/* --- The page ------------------------------------------------------------ */

function videoOf(snap) {
    const v = snap.inbound.filter((s) => s.kind === 'video');
    return { n: v.length, ssrc: v[0] ? v[0].ssrc : 0, frames: v.reduce((a, s) => a + s.framesDecoded, 0),
             lost: v.reduce((a, s) => a + s.packetsLost, 0), trackIdentifier: v[0] ? v[0].trackIdentifier : '',
             width: v[0] ? v[0].frameWidth : 0 };
}

function transportOf(snap) {
    return snap.transports.find((x) => x.selectedCandidatePairId) || snap.transports[0] || {};
}

h.main('room_ice_restart_chromium', async (t) => {
    const srv = await serverFor(t);
    const web = await webFor(t);
    const browser = await chromiumFor(t);
    const summary = { test: 'room_ice_restart_chromium' };
    const sdps = [];
    const saveSdp = (name, sdp) => {
        sdps.push(name);
        fs.writeFileSync(path.join(t.dir, `${name}.sdp`), sdp);
    };

    /* The publisher: WHIP, as a clinic's encoder or console. */
    const pub = await browser.newPage('whip');
    t.addFailureInfo(() => `--- whip console:\n${browser.consoleTail('whip', 15)}`);
    await pub.goto(`${web.url}/whip.html`);
    await pub.evaluate((o) => window.start(o), {
        url: `${srv.url}/whip/${ROOM}/${STREAM}`, token: srv.token({ room: ROOM, role: 'clinic', name: 'clinic-11' }),
        video: { width: 320, height: 240, frameRate: 15 },
    });
    await h.waitFor('the publisher to connect', async () =>
        (await pub.evaluate(() => window.stats())).connectionState === 'connected', { timeoutMs: 15000 });

    /* The expert: the room protocol over /ws. */
    const page = await browser.newPage('expert');
    t.addFailureInfo(() => `--- expert console:\n${browser.consoleTail('expert', 30)}`);
    const dumpWs = async () => {
        try {
            const log = await page.evaluate(() => window.wsLog());
            fs.writeFileSync(path.join(t.dir, 'ws.json'), JSON.stringify(log, null, 1) + '\n');
            return log;
        } catch (e) {
            return [];
        }
    };
    t.addFailureInfo(async () => {
        const log = await dumpWs();
        const short = log.slice(-25).map((e) => `${e.at} ${e.dir} ${JSON.stringify(e.msg).slice(0, 300)}`);
        let snap = '';
        try {
            snap = JSON.stringify(await page.evaluate(() => window.snapshot()));
        } catch (_) { /* page gone */ }
        return `--- expert WebSocket, last messages (all in ws.json):\n${short.join('\n')}\n--- expert snapshot: ${snap}`;
    });
    await page.goto(`${web.url}/room_sub.html`);
    const joined = await page.evaluate((o) => window.connect(o), {
        wsUrl: `${srv.url.replace(/^http/, 'ws')}/ws`, token: srv.token({ room: ROOM, role: 'expert', name: 'dr-li' }),
    });
    h.assert(joined.room && joined.room.streams.some((s) => s.name === STREAM),
             `joined, but the room state has no stream ${STREAM}: ${JSON.stringify(joined.room)}`);

    const msgs = () => page.evaluate(() => window.messages(0));
    /* The first message answering request id (its "re"). */
    const reply = (id, what, timeoutMs = 8000) => h.waitFor(what, async () =>
        (await msgs()).find((e) => e.msg.re === id), { timeoutMs });
    const snap = () => page.evaluate(() => window.snapshot());
    const applyOffer = (index, send, id) => page.evaluate((a) => window.applyOffer(a), { index, send, id });

    /* Subscribe; the first offer makes the connection. */
    await page.evaluate(() => window.request({ type: 'subscribe', id: 'sub-1' }));
    const first = await reply('sub-1', 'the first offer');
    h.assert(first.msg.type === 'offer' && first.msg.pc === 'subscriber' && first.msg.new === true,
             `subscribe answered ${JSON.stringify(first.msg).slice(0, 300)}, expected a new subscriber offer`);
    saveSdp('offer-1', first.msg.sdp);
    const a1 = await applyOffer(first.i, true, 'ans-1');
    saveSdp('answer-1', a1.answer);
    const ok1 = await reply('ans-1', 'the reply to the first answer');
    h.assert(ok1.msg.type === 'ok', `the first answer was refused: ${JSON.stringify(ok1.msg)}`);
    const v0 = await h.waitFor('the expert decoding', async () => {
        const s = await snap();
        return s.connectionState === 'connected' && videoOf(s).frames > 10 && s;
    }, { timeoutMs: 15000 });
    const pcSerial = v0.pcSerial;
    const offered = sections(first.msg.sdp);
    const videoSec = offered.find((s) => s.kind === 'video' && s.port !== 0);
    h.assert(videoSec && videoSec.ssrcs.length, `the first offer has no live video section with a=ssrc:\n${first.msg.sdp}`);
    h.assert(videoSec.ssrcs.includes(videoOf(v0).ssrc),
             `the browser decodes SSRC ${videoOf(v0).ssrc}, the offer's video SSRCs are ${videoSec.ssrcs}`);
    const relayUfrag1 = attr(first.msg.sdp, 'ice-ufrag');
    const relayPwd1 = attr(first.msg.sdp, 'ice-pwd');
    const browserUfrag1 = attr(a1.answer, 'ice-ufrag');
    t.log(`decoding: ${videoOf(v0).frames} frames, SSRC ${videoOf(v0).ssrc}, relay ufrag ${relayUfrag1}, browser ufrag ${browserUfrag1}`);

    /* A normal update (no restart): same credentials; an answer that
     * changes its ufrag is refused, the browser's own is accepted. */
    await page.evaluate(() => window.request({ type: 'subscribe', id: 'sub-2' }));
    const upd = await reply('sub-2', 'the update offer');
    h.assert(upd.msg.type === 'offer' && upd.msg.new === false,
             `subscribe (again) answered ${JSON.stringify(upd.msg).slice(0, 300)}, expected an offer with new: false`);
    saveSdp('offer-2-update', upd.msg.sdp);
    h.assert(attr(upd.msg.sdp, 'ice-ufrag') === relayUfrag1 && attr(upd.msg.sdp, 'ice-pwd') === relayPwd1,
             `an update without iceRestart changed the relay's ICE credentials (${relayUfrag1} → ${attr(upd.msg.sdp, 'ice-ufrag')})`);
    const a2 = await applyOffer(upd.i, false, null);
    h.assert(a2.pcSerial === pcSerial, 'the update offer made a new RTCPeerConnection');
    const munged = withUfrag(a2.answer, `x${browserUfrag1}`.slice(0, 32));
    saveSdp('answer-2-munged', munged);
    await page.evaluate((s) => window.sendAnswer(s, 'ans-2-bad'), munged);
    const bad = await reply('ans-2-bad', 'the reply to an answer with a changed ice-ufrag');
    summary.refusedWithoutRestart = { code: bad.msg.code, detail: bad.msg.detail };
    h.assert(bad.msg.type === 'error',
             `an answer changing a=ice-ufrag without an ICE restart was accepted: ${JSON.stringify(bad.msg)}`);
    h.assert(bad.msg.code === 'bad-sdp' && bad.msg.request === 'answer',
             `the refusal is ${JSON.stringify(bad.msg)}, expected code bad-sdp for request answer`);
    t.log(`changed ufrag without a restart refused: ${bad.msg.code}: ${bad.msg.detail}`);
    saveSdp('answer-2', a2.answer);
    await page.evaluate((s) => window.sendAnswer(s, 'ans-2'), a2.answer);
    await page.evaluate(() => window.releaseCandidates());
    const ok2 = await reply('ans-2', 'the reply to the update\'s real answer');
    h.assert(ok2.msg.type === 'ok', `after the refusal, the browser's own answer was refused: ${JSON.stringify(ok2.msg)}`);
    const v1 = await h.waitFor('frames after the update', async () => {
        const s = await snap();
        return videoOf(s).frames > videoOf(v0).frames + 5 && s;
    }, { timeoutMs: 5000 });
    h.assert(transportOf(v1).iceLocalUsernameFragment === browserUfrag1,
             `the browser's ICE ufrag changed on an update: ${transportOf(v1).iceLocalUsernameFragment}`);

    /* The ICE restart. Sample the transport every 100 ms meanwhile. */
    const before = await snap();
    const tBefore = transportOf(before);
    h.assert(tBefore.dtlsState === 'connected', `DTLS is ${tBefore.dtlsState} before the restart`);
    const samples = [];
    let sampling = true;
    const sampler = (async () => {
        while (sampling) {
            try {
                const s = await snap();
                const tr = transportOf(s);
                samples.push({ at: s.at, dtlsState: tr.dtlsState, iceState: tr.iceState,
                               ufrag: tr.iceLocalUsernameFragment, frames: videoOf(s).frames,
                               dtls: s.dtls && s.dtls.state, pc: s.pcSerial });
            } catch (_) { /* page busy */ }
            await h.sleep(100);
        }
    })();
    const tAsk = Date.now();
    await page.evaluate(() => window.request({ type: 'subscribe', id: 'sub-3', iceRestart: true }));
    const rst = await reply('sub-3', 'the ICE restart offer');
    summary.restartOfferMs = Date.now() - tAsk;
    saveSdp('offer-3-restart', rst.msg.sdp || '');
    h.assert(rst.msg.type === 'offer' && rst.msg.pc === 'subscriber',
             `subscribe with iceRestart answered ${JSON.stringify(rst.msg).slice(0, 300)}, expected an offer`);
    h.assert(rst.msg.new === false, `the ICE restart offer says new: ${rst.msg.new}, expected false (same connection)`);
    const relayUfrag2 = attr(rst.msg.sdp, 'ice-ufrag');
    const relayPwd2 = attr(rst.msg.sdp, 'ice-pwd');
    h.assert(allAttr(rst.msg.sdp, 'ice-ufrag').length === 1 && allAttr(rst.msg.sdp, 'ice-pwd').length === 1,
             `the restart offer has several ICE credentials: ${allAttr(rst.msg.sdp, 'ice-ufrag')}`);
    h.assert(relayUfrag2 && relayUfrag2 !== relayUfrag1,
             `the ICE restart offer keeps the relay's ice-ufrag ${relayUfrag1} (no restart)`);
    h.assert(relayPwd2 && relayPwd2 !== relayPwd1, 'the ICE restart offer keeps the relay\'s ice-pwd');
    const origin = (sdp) => (/^o=\S+ (\d+) (\d+) /m.exec(sdp) || []).slice(1).map(BigInt);
    const [sid2, ver2] = origin(upd.msg.sdp);
    const [sid3, ver3] = origin(rst.msg.sdp);
    h.assert(sid3 === sid2 && ver3 > ver2,
             `the restart offer's o= line is not the same session with a higher version (${sid2} ${ver2} → ${sid3} ${ver3})`);
    h.assert(/^a=candidate:/m.test(rst.msg.sdp), 'the restart offer carries no candidate of the relay');
    h.assert(attr(rst.msg.sdp, 'fingerprint') === attr(first.msg.sdp, 'fingerprint'),
             `the DTLS fingerprint changed: ${attr(first.msg.sdp, 'fingerprint')} → ${attr(rst.msg.sdp, 'fingerprint')}`);
    h.assert(sectionsKey(upd.msg.sdp) === sectionsKey(first.msg.sdp),
             `the update offer's sections differ from the first offer's:\n` +
             `${JSON.stringify(sections(first.msg.sdp))}\n${JSON.stringify(sections(upd.msg.sdp))}`);
    h.assert(sectionsKey(rst.msg.sdp) === sectionsKey(upd.msg.sdp),
             `the restart offer's sections differ from the previous offer's:\n` +
             `before ${JSON.stringify(sections(upd.msg.sdp))}\nafter  ${JSON.stringify(sections(rst.msg.sdp))}`);
    h.assert(JSON.stringify(rst.msg.streams) === JSON.stringify(upd.msg.streams),
             `streams ${JSON.stringify(upd.msg.streams)} → ${JSON.stringify(rst.msg.streams)}`);

    const a3 = await applyOffer(rst.i, true, 'ans-3');
    saveSdp('answer-3-restart', a3.answer);
    h.assert(a3.pcSerial === pcSerial && !a3.fresh, 'the restart offer was applied to a new RTCPeerConnection');
    const browserUfrag2 = attr(a3.answer, 'ice-ufrag');
    h.assert(browserUfrag2 && browserUfrag2 !== browserUfrag1,
             `Chromium answered the restart offer with its old ufrag ${browserUfrag1}`);
    const ok3 = await reply('ans-3', 'the reply to the restart answer');
    const tOk = Date.now();
    h.assert(ok3.msg.type === 'ok', `the answer to the ICE restart offer was refused: ${JSON.stringify(ok3.msg)}`);
    const framesAtOk = videoOf(await snap()).frames;

    const back = await h.waitFor(`video on the new ICE credentials within ${BACK_WITHIN_MS} ms`, async () => {
        const s = await snap();
        const tr = transportOf(s);
        return tr.iceLocalUsernameFragment === browserUfrag2 && tr.iceState === 'connected' &&
            videoOf(s).frames > framesAtOk + 10 && s;
    }, { timeoutMs: BACK_WITHIN_MS, intervalMs: 100, describeLast: () => JSON.stringify(samples.slice(-3)) });
    summary.videoBackMs = Date.now() - tOk;
    /* A little longer, to see it keeps climbing and to sample DTLS. */
    await h.sleep(1000);
    sampling = false;
    await sampler;
    const after = await snap();
    fs.writeFileSync(path.join(t.dir, 'samples.json'), JSON.stringify(samples, null, 1) + '\n');

    const tAfter = transportOf(after);
    const vb = videoOf(before);
    const va = videoOf(after);
    h.assert(after.pcSerial === pcSerial, 'the page is on another RTCPeerConnection after the restart');
    h.assert(va.frames > videoOf(back).frames, `framesDecoded stopped after coming back (${videoOf(back).frames} → ${va.frames})`);
    h.assert(va.n === 1 && va.ssrc === vb.ssrc, `inbound video SSRC ${vb.ssrc} before, ${va.n} stream(s) SSRC ${va.ssrc} after`);
    h.assert(va.trackIdentifier === vb.trackIdentifier, `another video track: ${vb.trackIdentifier} → ${va.trackIdentifier}`);
    h.assert(va.lost - vb.lost < 200,
             `packetsLost jumped by ${va.lost - vb.lost} across the restart (sequence numbers did not carry on?)`);
    h.assert(JSON.stringify(after.transceivers.map((x) => [x.mid, x.trackId])) ===
             JSON.stringify(before.transceivers.map((x) => [x.mid, x.trackId])),
             `transceivers changed: ${JSON.stringify(before.transceivers)} → ${JSON.stringify(after.transceivers)}`);
    const events = await page.evaluate(() => window.events());
    const lateTracks = events.track.filter((e) => e.at >= before.at);
    h.assert(!lateTracks.length, `track events after the restart: ${JSON.stringify(lateTracks)}`);
    h.assert(tAfter.iceLocalUsernameFragment === browserUfrag2,
             `transport runs on ufrag ${tAfter.iceLocalUsernameFragment}, expected the new ${browserUfrag2}`);
    h.assert(tAfter.selectedCandidatePairChanges > tBefore.selectedCandidatePairChanges,
             `selectedCandidatePairChanges ${tBefore.selectedCandidatePairChanges} → ${tAfter.selectedCandidatePairChanges}`);
    h.assert(tAfter.selectedCandidatePairId !== tBefore.selectedCandidatePairId,
             `the selected candidate pair is still ${tBefore.selectedCandidatePairId}`);
    /* The media comes over the new pair (not a leftover of the old one). */
    let prevPair = after.pair;
    await h.waitFor('the selected pair to carry the media', async () => {
        await h.sleep(300);
        const s = await snap();
        const p0 = prevPair;
        prevPair = s.pair;
        return s.pair && p0 && s.pair.id === p0.id && s.pair.local.usernameFragment !== browserUfrag1 &&
            transportOf(s).iceLocalUsernameFragment === browserUfrag2 && s.pair.bytesReceived > p0.bytesReceived + 2000;
    }, { timeoutMs: 4000, describeLast: () => JSON.stringify(prevPair) });
    if (after.pair && after.pair.local.usernameFragment)
        h.assert(after.pair.local.usernameFragment === browserUfrag2,
                 `selected pair's local candidate has ufrag ${after.pair.local.usernameFragment}, expected ${browserUfrag2}`);
    if (after.pair && after.pair.remote.usernameFragment)
        h.assert(after.pair.remote.usernameFragment === relayUfrag2,
                 `selected pair's remote candidate has ufrag ${after.pair.remote.usernameFragment}, expected the relay's new ${relayUfrag2}`);
    /* DTLS: one handshake, never interrupted. */
    const notConnected = samples.filter((s) => s.dtlsState !== 'connected' || (s.dtls && s.dtls !== 'connected'));
    h.assert(samples.length >= 5 && !notConnected.length,
             `DTLS left "connected" during the restart (${notConnected.length} of ${samples.length} samples): ${JSON.stringify(notConnected.slice(0, 3))}`);
    h.assert(tAfter.dtlsState === 'connected', `DTLS is ${tAfter.dtlsState} after the restart`);
    const dtlsChanges = events.dtls.filter((e) => !e.initial && e.at >= before.at);
    h.assert(!dtlsChanges.length, `the RTCDtlsTransport changed state: ${JSON.stringify(dtlsChanges)}`);
    h.assert(after.dtls && before.dtls && after.dtls.remoteCertSha256 === before.dtls.remoteCertSha256,
             'the relay\'s DTLS certificate changed');
    const iceDrops = events.ice.filter((e) => e.at >= before.at && e.pc === pcSerial);
    summary.iceStates = iceDrops.map((e) => e.state);

    /* After the restart the relay holds the browser's new credentials: an
     * update's answer with them is accepted, one with the old is not. */
    await page.evaluate(() => window.request({ type: 'subscribe', id: 'sub-4' }));
    const upd2 = await reply('sub-4', 'the update offer after the restart');
    h.assert(upd2.msg.type === 'offer' && upd2.msg.new === false, `subscribe after the restart: ${JSON.stringify(upd2.msg).slice(0, 300)}`);
    saveSdp('offer-4-update', upd2.msg.sdp);
    h.assert(attr(upd2.msg.sdp, 'ice-ufrag') === relayUfrag2,
             `the update after the restart offers ufrag ${attr(upd2.msg.sdp, 'ice-ufrag')}, expected the restart's ${relayUfrag2}`);
    const a4 = await applyOffer(upd2.i, false, null);
    await page.evaluate((s) => window.sendAnswer(s, 'ans-4-old'), withUfrag(a4.answer, browserUfrag1));
    const old = await reply('ans-4-old', 'the reply to an answer with the pre-restart ufrag');
    h.assert(old.msg.type === 'error' && old.msg.code === 'bad-sdp',
             `an answer with the browser's pre-restart ufrag was not refused: ${JSON.stringify(old.msg)}`);
    saveSdp('answer-4', a4.answer);
    await page.evaluate((s) => window.sendAnswer(s, 'ans-4'), a4.answer);
    await page.evaluate(() => window.releaseCandidates());
    const ok4 = await reply('ans-4', 'the reply to the update\'s answer after the restart');
    h.assert(ok4.msg.type === 'ok', `the answer with the browser's new ufrag was refused after the restart: ${JSON.stringify(ok4.msg)}`);
    const v4 = await h.waitFor('frames after the last update', async () => {
        const s = await snap();
        return videoOf(s).frames > va.frames + 5 && s;
    }, { timeoutMs: 5000 });

    /* No error but the two refusals asked for. */
    const errors = (await msgs()).filter((e) => e.msg.type === 'error' && !['ans-2-bad', 'ans-4-old'].includes(e.msg.re));
    h.assert(!errors.length, `unexpected errors from the server: ${JSON.stringify(errors.map((e) => e.msg))}`);
    h.assert((await msgs()).filter((e) => e.msg.type === 'offer' && e.msg.new === true).length === 1,
             'the server offered a new connection during the test');

    /* The relay's side: one ICE restart, one DTLS handshake for this connection. */
    const log = fs.readFileSync(srv.logPath, 'utf8');
    const restartLines = log.match(/room subscription (\w+): ICE restart.*/g) || [];
    h.assert(restartLines.length === 1 && !/failed/.test(restartLines[0]),
             `the relay logged ${JSON.stringify(restartLines)}, expected one "room subscription <id>: ICE restart"`);
    const id8 = /room subscription (\w+):/.exec(restartLines[0])[1];
    const secure = log.match(new RegExp(`subscriber ${id8}: secure after.*`, 'g')) || [];
    summary.relaySecureLines = secure;
    h.assert(secure.length === 1, `the relay completed DTLS ${secure.length} times on ${id8}, expected once: ${JSON.stringify(secure)}`);

    await page.screenshot({ path: path.join(t.dir, 'expert.png') });
    await dumpWs();
    Object.assign(summary, {
        result: 'pass',
        ssrc: va.ssrc,
        framesDecoded: videoOf(v4).frames,
        frameWidth: va.width,
        relayUfrag: [relayUfrag1, relayUfrag2],
        browserUfrag: [browserUfrag1, browserUfrag2],
        selectedCandidatePairChanges: [tBefore.selectedCandidatePairChanges, tAfter.selectedCandidatePairChanges],
        pair: after.pair,
        packetsLostAcrossRestart: va.lost - vb.lost,
        longestFrameGapMs: (() => {
            let worst = 0;
            for (let i = 1, last = 0; i < samples.length; i++) {
                if (samples[i].frames !== samples[i - 1].frames) {
                    worst = Math.max(worst, samples[i].at - samples[last].at);
                    last = i;
                }
            }
            return worst;
        })(),
        srtp: tAfter.srtpCipher,
        sdps,
    });
    h.assert(await page.evaluate(() => window.leave()), 'leave was not answered');
    h.assert([200, 204].includes(await pub.evaluate(() => window.hangup())), 'the WHIP DELETE failed');
    await browser.close();
    await srv.stop();
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 60000 });
