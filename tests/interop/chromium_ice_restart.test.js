#!/usr/bin/env node
'use strict';
/*
 * ICE restart with real browsers (RFC 9725 §4.3.2): a clinic's link changes
 * (4G to Wi-Fi), its browser restarts ICE and PATCHes its new credentials;
 * media must carry on over the same DTLS/SRTP session.
 *
 * A Chromium publisher and a Chromium viewer connect; then each restarts
 * ICE over PATCH in turn. Asserts: PATCH answers 200 with the relay's new
 * ufrag/pwd and candidates, the ETag changes, both peers reconnect, and the
 * viewer's decoded frames keep climbing after both restarts.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/chromium_ice_restart.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');

const ROOM = 'ward-9';
const STREAM = 'endoscope';

async function framesAdvance(view, what) {
    const before = (await view.evaluate(() => window.stats())).inbound.video.framesDecoded;
    return h.waitFor(`viewer frames to keep climbing ${what}`, async () => {
        const s = await view.evaluate(() => window.stats());
        return s.connectionState === 'connected' && s.inbound.video.framesDecoded > before + 10 && s;
    }, { timeoutMs: 15000 });
}

async function restart(t, page, name) {
    const before = await page.evaluate(() => window.stats());
    const r = await page.evaluate(() => window.restartIce());
    h.assert(r.status === 200, `${name}: ICE restart PATCH answered ${r.status}`);
    h.assert(/a=ice-ufrag:/.test(r.fragment) && /a=ice-pwd:/.test(r.fragment) &&
             /a=candidate:/.test(r.fragment), `${name}: the 200 body lacks credentials or candidates:\n${r.fragment}`);
    /* Chromium keeps using the old pair until the new generation's checks
     * succeed, so "connected" alone proves nothing: wait until the
     * transport runs on the new local ufrag. */
    const ufrag = r.localUfrag.replace('a=ice-ufrag:', '');
    await h.waitFor(`${name} to run on the new ICE credentials (${ufrag})`, () => page.evaluate(async (u) => {
        const report = await window.rawStats();
        let ok = false;
        report.forEach((s) => {
            if (s.type === 'transport' && s.iceLocalUsernameFragment === u && s.iceState === 'connected')
                ok = true;
        });
        return ok;
    }, ufrag), { timeoutMs: 15000 });
    t.log(`${name}: restarted (ETag ${r.etag}, local ${r.localUfrag}, relay ${r.remoteUfrag})`);
    return { ...r, srtpBefore: before.transport.srtpCipher };
}

h.main('chromium_ice_restart', async (t) => {
    const srv = await serverFor(t);
    const web = await webFor(t);
    const browser = await chromiumFor(t);

    const pub = await browser.newPage('whip');
    const view = await browser.newPage('whep');
    await pub.goto(`${web.url}/whip.html`);
    await view.goto(`${web.url}/whep.html`);
    const pubInfo = await pub.evaluate((o) => window.start(o), {
        url: `${srv.url}/whip/${ROOM}/${STREAM}`, token: srv.token({ room: ROOM, role: 'clinic', name: 'or-2' }),
    });
    await h.waitFor('the publisher to connect', async () =>
        (await pub.evaluate(() => window.stats())).connectionState === 'connected', { timeoutMs: 15000 });
    const viewInfo = await view.evaluate((o) => window.start(o), {
        url: `${srv.url}/whep/${ROOM}/${STREAM}`, token: srv.token({ room: ROOM, role: 'expert', name: 'dr-wang' }),
    });
    await framesAdvance(view, 'before any restart');

    const p = await restart(t, pub, 'publisher');
    h.assert(p.etag && p.etag !== pubInfo.etag, `publisher: ETag did not change (${pubInfo.etag} → ${p.etag})`);
    await framesAdvance(view, 'after the publisher restarted ICE');

    const v = await restart(t, view, 'viewer');
    h.assert(v.etag && v.etag !== viewInfo.etag, `viewer: ETag did not change (${viewInfo.etag} → ${v.etag})`);
    const after = await framesAdvance(view, 'after the viewer restarted ICE');
    await view.screenshot({ path: path.join(t.dir, 'whep.png') });

    const log = fs.readFileSync(srv.logPath, 'utf8');
    const restarts = (log.match(/: ICE restart/g) || []).length;
    h.assert(restarts === 2, `the relay logged ${restarts} ICE restarts, expected 2`);
    for (const page of [view, pub])
        h.assert([200, 204].includes(await page.evaluate(() => window.hangup())), 'DELETE failed');
    await browser.close();
    await srv.stop();
    const summary = {
        test: 'chromium_ice_restart', result: 'pass', framesDecoded: after.inbound.video.framesDecoded,
        srtp: after.transport.srtpCipher, etags: [pubInfo.etag, p.etag, viewInfo.etag, v.etag],
    };
    console.log(JSON.stringify(summary));
}, { watchdogMs: 90000 });
