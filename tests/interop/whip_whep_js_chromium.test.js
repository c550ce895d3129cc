#!/usr/bin/env node
'use strict';
/*
 * A third-party WHIP/WHEP client library, unchanged, against medrelay
 * (issue 14, "real clients accepted as they are"): the npm package
 * whip-whep (medooze's whip.js and whep.js, MIT; pinned in package.json)
 * served to Chromium from node_modules by the test's static server, used as
 * its README shows (pages/whip_whep_js.js). These clients behave unlike
 * pages/client.js: they POST the offer before ICE gathering (no candidates
 * in it), send every candidate with PATCH (trickle-ice-sdpfrag, If-Match
 * with the ETag), the WHEP one offers sendrecv transceivers, and stop()
 * closes the peer connection before it sends DELETE.
 *
 * Asserts: the WHIP POST carried no candidate and the client's PATCHes
 * (with candidates) answered 2xx; the publisher connects and sends; a WHEP
 * viewer page with the library's client decodes video at the publisher's
 * size, frames climbing past MIN_FRAMES, and receives audio; each client's
 * stop() closes its peer connection and its DELETE answers 200/204 (seen
 * from outside the page, since the library ignores the status); medrelay
 * then holds no session.
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/whip_whep_js_chromium.test.js
 */
const fs = require('fs');
const path = require('path');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');
const { httpGet } = require('./lib/server');

const ROOM = 'clinic-14';
const STREAM = 'cam';
const MIN_FRAMES = 20;
const LIB_DIR = path.join(h.INTEROP_DIR, 'node_modules', 'whip-whep');
const LIB_VERSION = require('./package.json').dependencies['whip-whep'];

/* The library, checked to be the version package.json pins. */
function checkLibrary() {
    let installed;
    try {
        installed = JSON.parse(fs.readFileSync(path.join(LIB_DIR, 'package.json'), 'utf8')).version;
    } catch (e) {
        throw new h.SetupError(`whip-whep is not installed; run \`npm ci --prefix tests/interop\` (${e.code || e.message})`);
    }
    if (installed !== LIB_VERSION)
        throw new h.SetupError(`whip-whep ${installed} is installed but package.json pins ${LIB_VERSION}; ` +
                               'run `npm ci --prefix tests/interop`');
    return installed;
}

/*
 * Every request a page makes to medrelay (not the CORS preflights, which
 * Chromium does not report), with its status, in order; also written to
 * <name>.http.log. Failed requests have status 0 and the failure text.
 */
function recordHttp(t, page, name, base) {
    const log = [];
    const file = path.join(t.dir, `${name}.http.log`);
    const add = (e) => {
        log.push(e);
        fs.appendFileSync(file, `${new Date(e.at).toISOString()} ${e.method} ${e.url} → ${e.status}` +
                          `${e.failure ? ' ' + e.failure : ''}\n` +
                          e.body.split(/\r?\n/).filter(Boolean).map((l) => `    > ${l}\n`).join(''));
    };
    const ours = (req) => req.url().startsWith(base + '/') && req.method() !== 'OPTIONS';
    page.on('response', (res) => {
        const req = res.request();
        if (ours(req))
            add({ at: Date.now(), method: req.method(), url: req.url(), status: res.status(), body: req.postData() || '' });
    });
    page.on('requestfailed', (req) => {
        if (ours(req))
            add({ at: Date.now(), method: req.method(), url: req.url(), status: 0,
                  failure: (req.failure() || {}).errorText || 'failed', body: req.postData() || '' });
    });
    t.addFailureInfo(() => `--- ${name} HTTP exchanges:\n` +
                     log.map((e) => `${e.method} ${e.url} → ${e.status}${e.failure ? ' ' + e.failure : ''}`).join('\n'));
    return log;
}

function brief(s) {
    if (!s)
        return 'no peer connection';
    return JSON.stringify({ connection: s.connectionState, pair: s.candidatePair, transport: s.transport,
                            inbound: s.inbound, outbound: s.outbound });
}

const candidates = (sdp) => (String(sdp).match(/^a=candidate:/gm) || []).length;

/*
 * Stops a client with the library's stop() and returns what it did: the
 * peer connection's state afterwards and the DELETE to resourceURL as the
 * page's network saw it ({ status, failure }).
 */
async function stopClient(page, log, resourceURL, who) {
    const pcState = await page.evaluate(() => window.stop());
    const del = await h.waitFor(`${who}'s DELETE of ${resourceURL} to be answered`,
                                () => log.find((e) => e.method === 'DELETE' && e.url === resourceURL),
                                { timeoutMs: 10000 });
    return { who, resourceURL, pcState, status: del.status, failure: del.failure || '' };
}

/* Fails with the cause when a stopped client's DELETE was not answered 200/204. */
function checkStopped(srv, r) {
    h.assert(r.pcState === 'closed', `${r.who}: after stop() the peer connection is ${r.pcState}, expected closed`);
    if (r.status === 200 || r.status === 204)
        return;
    const id = r.resourceURL.split('/').pop().slice(0, 8);
    let lines = [];
    try {
        lines = fs.readFileSync(srv.logPath, 'utf8').split('\n').filter((l) => l.includes(id));
    } catch (_) { /* no log */ }
    const closedFirst = lines.some((l) => /peer closed DTLS|closed \(room/.test(l));
    let why = '';
    if (r.status === 404 && closedFirst)
        why = ': medrelay ended the session when the client closed its peer connection (log below), so the ' +
              'DELETE that the library sends next finds no session; DELETE of an ended session should answer 200';
    throw new h.TestFailure(`${r.who}: the library's DELETE of ${r.resourceURL}, sent after stop() closed its peer ` +
                            `connection, answered ${r.status}${r.failure ? ' ' + r.failure : ''}, expected 200 or 204` +
                            `${why}\n${lines.join('\n')}`);
}

h.main('whip_whep_js_chromium', async (t) => {
    const version = checkLibrary();
    const srv = await serverFor(t);
    const web = await webFor(t, { mounts: { '/vendor/whip-whep/': LIB_DIR } });
    h.assert(web.url !== srv.url, 'the pages must be on another origin than medrelay');
    const browser = await chromiumFor(t);

    /* Publisher: the library's WHIPClient. */
    const pub = await browser.newPage('whip');
    const pubHttp = recordHttp(t, pub, 'whip', srv.url);
    t.addFailureInfo(() => `--- publisher page console:\n${browser.consoleTail('whip')}\n---`);
    await pub.goto(`${web.url}/whip_whep_js.html`);
    await h.waitFor('the whip-whep modules to load in the page', () => pub.evaluate(() => window.libReady === true),
                    { timeoutMs: 5000 });
    const whipUrl = `${srv.url}/whip/${ROOM}/${STREAM}`;
    let published;
    try {
        published = await pub.evaluate((o) => window.publish(o), {
            url: whipUrl, token: srv.token({ room: ROOM, role: 'clinic', name: 'whip-whep-js' }),
        });
    } catch (e) {
        throw new h.TestFailure(`the library's WHIPClient.publish() failed: ${e.message}`);
    }
    t.log(`WHIP resource ${published.resourceURL} (ETag ${published.etag || 'none'})`);
    const pubStats = () => pub.evaluate(() => window.stats());
    t.addFailureInfo(async () => `--- publisher stats: ${brief(await pubStats().catch(() => null))}`);
    await h.waitFor('the library\'s publisher to connect and send video and audio', async () => {
        const s = await pubStats();
        return s.connectionState === 'connected' && s.outbound.video.packetsSent > 0 && s.outbound.audio.packetsSent > 0;
    }, { timeoutMs: 15000, describeLast: () => 'see the publisher stats below' });
    t.log('publisher connected and sending');

    /* What makes this client different: POST before gathering, then PATCH. */
    const post = pubHttp.find((e) => e.method === 'POST');
    h.assert(post && post.status === 201, `WHIP POST answered ${post && post.status}`);
    const postCandidates = candidates(post.body);
    const patches = await h.waitFor('the library to trickle its candidates with PATCH', () => {
        const p = pubHttp.filter((e) => e.method === 'PATCH' && e.url === published.resourceURL);
        return p.some((e) => candidates(e.body) > 0) && p;
    }, { timeoutMs: 5000 });
    const badPatch = patches.find((e) => e.status !== 204 && e.status !== 200);
    h.assert(!badPatch, `the library's PATCH (trickle-ice-sdpfrag) answered ${badPatch && badPatch.status}, ` +
                        `expected 204:\n${badPatch && badPatch.body}`);
    t.log(`WHIP POST with ${postCandidates} candidates, then ${patches.length} PATCH(es) with ` +
          `${patches.reduce((n, e) => n + candidates(e.body), 0)} candidates, all ${[...new Set(patches.map((e) => e.status))]}`);

    /* Viewer: the library's WHEPClient. */
    const view = await browser.newPage('whep');
    const viewHttp = recordHttp(t, view, 'whep', srv.url);
    t.addFailureInfo(() => `--- viewer page console:\n${browser.consoleTail('whep')}\n---`);
    await view.goto(`${web.url}/whip_whep_js.html`);
    await h.waitFor('the whip-whep modules to load in the viewer page', () => view.evaluate(() => window.libReady === true),
                    { timeoutMs: 5000 });
    let viewing;
    try {
        viewing = await view.evaluate((o) => window.view(o), {
            url: `${srv.url}/whep/${ROOM}/${STREAM}`,
            token: srv.token({ room: ROOM, role: 'expert', name: 'whip-whep-js-viewer' }),
        });
    } catch (e) {
        const offer = await view.evaluate(() => window.sdp().local).catch(() => '');
        throw new h.TestFailure(`the library's WHEPClient.view() failed: ${e.message}\n--- its offer:\n${offer}`);
    }
    t.log(`WHEP resource ${viewing.resourceURL}`);
    const viewStats = () => view.evaluate(() => window.stats());
    t.addFailureInfo(async () => `--- viewer stats: ${brief(await viewStats().catch(() => null))}`);
    let last = null;
    const a = await h.waitFor(`the library's viewer to decode more than ${MIN_FRAMES} frames and receive audio`, async () => {
        last = await viewStats();
        return last.inbound.video.framesDecoded > MIN_FRAMES && last.inbound.audio.packetsReceived > 0 && last;
    }, { timeoutMs: 15000, intervalMs: 250, describeLast: () => brief(last) });
    await h.sleep(1500);
    const b = await viewStats();
    const p = await pubStats();
    await pub.screenshot({ path: path.join(t.dir, 'whip.png') });
    await view.screenshot({ path: path.join(t.dir, 'whep.png') });
    h.assert(b.inbound.video.framesDecoded > a.inbound.video.framesDecoded,
             `viewer framesDecoded did not climb: ${a.inbound.video.framesDecoded} → ${b.inbound.video.framesDecoded}`);
    h.assert(b.inbound.audio.packetsReceived > a.inbound.audio.packetsReceived,
             `viewer audio packetsReceived did not climb: ${a.inbound.audio.packetsReceived} → ${b.inbound.audio.packetsReceived}`);
    h.assert(b.inbound.video.frameWidth === p.outbound.video.frameWidth &&
             b.inbound.video.frameHeight === p.outbound.video.frameHeight,
             `viewer decodes ${b.inbound.video.frameWidth}x${b.inbound.video.frameHeight}, the publisher sends ` +
             `${p.outbound.video.frameWidth}x${p.outbound.video.frameHeight}`);
    const viewPatches = viewHttp.filter((e) => e.method === 'PATCH');
    for (const [who, log] of [['WHIP', pubHttp], ['WHEP', viewHttp]]) {
        const bad = log.find((e) => e.method === 'PATCH' && e.status !== 204 && e.status !== 200);
        h.assert(!bad, `the library's ${who} PATCH answered ${bad && bad.status}, expected 204:\n${bad && bad.body}`);
    }
    const sdp = await view.evaluate(() => window.sdp());
    t.log(`viewer decoded ${b.inbound.video.framesDecoded} frames (${b.inbound.video.codec} ` +
          `${b.inbound.video.frameWidth}x${b.inbound.video.frameHeight}), ${b.inbound.audio.packetsReceived} audio packets; ` +
          `srtp ${b.transport.srtpCipher}; WHEP offer ${/a=sendrecv/.test(sdp.local) ? 'sendrecv' : 'recvonly'}, ` +
          `${viewPatches.length} PATCH(es)`);

    /* stop(): the peer connection is closed first, then DELETE. */
    const stopped = [];
    stopped.push(await stopClient(view, viewHttp, viewing.resourceURL, 'the WHEP client'));
    stopped.push(await stopClient(pub, pubHttp, published.resourceURL, 'the WHIP client'));
    const deletes = { viewer: stopped[0].status, publisher: stopped[1].status };
    stopped.forEach((r) => checkStopped(srv, r));
    t.log(`DELETEs after stop(): viewer ${deletes.viewer}, publisher ${deletes.publisher}`);
    const health = await h.waitFor('medrelay to hold no session after both DELETEs', async () => {
        const r = JSON.parse((await httpGet(`${srv.url}/healthz`)).body);
        return r.publishers === 0 && r.subscribers === 0 && r;
    }, { timeoutMs: 5000 });

    await browser.close();
    await srv.stop();
    const summary = {
        test: 'whip_whep_js_chromium',
        result: 'pass',
        library: `whip-whep@${version}`,
        whipPostCandidates: postCandidates,
        whipPatches: pubHttp.filter((e) => e.method === 'PATCH').map((e) => ({ status: e.status, candidates: candidates(e.body) })),
        whepPatches: viewPatches.map((e) => ({ status: e.status, candidates: candidates(e.body) })),
        framesDecoded: b.inbound.video.framesDecoded,
        audioPacketsReceived: b.inbound.audio.packetsReceived,
        viewerSrtp: b.transport.srtpCipher,
        deletes,
        healthAfter: health,
    };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 75000 });
