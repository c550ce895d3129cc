#!/usr/bin/env node
'use strict';
/*
 * Issue 16: the clinic console (room protocol, signaling/web/room.js) keeps
 * its session when the clinic's address moves (4G <-> Wi-Fi), on the
 * network-namespace bed (lib/netbed.js).
 *
 * The clinic console publishes its camera (recorded: policy "always"), an
 * expert console watches. The clinic's address moves from 10.87.0.2 to
 * 10.87.0.12; when Chromium reports the publisher connection disconnected,
 * the console restarts ICE on it ("publish" with "iceRestart": true and a
 * new offer), and the relay restarts ICE on the same session.
 *
 * Asserts, printing every figure:
 *  (a) the console restarted ICE (not a new connection) and the relay kept
 *      the same publisher session (GET /api/rooms/{room}/sessions);
 *  (b) the expert's video is back within 2 s of the console's restart, and
 *      the clinic's pair uses its new address;
 *  (c) the recording stayed the same one (same id, one segment).
 *
 * Needs root (namespaces), nftables (scripts/deps.sh test).
 *   MEDRELAY_BIN=build/medrelay node tests/interop/netchange_console_chromium.test.js
 */
const h = require('./lib/harness');
const { bedFor, relayIn, chromiumIn } = require('./lib/netbed_stack');
const m = require('./lib/impaired_measure');
const paths = require('./lib/impaired_paths');

const ROOM = 'township-4';
const NEW_ADDR = '10.87.0.12';
const RESUME_MS = 2000;

async function openConsole(t, browser, srv, name, file, token) {
    const page = await browser.newPage(name);
    await page.goto(`${srv.url}/${file}#token=${encodeURIComponent(token)}&video=320x240`);
    await h.waitFor(`${name} to join`, () => page.evaluate(() => !!(window.consoleRoom && window.consoleRoom.me)),
                    { timeoutMs: 10000, describeLast: () => browser.consoleTail(name, 5) });
    t.addFailureInfo(() => `--- ${name} console:\n${browser.consoleTail(name, 20)}`);
    return page;
}

/* Video frames the expert console has decoded so far (its subscriber connection). */
function framesDecoded(page) {
    return page.evaluate(async () => {
        const sub = window.consoleRoom.sub;
        if (!sub)
            return 0;
        let n = 0;
        (await sub.pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video')
                n += s.framesDecoded || 0;
        });
        return n;
    });
}

/* The clinic's publisher connection: state, local address, and when the console restarted ICE. */
function clinicPc(page) {
    return page.evaluate(async () => {
        const p = window.consoleRoom.publishers.get('cam');
        if (!p)
            return null;
        let local = null;
        (await p.pc.getStats()).forEach((s) => {
            if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded')
                local = s.localCandidateId;
        });
        const report = await p.pc.getStats();
        const cand = local && report.get(local);
        return { state: p.pc.connectionState, local: cand ? cand.address : null,
                 restartedAt: window.iceRestartedAt || null, restarts: window.iceRestarts || 0 };
    });
}

async function publisherSession(srv) {
    const r = await srv.api('GET', `/api/rooms/${ROOM}/sessions`);
    const s = r.json && r.json.sessions.find((x) => x.kind === 'publish' && x.stream === 'cam');
    return s || null;
}

h.main('netchange_console_chromium', async (t) => {
    const video = paths.videoSpec();
    const bed = await bedFor(t);
    const srv = await relayIn(t, bed, { recordPolicy: 'always' });
    const clinic = await chromiumIn(t, bed, 'clinic', { origin: srv.url, extraArgs: paths.cameraArgs(video) });
    const expert = await chromiumIn(t, bed, 'expert', { origin: srv.url });
    const checks = [];
    const check = (ok, msg) => {
        t.log(`${ok ? 'ok' : 'FAILED'}: ${msg}`);
        checks.push({ ok, msg });
    };

    const cp = await openConsole(t, clinic, srv, 'clinic', 'clinic.html',
                                 srv.token({ room: ROOM, role: 'clinic', name: 'township-9' }));
    await h.waitFor('devices listed', () => cp.evaluate(() => !document.querySelector('#publish').disabled));
    /* Counts the console's ICE restarts (room.js's restartPublisherIce). */
    await cp.evaluate(() => {
        const room = window.consoleRoom;
        const orig = room.restartPublisherIce.bind(room);
        room.restartPublisherIce = (...a) => {
            window.iceRestarts = (window.iceRestarts || 0) + 1;
            window.iceRestartedAt = Date.now();
            return orig(...a);
        };
    });
    await cp.click('#publish');
    await h.waitFor('the clinic publishing', async () => (await clinicPc(cp) || {}).state === 'connected',
                    { timeoutMs: 15000 });
    const ep = await openConsole(t, expert, srv, 'expert', 'expert.html',
                                 srv.token({ room: ROOM, role: 'expert', name: 'dr-wang' }));
    await h.waitFor("the expert's first frame", async () => (await framesDecoded(ep)) > 0, { timeoutMs: 15000 });
    await h.sleep(3000);
    const before = await publisherSession(srv);
    const status = await m.streamStatus(srv, ROOM, 'cam');
    const recId = status && status.recording ? status.recording.id : null;
    t.log(`before the move: publisher session ${JSON.stringify(before)}, recording ${recId}`);

    await bed.exec(bed.ns.clinic, 'sysctl', ['-q', '-w', 'net.ipv4.conf.eth0.promote_secondaries=1']);
    const movedAt = Date.now();
    await bed.ip(['-n', bed.ns.clinic, 'addr', 'add', `${NEW_ADDR}/24`, 'dev', 'eth0']);
    await bed.ip(['-n', bed.ns.clinic, 'addr', 'del', `${bed.addr.clinic}/24`, 'dev', 'eth0']);
    t.log(`the clinic moved from ${bed.addr.clinic} to ${NEW_ADDR}`);

    const back = await h.waitFor('the clinic console to restart ICE and connect again', async () => {
        const s = await clinicPc(cp);
        return s && s.restarts > 0 && s.state === 'connected' && s.local ? s : null;
    }, { timeoutMs: 30000, intervalMs: 100 });
    const restartedMs = back.restartedAt - movedAt;
    /* The expert's picture moving again: frames decoded growing by over 10 in a second. */
    let resumeMs = null;
    for (let prev = await framesDecoded(ep); Date.now() - back.restartedAt < 10000;) {
        await h.sleep(250);
        const now = await framesDecoded(ep);
        if (now - prev >= 3) {
            resumeMs = Date.now() - back.restartedAt;
            break;
        }
        prev = now;
    }
    t.log(`the console restarted ICE ${restartedMs} ms after the move; connected again over ${back.local}; ` +
          `the expert's video moving ${resumeMs} ms after the restart`);
    const after = await publisherSession(srv);
    check(back.restarts === 1 && !!before && !!after && before.id === after.id,
          `(a) ${back.restarts} ICE restart(s) by the console; the relay's publisher session ${before && before.id} ` +
          `before, ${after && after.id} after; expected one restart and the same session`);
    check(resumeMs !== null && resumeMs <= RESUME_MS && back.local === NEW_ADDR,
          `(b) the expert's video moved again ${resumeMs} ms after the console's ICE restart, the clinic's pair ` +
          `from ${back.local}; expected within ${RESUME_MS} ms, from ${NEW_ADDR}`);
    const st = await m.streamStatus(srv, ROOM, 'cam');
    const rec = st && st.recording;
    check(!!recId && !!rec && rec.id === recId && rec.segments === 1,
          `(c) the recording after the move: ${JSON.stringify(rec)}; expected ${recId}, one segment`);
    await srv.stop();
    const failed = checks.filter((c) => !c.ok);
    if (failed.length)
        throw new h.TestFailure(failed.map((c) => c.msg).join('\n'));
}, { watchdogMs: 120000 });
