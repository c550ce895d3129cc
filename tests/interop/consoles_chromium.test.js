#!/usr/bin/env node
'use strict';
/*
 * The web consoles in headless Chromium (issue 5, "Tests"): a clinic page
 * and two expert pages join one room over the room protocol (/ws), with
 * Chromium's fake camera and microphone at 320x240.
 *
 *  - the clinic publishes camera (as three simulcast layers, the console's
 *    default, answered so) + microphone; both experts see its video
 *    decode in their grid (time from opening the page to the first decoded
 *    frame is measured);
 *  - the clinic shares its second source (a third fake camera, as a
 *    capture card) mid-consultation: the experts' subscriber connections
 *    are renegotiated and decode it; unsharing removes it, the camera goes
 *    on;
 *  - expert A talks back; the clinic receives and decodes its audio (audio
 *    energy arriving) and video;
 *  - expert B leaves and rejoins and sees the clinic again;
 *  - the operator page (a token for every room, the room in the fragment)
 *    lists the streams and participants, shows each publisher's uplink as
 *    the relay sees it (loss before and after repair, bitrate; red past
 *    1 % after repair), starts a recording of the clinic's stream (badge
 *    and the REST API agree), and stops it;
 *  - the clinic page shows its own uplink (kbit/s, loss, retransmissions,
 *    round trip) from its browser's statistics;
 *  - the pages never error; screenshots of each console in English and
 *    Chinese are saved: tests/artifacts/interop/consoles_chromium/
 *    {clinic,expert,operator}-{en,zh}.png, at 1366x768.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/consoles_chromium.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, chromiumFor } = require('./lib/stack');
const { httpGet } = require('./lib/server');

const ROOM = 'or-3';
const MEDIA_TIMEOUT_MS = 20000;
const VIEWPORT = { width: 1366, height: 768 };

/* What a page sees of one stream tile: frames decoded and audio arriving,
 * from the subscriber connection's statistics. */
async function tileState(page, stream) {
    return page.evaluate(async (name) => {
        const room = window.consoleRoom;
        const tile = document.querySelector(`.tile[data-stream="${name}"] video`);
        if (!room || !room.sub || !tile)
            return { tile: !!tile };
        const ids = new Set(tile.srcObject ? tile.srcObject.getTracks().map((x) => x.id) : []);
        const out = { tile: true, width: tile.videoWidth, frames: 0, audioPackets: 0, audioEnergy: 0 };
        (await room.sub.pc.getStats()).forEach((s) => {
            if (s.type !== 'inbound-rtp' || !ids.has(s.trackIdentifier))
                return;
            if (s.kind === 'video')
                out.frames = s.framesDecoded || 0;
            else {
                out.audioPackets = s.packetsReceived || 0;
                out.audioEnergy = s.totalAudioEnergy || 0;
            }
        });
        return out;
    }, stream);
}

async function openConsole(browser, srv, t, name, file, token, extra = '') {
    const page = await browser.newPage(name);
    await page.setViewportSize(VIEWPORT);
    t.addFailureInfo(async () => {
        try {
            await page.screenshot({ path: path.join(t.dir, `${name}.failure.png`), timeout: 5000 });
        } catch (_) { /* page gone */ }
        return `--- ${name} console:\n${browser.consoleTail(name, 20)}`;
    });
    const opened = Date.now();
    await page.goto(`${srv.url}/${file}#token=${encodeURIComponent(token)}${extra}`);
    await h.waitFor(`${name} to join`, () => page.evaluate(() => !!(window.consoleRoom && window.consoleRoom.me)),
                    { timeoutMs: 10000, describeLast: () => browser.consoleTail(name, 5) });
    return { page, opened };
}

async function firstFrame(page, stream, what) {
    return h.waitFor(what, async () => {
        const s = await tileState(page, stream);
        return s.frames > 0 && s.width > 0 ? s : null;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, intervalMs: 100, describeLast: (s) => JSON.stringify(s) });
}

async function screenshots(t, page, name) {
    for (const lang of ['en', 'zh']) {
        await page.evaluate((l) => window.setLang(l), lang);
        await h.sleep(1200); /* statistics lines are rewritten every second */
        await page.screenshot({ path: path.join(t.dir, `${name}-${lang}.png`) });
    }
    const zhTitle = await page.evaluate(() => document.querySelector('header h1').textContent);
    h.assert(/[\u4e00-\u9fff]/.test(zhTitle), `${name}: the Chinese title is "${zhTitle}"`);
    await page.evaluate(() => window.setLang('en'));
}

async function api(srv, token, method, p) {
    const res = await fetch(`${srv.url}${p}`, { method, headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

h.main('consoles_chromium', async (t) => {
    const srv = await serverFor(t, { config: { recording: { policy: 'on-demand' } } });
    /* Three fake cameras: Chromium's second is a depth camera (16-bit
     * frames that never reach the encoder), the third, MJPEG, plays the
     * clinic's capture card (an ultrasound). */
    const browser = await chromiumFor(t, { extraArgs: ['--use-fake-device-for-media-stream=device-count=3'] });
    const summary = {};
    t.addFailureInfo(async () => {
        const scraper = srv.token({ room: '*', role: 'operator', name: 'scraper' });
        const m = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${scraper}` } })
            .then(async (r) => ({ body: await r.text() })).catch((e) => ({ body: e.message }));
        return `--- metrics:\n${String(m.body).split('\n').filter((l) => /dropped|forwarded|keyframe|sessions/.test(l) && !l.startsWith('#')).join('\n')}`;
    });

    /* The clinic publishes its camera and microphone. */
    const clinic = await openConsole(browser, srv, t, 'clinic', 'clinic.html',
                                     srv.token({ room: ROOM, role: 'clinic', name: 'township-7' }), '&video=320x240');
    await h.waitFor('devices listed', () => clinic.page.evaluate(() => !document.querySelector('#publish').disabled));
    await clinic.page.click('#publish');
    await h.waitFor('the clinic publishing', () => clinic.page.evaluate(() => {
        const p = window.consoleRoom.publishers.get('cam');
        return p && p.pc.connectionState === 'connected';
    }), { timeoutMs: MEDIA_TIMEOUT_MS });
    /* Its camera in three qualities (the console's default), answered so. */
    const camSdp = await clinic.page.evaluate(() => {
        const p = window.consoleRoom.publishers.get('cam').pc;
        return { offer: p.localDescription.sdp, answer: p.remoteDescription.sdp };
    });
    h.assert(/a=simulcast:send q;h;f/.test(camSdp.offer) && /a=simulcast:recv q;h;f/.test(camSdp.answer),
             `the clinic console's camera is not sent as simulcast: offer ${camSdp.offer.match(/a=simulcast.*$/m)}, ` +
             `answer ${camSdp.answer.match(/a=simulcast.*$/m)}`);

    /* Two experts see it. */
    const experts = [];
    for (const n of ['a', 'b']) {
        const e = await openConsole(browser, srv, t, `expert-${n}`, 'expert.html',
                                    srv.token({ room: ROOM, role: 'expert', name: `dr-${n}` }), '&video=320x240');
        await firstFrame(e.page, 'cam', `expert ${n} to decode the clinic's video`);
        e.firstFrameMs = Date.now() - e.opened;
            experts.push(e);
        t.addFailureInfo(async () => {
            const d = await e.page.evaluate(() => {
                const r = window.consoleRoom;
                if (!r || !r.sub) return 'no subscriber connection';
                return JSON.stringify({
                    tiles: [...document.querySelectorAll('.tile')].map((x) => x.dataset.stream),
                    transceivers: r.sub.pc.getTransceivers().map((x) => [x.mid, x.direction, x.currentDirection,
                        x.receiver.track.id, x.receiver.track.readyState]),
                    signaling: r.sub.pc.signalingState,
                }) + '\n' + (r.sub.pc.remoteDescription ? r.sub.pc.remoteDescription.sdp : '');
            }).catch((err) => err.message);
            return `--- expert ${n} subscriber: ${d}`;
        });
    }
    summary.joinToFirstFrameMs = experts.map((e) => e.firstFrameMs);
    h.log(`expert page open -> first decoded frame: ${summary.joinToFirstFrameMs.join(', ')} ms`);

    /* Mid-consultation the clinic shares its second source: the experts'
     * existing subscriber connections are renegotiated (a new offer on the
     * same RTCPeerConnection) and carry it too; unsharing retires it. */
    const subBefore = await experts[0].page.evaluate(() => { window.subBefore = window.consoleRoom.sub.pc; return true; });
    void subBefore;
    const secondCam = await clinic.page.evaluate(() => {
        const opts = [...document.querySelectorAll('#second option')].filter((o) => o.value && o.value !== 'screen');
        return opts.length >= 3 ? opts[2].value : null;
    });
    h.assert(secondCam, 'the clinic console lists no second camera');
    t.addFailureInfo(async () => `--- clinic publishers: ${await clinic.page.evaluate(async () => {
        const out = {};
        for (const [name, p] of window.consoleRoom.publishers) {
            const o = [];
            (await p.pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp') o.push([s.kind, s.packetsSent, s.framesEncoded]); });
            out[name] = { state: p.pc.connectionState, tracks: p.media.getTracks().map((x) => [x.kind, x.label, x.readyState, x.muted]), o };
        }
        return JSON.stringify(out);
    }).catch((e) => e.message)}`);
    await clinic.page.selectOption('#second', secondCam);
    await clinic.page.click('#share');
    for (const [i, e] of experts.entries())
        await firstFrame(e.page, 'screen', `expert ${i} to decode the shared second source`);
    const renegotiated = await experts[0].page.evaluate(() => window.consoleRoom.sub.pc === window.subBefore);
    h.assert(renegotiated, 'the second source came on a new connection, not a renegotiated one');
    await clinic.page.click('#unshare');
    await h.waitFor('the second source gone from the experts', async () => {
        for (const e of experts)
            if ((await tileState(e.page, 'screen')).tile)
                return false;
        return true;
    });
    const camGoesOn = await tileState(experts[0].page, 'cam');
    await h.sleep(1000);
    h.assert((await tileState(experts[0].page, 'cam')).frames > camGoesOn.frames,
             'the clinic\'s camera stopped with its second source');
    summary.secondSource = 'shared, renegotiated on the same connection, unshared';

    /* Expert A talks back; the clinic hears it. */
    await experts[0].page.click('#talk');
    const talk = `talk-${await experts[0].page.evaluate(() => window.consoleRoom.me.id)}`;
    const heard = await h.waitFor('the clinic to hear expert A', async () => {
        const s = await tileState(clinic.page, talk);
        return s.audioPackets > 50 && s.audioEnergy > 0 && s.frames > 0 ? s : null;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, describeLast: (s) => JSON.stringify(s) });
    summary.clinicHearsExpert = heard;

    /* Expert B leaves and comes back. */
    await experts[1].page.click('#leave');
    await h.waitFor('expert B gone from the clinic\'s list', () => clinic.page.evaluate(
        () => !window.consoleRoom.state.participants.some((p) => p.sub === 'dr-b')));
    await experts[1].page.goto('about:blank');
    const b2 = await openConsole(browser, srv, t, 'expert-b', 'expert.html',
                                 srv.token({ room: ROOM, role: 'expert', name: 'dr-b' }), '&video=320x240');
    await firstFrame(b2.page, 'cam', 'expert B, back, to decode the clinic again');
    summary.rejoinToFirstFrameMs = Date.now() - b2.opened;
    experts[1] = b2;

    /* The operator. */
    const opToken = srv.token({ room: '*', role: 'operator', name: 'director' });
    const op = await openConsole(browser, srv, t, 'operator', 'operator.html', opToken, `&room=${ROOM}`);
    await h.waitFor('the operator to list both streams', () => op.page.evaluate((tk) =>
        ['cam', tk].every((s) => document.querySelector(`#streams tr[data-stream="${s}"]`)), talk));
    await firstFrame(op.page, 'cam', 'the operator to see the clinic');
    /* Live figures for every stream, measured on the operator's connection. */
    const figures = await h.waitFor('bitrate, loss and RTT for both streams', () => op.page.evaluate((tk) => {
        const rows = ['cam', tk].map((s) => [...document.querySelectorAll(`#streams tr[data-stream="${s}"] td`)]
            .slice(1, 4).map((td) => td.textContent));
        return rows.every((r) => r.every((x) => x !== '–') && parseInt(r[0], 10) > 0) ? rows : null;
    }, talk), { timeoutMs: 10000 });
    summary.operatorFigures = figures;
    /* Each publisher's uplink as the relay sees it (the API's "link", loss
     * before and after repair, bitrate, round trip), every 2 s. */
    const uplinks = await h.waitFor('the uplink (loss before and after repair) for both streams', () => op.page.evaluate((tk) => {
        const cells = ['cam', tk].map((s) => document.querySelector(`#streams tr[data-stream="${s}"] td.uplink`));
        if (!cells.every((c) => c && c.dataset.loss !== undefined && c.dataset.loss !== '' && +c.dataset.kbps > 0))
            return null;
        return cells.map((c) => ({ text: c.textContent, loss: +c.dataset.loss, after: +c.dataset.lossAfter,
                                   kbps: +c.dataset.kbps, bad: c.classList.contains('bad') }));
    }, talk), { timeoutMs: 10000, describeLast: () => 'no uplink figures' });
    for (const u of uplinks) {
        h.assert(/\d+\.\d%/.test(u.text) && u.loss >= 0 && u.loss <= 1 && u.after <= u.loss,
                 `the operator's uplink cell shows no loss figure: ${JSON.stringify(u)}`);
        h.assert(/kbit\/s/.test(u.text), `the operator's uplink cell shows no bitrate: ${JSON.stringify(u)}`);
    }
    summary.operatorUplinks = uplinks;
    /* More than 1 % left after repair is shown in red (a made-up window). */
    const colours = await op.page.evaluate(() => [
        uplinkCell({ loss: 0.05, loss_after_repair: 0.02, audio_loss: 0, kbps: 900, rtt_ms: 40, recovered: 30, gave_up: 2 }),
        uplinkCell({ loss: 0.05, loss_after_repair: 0.002, audio_loss: 0, kbps: 900, rtt_ms: null, recovered: 45, gave_up: 0 }),
    ].map((c) => ({ bad: c.classList.contains('bad'), text: c.textContent })));
    h.assert(colours[0].bad && !colours[1].bad && /5\.0% → 2\.0%/.test(colours[0].text),
             `uplink colouring: ${JSON.stringify(colours)}`);
    /* The clinic's own uplink, from its browser's statistics. */
    const clinicLink = await h.waitFor('the clinic\'s uplink line', () => clinic.page.evaluate(() => {
        const k = document.querySelector('#link-kbps'), l = document.querySelector('#link-loss');
        const x = document.querySelector('#link-rtx'), r = document.querySelector('#link-rtt');
        if (!k || !l || !x || !r || !(+k.dataset.kbps > 0)) return null;
        return { text: document.querySelector('#linkstats').textContent, kbps: +k.dataset.kbps,
                 lossPct: +l.dataset.lossPct, rtx: +x.dataset.rtx };
    }), { timeoutMs: 10000 });
    h.assert(/\d+ kbit\/s/.test(clinicLink.text) && /\d+(\.\d+)?%/.test(clinicLink.text) && clinicLink.lossPct >= 0,
             `the clinic's uplink line: ${JSON.stringify(clinicLink)}`);
    summary.clinicUplink = clinicLink;
    const people = await op.page.evaluate(() => document.querySelectorAll('#people tr').length);
    h.assert(people === 4, `operator lists ${people} participants, expected 4`);
    /* How each participant's connections reach the relay (the API's
     * sessions): the clinic publishes its camera over UDP, not relayed,
     * with a round trip once the relay has measured one. */
    const conn = await h.waitFor('the clinic\'s connection in the participants', () => op.page.evaluate(() => {
        const td = document.querySelector('#people tr[data-sub="township-7"] td.connection');
        return td && /cam UDP \d+ ms/.test(td.textContent)
            ? { text: td.textContent, transports: td.dataset.transports, relayed: td.dataset.relayed } : null;
    }), { timeoutMs: 10000, describeLast: () => 'no "cam UDP <rtt> ms" in the clinic\'s row' });
    h.assert(conn.relayed === '0' && conn.transports.split(' ').every((x) => x === 'udp'),
             `the clinic's connections: ${JSON.stringify(conn)}`);
    summary.operatorConnection = conn;
    await op.page.click('#streams tr[data-stream="cam"] button[data-i18n="startRec"]');
    await h.waitFor('the recording badge', () => op.page.evaluate(() =>
        !!document.querySelector('#streams tr[data-stream="cam"] .badge.rec')));
    const st = await api(srv, opToken, 'GET', `/api/rooms/${ROOM}/streams/cam`);
    h.assert(st.status === 200 && st.body.recording, `the API shows no recording: ${JSON.stringify(st)}`);
    await h.sleep(3000);
    await op.page.click('#streams tr[data-stream="cam"] button[data-i18n="stopRec"]');
    await h.waitFor('the badge to go', () => op.page.evaluate(() =>
        !document.querySelector('#streams tr[data-stream="cam"] .badge.rec')));
    const recs = await h.waitFor('the recording listed', async () => {
        const r = await api(srv, opToken, 'GET', `/api/recordings?room=${ROOM}`);
        return r.body.recordings.find((x) => x.stream === 'cam' && x.state === 'complete') ? r.body : null;
    }, { timeoutMs: 15000 });
    summary.recording = recs.recordings[0];

    /* The clinic sees the recording state too. */
    await clinic.page.evaluate(() => window.consoleRoom.state.streams.find((s) => s.name === 'cam').recording === false);

    /* Screenshots, both languages. */
    await h.sleep(1500); /* statistics overlays filled */
    await screenshots(t, clinic.page, 'clinic');
    await screenshots(t, experts[0].page, 'expert');
    await screenshots(t, op.page, 'operator');

    for (const name of ['clinic', 'expert-a', 'expert-b', 'operator']) {
        const errors = browser.consoleTail(name, 1000).split('\n').filter((l) => /\[pageerror\]/.test(l));
        h.assert(errors.length === 0, `${name} page errors:\n${errors.join('\n')}`);
    }
    const health = await httpGet(`${srv.url}/healthz`, 2000);
    h.assert(health.status === 200, `healthz ${health.status}`);
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 170000 });
