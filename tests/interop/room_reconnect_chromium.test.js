#!/usr/bin/env node
'use strict';
/*
 * Reconnection in the consoles (issue 5, "Reconnection"): a clinic whose
 * WebSocket drops (a 4G blip) rejoins by itself; its publisher connection,
 * kept by the server for the grace period, is adopted again, so the expert
 * never stops decoding and the recording goes on in the same file. Then
 * the expert's WebSocket drops: it rejoins, gets a new subscriber
 * connection, and decodes again.
 *
 * Asserts: the clinic's page is joined again with a new participant id
 * within 5 s, the expert's frame counter never stalls for more than 2 s
 * while the clinic reconnects, the stream keeps its recording id and ends
 * up as one recording; after the expert's drop, frames decode again within
 * 5 s (the time is reported).
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/room_reconnect_chromium.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, chromiumFor } = require('./lib/stack');

const ROOM = 'ward-5';

async function frames(page) {
    return page.evaluate(async () => {
        const room = window.consoleRoom;
        if (!room || !room.sub)
            return 0;
        let n = 0;
        (await room.sub.pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video')
                n += s.framesDecoded || 0;
        });
        return n;
    });
}

async function open(browser, srv, t, name, file, token) {
    const page = await browser.newPage(name);
    t.addFailureInfo(() => `--- ${name} console:\n${browser.consoleTail(name, 20)}`);
    await page.goto(`${srv.url}/${file}#token=${encodeURIComponent(token)}&video=320x240`);
    await h.waitFor(`${name} to join`, () => page.evaluate(() => !!(window.consoleRoom && window.consoleRoom.me)));
    return page;
}

async function recordingOf(srv, token) {
    const res = await fetch(`${srv.url}/api/rooms/${ROOM}/streams/cam`, { headers: { Authorization: `Bearer ${token}` } });
    const body = await res.json();
    return body.recording ? body.recording.id : null;
}

/* Samples the expert's frame counter every 200 ms for ms; returns the
 * longest time it did not move. */
async function longestStall(page, ms) {
    let last = await frames(page), lastChange = Date.now(), worst = 0;
    const end = Date.now() + ms;
    while (Date.now() < end) {
        await h.sleep(200);
        const n = await frames(page);
        if (n !== last) {
            worst = Math.max(worst, Date.now() - lastChange);
            last = n;
            lastChange = Date.now();
        }
    }
    return Math.max(worst, Date.now() - lastChange);
}

h.main('room_reconnect_chromium', async (t) => {
    const srv = await serverFor(t);
    const browser = await chromiumFor(t);
    const opToken = srv.token({ room: '*', role: 'operator', name: 'api' });
    const summary = {};

    const clinic = await open(browser, srv, t, 'clinic', 'clinic.html', srv.token({ room: ROOM, role: 'clinic', name: 'clinic-9' }));
    await h.waitFor('devices listed', () => clinic.evaluate(() => !document.querySelector('#publish').disabled));
    await clinic.click('#publish');
    const expert = await open(browser, srv, t, 'expert', 'expert.html', srv.token({ room: ROOM, role: 'expert', name: 'dr-9' }));
    await h.waitFor('the expert decoding', async () => (await frames(expert)) > 10, { timeoutMs: 20000 });
    const recId = await h.waitFor('a recording', () => recordingOf(srv, opToken), { timeoutMs: 10000 });

    /* The clinic's WebSocket drops. */
    const idBefore = await clinic.evaluate(() => window.consoleRoom.me.id);
    const dropAt = Date.now();
    const stall = longestStall(expert, 6000);
    await clinic.evaluate(() => window.consoleRoom.ws.close());
    await h.waitFor('the clinic joined again', () => clinic.evaluate(
        (before) => window.consoleRoom.me && window.consoleRoom.me.id !== before && window.consoleRoom.ws.readyState === 1,
        idBefore), { timeoutMs: 5000 });
    summary.clinicRejoinMs = Date.now() - dropAt;
    summary.expertLongestStallMs = await stall;
    h.assert(summary.expertLongestStallMs <= 2000,
             `the expert's video stalled ${summary.expertLongestStallMs} ms while the clinic reconnected`);
    const adopted = await clinic.evaluate(() => window.consoleRoom.state.streams.some(
        (s) => s.name === 'cam' && s.participant === window.consoleRoom.me.id));
    h.assert(adopted, 'the clinic\'s stream is not attached to its new connection');
    const recAfter = await recordingOf(srv, opToken);
    h.assert(recAfter === recId, `the recording changed from ${recId} to ${recAfter}`);

    /* The expert's WebSocket drops: it comes back with a new subscriber connection. */
    const before = await expert.evaluate(() => window.consoleRoom.sub.pc);
    const t0 = Date.now();
    await expert.evaluate(() => { window.oldSub = window.consoleRoom.sub; window.consoleRoom.ws.close(); });
    await h.waitFor('the expert decoding on a new connection', () => expert.evaluate(async () => {
        const room = window.consoleRoom;
        if (!room.sub || room.sub === window.oldSub)
            return false;
        let n = 0;
        (await room.sub.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0; });
        return n > 0;
    }), { timeoutMs: 5000 });
    summary.expertResumeMs = Date.now() - t0;
    void before;

    /* One recording, in one file, for the whole session. */
    await clinic.evaluate(() => window.consoleRoom.leave());
    const recs = await h.waitFor('the recording complete', async () => {
        const res = await fetch(`${srv.url}/api/recordings?room=${ROOM}`, { headers: { Authorization: `Bearer ${opToken}` } });
        const body = await res.json();
        return body.recordings.length && body.recordings.every((r) => r.state === 'complete') ? body.recordings : null;
    }, { timeoutMs: 15000 });
    h.assert(recs.length === 1 && recs[0].recording === recId,
             `expected one recording ${recId}, got ${JSON.stringify(recs.map((r) => [r.id, r.state]))}`);
    summary.recording = { id: recs[0].id, duration_s: recs[0].duration_s };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 120000 });
