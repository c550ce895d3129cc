#!/usr/bin/env node
'use strict';
/*
 * Issue 16, TURN through coturn: a clinic behind a firewall that lets it
 * reach nothing but coturn's TCP port (and medrelay's HTTP port for
 * signalling) publishes anyway, relayed by coturn, with the credentials
 * medrelay hands out.
 *
 * The bed (lib/netbed.js + lib/turn_bed.js): medrelay in the server
 * namespace (10.87.0.1, [turn] urls turn:10.87.0.4:3478 over udp and tcp,
 * coturn's secret in a secret_file), coturn's own turnserver in a fourth
 * namespace (10.87.0.4, use-auth-secret, private peers denied but
 * medrelay's address), a Chromium clinic whose namespace drops all UDP and
 * all TCP but to coturn:3478 and medrelay:8080 (nftables, output hook), a
 * Chromium expert with no restriction.
 *
 * Asserts:
 *  (a) the clinic console (clinic.html, iceServers from "joined") publishes:
 *      its publisher connection's selected pair has a local candidate of
 *      type relay over TCP to coturn; the expert console decodes the
 *      clinic's video (time from the click on Publish to the first decoded
 *      frame is printed, and the frame rate and freezes over 8 s);
 *  (b) the demo page (index.html + whip.js: ICE servers from the WHIP 201's
 *      Link headers, candidates in a trickle PATCH) publishes a second
 *      stream, relayed likewise, the expert decodes it; the clinic
 *      console's subscriber connection is relayed too;
 *  (c) coturn refuses forged credentials (a wrong HMAC) and expired ones (a
 *      right HMAC over an expiry in the past): a PeerConnection given them
 *      gathers no relay candidate, while one given medrelay's does, and
 *      coturn's log shows a 401 for each username;
 *  (d) aiortc in the clinic namespace (turn_aiortc_publish.py: ICE servers
 *      from an authenticated OPTIONS) publishes over TURN: its nominated
 *      pair is relay/tcp, the expert decodes its video;
 *  (e) the firewall dropped the clinic's other attempts (its counters), and
 *      coturn's secret is nowhere in medrelay's log;
 *  (f) the same demo page publishing from the expert's namespace over plain
 *      UDP, watched over the same 8 s as (b)'s relayed stream: the relayed
 *      one is as smooth (freeze fraction at most 1 point more, frame rate
 *      at most 2 frames/s less).
 *
 * Prints one JSON line with the figures. Needs root, nftables, coturn
 * (scripts/deps.sh test). Artifacts: tests/artifacts/interop/turn_coturn_chromium/
 * (medrelay.log, turnserver.log, page consoles).
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/turn_coturn_chromium.test.js
 */
const crypto = require('crypto');
const path = require('path');
const readline = require('readline');
const h = require('./lib/harness');
const { bedFor, chromiumIn } = require('./lib/netbed_stack');
const { turnNamespace, startCoturn, clinicOnlyTurnTcp } = require('./lib/turn_bed');
const { relayWithTurn } = require('./lib/turn_relay');

const ROOM = 'township-turn';
const MEDIA_TIMEOUT_MS = 25000;

/* The selected candidate pair of a connection in a page: 'demo' (index.html's
 * pc), 'sub' (a console's subscriber connection) or a published stream's name. */
async function pairOf(page, where) {
    return page.evaluate(async (w) => {
        /* global pc */
        const room = window.consoleRoom;
        const conn = w === 'demo' ? (typeof pc !== 'undefined' ? pc : null)
            : w === 'sub' ? room && room.sub && room.sub.pc : room && (room.publishers.get(w) || {}).pc;
        if (!conn)
            return null;
        const stats = await conn.getStats();
        let pairId = null;
        stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
        const pair = pairId && stats.get(pairId);
        if (!pair)
            return { state: conn.connectionState };
        const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
        return { state: conn.connectionState, local: l.candidateType, relayProtocol: l.relayProtocol,
                 localAddress: `${l.address}:${l.port}`, url: l.url, remote: r.candidateType,
                 remoteAddress: `${r.address}:${r.port}`, rttMs: Math.round((pair.currentRoundTripTime || 0) * 1000) };
    }, where);
}

async function relayedPair(page, where, what, coturn) {
    const pair = await h.waitFor(`${what} to connect`, async () => {
        const p = await pairOf(page, where);
        return p && p.state === 'connected' && p.local ? p : null;
    }, { timeoutMs: MEDIA_TIMEOUT_MS, intervalMs: 100, describeLast: (p) => JSON.stringify(p) });
    h.assert(pair.local === 'relay' && pair.relayProtocol === 'tcp' && pair.localAddress.startsWith(`${coturn.addr}:`),
             `${what}: the selected pair's local candidate is ${JSON.stringify(pair)}; expected type relay, ` +
             `over TCP to coturn, allocated on ${coturn.addr}`);
    return pair;
}

/* Frames the expert console decoded of one stream tile, and its freezes. */
async function tileVideo(page, stream) {
    return page.evaluate(async (name) => {
        const room = window.consoleRoom;
        const tile = document.querySelector(`.tile[data-stream="${name}"] video`);
        if (!room || !room.sub || !tile || !tile.srcObject)
            return { frames: 0 };
        const ids = new Set(tile.srcObject.getTracks().map((x) => x.id));
        let out = { frames: 0 };
        (await room.sub.pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video' && ids.has(s.trackIdentifier))
                out = { frames: s.framesDecoded || 0, width: s.frameWidth, freezes: s.freezeCount || 0,
                        freezeS: s.totalFreezesDuration || 0, at: Date.now() };
        });
        return out;
    }, stream);
}

async function expertDecodes(expertPage, stream, since, what) {
    await h.waitFor(`the expert to decode ${what}`, async () => (await tileVideo(expertPage, stream)).frames > 0,
                    { timeoutMs: MEDIA_TIMEOUT_MS, intervalMs: 100 });
    return Date.now() - since;
}

/* Frame rate and freezes of a tile over windowMs. */
async function smoothness(expertPage, stream, windowMs = 8000) {
    const a = await tileVideo(expertPage, stream);
    await h.sleep(windowMs);
    const b = await tileVideo(expertPage, stream);
    const s = (b.at - a.at) / 1000;
    return { fps: Math.round(((b.frames - a.frames) / s) * 10) / 10, freezes: b.freezes - a.freezes,
             freezeFraction: Math.round(((b.freezeS - a.freezeS) / s) * 1000) / 1000, width: b.width };
}

async function openConsole(browser, srv, file, token, name) {
    const page = await browser.newPage(name);
    await page.goto(`${srv.url}/${file}#token=${encodeURIComponent(token)}&video=320x240`);
    await h.waitFor(`${name} to join`, () => page.evaluate(() => !!(window.consoleRoom && window.consoleRoom.me)),
                    { timeoutMs: 10000, describeLast: () => browser.consoleTail(name, 5) });
    return page;
}

/* (a) The clinic console publishes through TURN; the expert decodes it. */
async function consolePublishes(t, { srv, coturn, clinic, expertPage, summary }) {
    const page = await openConsole(clinic, srv, 'clinic.html',
                                   srv.token({ room: ROOM, role: 'clinic', name: 'township:7' }), 'clinic');
    const servers = await page.evaluate(() => window.consoleRoom.iceServers);
    h.assert(Array.isArray(servers) && servers.some((s) => s.username && s.credential),
             `the clinic console's joined.iceServers carry no TURN credentials: ${JSON.stringify(servers)}`);
    t.log(`clinic console: iceServers ${JSON.stringify(servers.map((s) => ({ urls: s.urls, username: s.username })))}`);
    await h.waitFor('the clinic console\'s devices', () => page.evaluate(() => !document.querySelector('#publish').disabled));
    const clicked = Date.now();
    await page.click('#publish');
    const pair = await relayedPair(page, 'cam', 'the clinic console\'s publisher', coturn);
    summary.consoleConnectMs = Date.now() - clicked;
    summary.consolePair = pair;
    summary.consoleFirstFrameMs = await expertDecodes(expertPage, 'cam', clicked, 'the clinic console\'s camera');
    t.log(`(a) clinic console relayed (${JSON.stringify(pair)}), connected ${summary.consoleConnectMs} ms and ` +
          `decoded by the expert ${summary.consoleFirstFrameMs} ms after Publish`);
    summary.consoleSmoothness = await smoothness(expertPage, 'cam');
    t.log(`(a) expert, clinic camera over TURN/TCP: ${JSON.stringify(summary.consoleSmoothness)}`);
    h.assert(summary.consoleSmoothness.fps >= 5, `the expert decodes the relayed camera at only ` +
             `${summary.consoleSmoothness.fps} frames/s`);
    return page;
}

/* (b) The demo page's WHIP client: ICE servers from the 201's Link headers. */
async function demoPublishes(t, { srv, coturn, clinic, expertPage, consolePage, summary }) {
    const page = await clinic.newPage('demo');
    const exchanges = [];
    page.on('response', async (r) => {
        const m = r.request().method();
        if (m === 'POST' || m === 'PATCH')
            exchanges.push({ method: m, status: r.status(),
                             links: (await r.headersArray()).filter((x) => x.name.toLowerCase() === 'link').length });
    });
    await page.goto(`${srv.url}/#token=${encodeURIComponent(srv.token({ room: ROOM, role: 'clinic', name: 'cart-2' }))}`);
    await page.fill('#room', ROOM);
    await page.fill('#stream', 'cam2');
    const clicked = Date.now();
    await page.click('#publish');
    summary.demoPair = await relayedPair(page, 'demo', 'the demo page\'s WHIP publisher', coturn);
    summary.demoFirstFrameMs = await expertDecodes(expertPage, 'cam2', clicked, 'the WHIP stream');
    await h.waitFor('the trickle PATCH', () => exchanges.some((x) => x.method === 'PATCH'), { timeoutMs: 8000 });
    const post = exchanges.find((x) => x.method === 'POST');
    const patch = exchanges.find((x) => x.method === 'PATCH');
    h.assert(post && post.status === 201 && post.links === 2,
             `the WHIP POST: ${JSON.stringify(post)}; expected 201 with 2 Link ice-server headers`);
    h.assert(patch.status === 204, `the trickle PATCH answered ${patch.status}, expected 204`);
    t.log(`(b) demo WHIP page relayed (${JSON.stringify(summary.demoPair)}); the expert decoded it ` +
          `${summary.demoFirstFrameMs} ms after Publish; POST ${post.status} with ${post.links} Link headers, ` +
          `PATCH ${patch.status}`);
    summary.clinicSubscriberPair = await relayedPair(consolePage, 'sub', 'the clinic console\'s subscriber', coturn);
    return page;
}

/* (f) The demo publisher over plain UDP beside (b)'s, through TURN over TCP. */
async function turnAgainstUdp(t, { srv, expert, expertPage, summary }) {
    const page = await expert.newPage('demo-udp');
    await page.goto(`${srv.url}/#token=${encodeURIComponent(srv.token({ room: ROOM, role: 'clinic', name: 'cart-udp' }))}`);
    await page.fill('#room', ROOM);
    await page.fill('#stream', 'cam-udp');
    const clicked = Date.now();
    await page.click('#publish');
    await expertDecodes(expertPage, 'cam-udp', clicked, 'the UDP stream');
    await h.sleep(3000);
    const [turn, udp] = await Promise.all([smoothness(expertPage, 'cam2'), smoothness(expertPage, 'cam-udp')]);
    summary.turnVsUdp = { turn, udp };
    t.log(`(f) the same publisher through TURN/TCP ${JSON.stringify(turn)}, over UDP ${JSON.stringify(udp)}`);
    h.assert(turn.freezeFraction <= udp.freezeFraction + 0.01 && turn.fps >= udp.fps - 2,
             `through TURN/TCP ${JSON.stringify(turn)} against UDP ${JSON.stringify(udp)}: expected as smooth ` +
             '(freeze fraction at most 1 point more, at most 2 frames/s less)');
}

/* Gathers with the given ICE servers only (relay policy): candidates and errors. */
async function gatherWith(page, iceServers) {
    return page.evaluate(async (servers) => {
        const conn = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: 'relay' });
        const cands = [], errors = [];
        conn.onicecandidate = (e) => { if (e.candidate && e.candidate.candidate) cands.push(e.candidate.candidate); };
        conn.onicecandidateerror = (e) => errors.push({ code: e.errorCode, text: e.errorText });
        conn.addTransceiver('audio');
        await conn.setLocalDescription(await conn.createOffer());
        await new Promise((resolve) => {
            const timer = setTimeout(resolve, 10000);
            conn.onicegatheringstatechange = () => {
                if (conn.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
            };
        });
        conn.close();
        return { relay: cands.filter((c) => / typ relay /.test(c)).length, errors };
    }, iceServers);
}

/* (c) Forged and expired credentials are refused by coturn. */
async function badCredentials(t, { coturn, turnSecret, consolePage, summary }) {
    const url = `turn:${coturn.addr}:3478?transport=tcp`;
    const hmac = (secret, user) => crypto.createHmac('sha1', secret).update(user).digest('base64');
    const good = (await consolePage.evaluate(() => window.consoleRoom.iceServers)).find((s) => s.username);
    const expiredUser = `${Math.floor(Date.now() / 1000) - 120}:expired-cart`;
    const forgedUser = `${Math.floor(Date.now() / 1000) + 3600}:forged-cart`;
    const cases = {
        medrelay: { urls: url, username: good.username, credential: good.credential },
        forged: { urls: url, username: forgedUser, credential: hmac('not-the-secret-at-all-0000', forgedUser) },
        expired: { urls: url, username: expiredUser, credential: hmac(turnSecret, expiredUser) },
    };
    const out = {};
    for (const [name, server] of Object.entries(cases))
        out[name] = await gatherWith(consolePage, [server]);
    t.log(`(c) gathering through coturn: ${JSON.stringify(out)}`);
    summary.gathering = out;
    h.assert(out.medrelay.relay > 0, `medrelay's credentials gathered no relay candidate: ${JSON.stringify(out.medrelay)}`);
    h.assert(out.forged.relay === 0, `forged credentials gathered a relay candidate: ${JSON.stringify(out.forged)}`);
    h.assert(out.expired.relay === 0, `expired credentials gathered a relay candidate: ${JSON.stringify(out.expired)}`);
    /* With use-auth-secret coturn says the same for both: no key for that
     * username (an expiry in the past, or an HMAC that does not verify). */
    const log = coturn.log();
    for (const user of [forgedUser, expiredUser])
        h.assert(log.includes(`Cannot find credentials of user <${user}>`) &&
                 log.includes(`user <${user}>: incoming packet message processed, error 401`),
                 `coturn's log does not refuse ${user} with 401 (${coturn.logPath})`);
}

/* (d) aiortc in the clinic namespace, its ICE servers from an authenticated OPTIONS. */
async function aiortcPublishes(t, { bed, srv, coturn, expertPage, summary }) {
    const script = path.join(h.INTEROP_DIR, 'turn_aiortc_publish.py');
    const token = srv.token({ room: ROOM, role: 'clinic', name: 'aiortc-cart' });
    const since = Date.now();
    const proc = bed.spawn(bed.ns.clinic, '/usr/bin/python3',
                           [script, bed.addr.clinic, `${srv.url}/whip/${ROOM}/aiortc`, token, '12'],
                           { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const events = [];
    proc.stderr.on('data', (d) => { stderr += d; });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
        try { events.push(JSON.parse(line)); } catch (_) { /* not ours */ }
    });
    t.onCleanup('aiortc', () => proc.kill('SIGKILL'));
    t.addFailureInfo(() => `--- aiortc events ${JSON.stringify(events)}; stderr:\n${stderr.slice(-2000)}`);
    const connected = await h.waitFor('aiortc to connect over TURN', () => {
        const bad = events.find((e) => e.error);
        if (bad || proc.exitCode !== null)
            throw new h.TestFailure(`aiortc: ${JSON.stringify(bad || { exit: proc.exitCode })}`);
        return events.find((e) => e.event === 'connected');
    }, { timeoutMs: MEDIA_TIMEOUT_MS, intervalMs: 100 });
    const pair = connected.pair || {};
    h.assert(pair.local === 'relay' && pair.localAddress.startsWith(`${coturn.addr}:`),
             `aiortc's nominated pair is ${JSON.stringify(pair)}; expected a relay candidate on coturn`);
    summary.aiortc = { pair, connectMs: connected.ms };
    summary.aiortc.firstFrameMs = await expertDecodes(expertPage, 'aiortc', since, 'aiortc\'s video');
    t.log(`(d) aiortc relayed (${JSON.stringify(pair)}), connected ${connected.ms} ms after its POST, decoded by ` +
          `the expert ${summary.aiortc.firstFrameMs} ms after it started`);
    proc.kill('SIGTERM');
}

h.main('turn_coturn_chromium', async (t) => {
    const summary = { test: 'turn_coturn_chromium' };
    const bed = await bedFor(t);
    const turnNs = await turnNamespace(t, bed);
    const turnSecret = crypto.randomBytes(24).toString('base64url');
    const coturn = await startCoturn(t, bed, turnNs, { secret: turnSecret });
    const urls = [`turn:${coturn.addr}:3478?transport=udp`, `turn:${coturn.addr}:3478?transport=tcp`];
    const srv = await relayWithTurn(t, bed, { urls, turnSecret, ttl: 3600 });
    const fw = await clinicOnlyTurnTcp(t, bed, { coturn });
    const expert = await chromiumIn(t, bed, 'expert', { origin: srv.url });
    const clinic = await chromiumIn(t, bed, 'clinic', { origin: srv.url });
    summary.chromium = clinic.version;
    const expertPage = await openConsole(expert, srv, 'expert.html',
                                         srv.token({ room: ROOM, role: 'expert', name: 'dr-li' }), 'expert');
    const ctx = { t, bed, srv, coturn, clinic, expert, expertPage, turnSecret, summary };
    ctx.consolePage = await consolePublishes(t, ctx);
    await demoPublishes(t, ctx);
    await turnAgainstUdp(t, ctx);
    await badCredentials(t, ctx);
    await aiortcPublishes(t, ctx);
    summary.firewall = await fw.counters();
    t.log(`(e) clinic firewall counters: ${JSON.stringify(summary.firewall)}`);
    h.assert(summary.firewall.dropped > 0 && summary.firewall.turnTcp > 0,
             `the clinic firewall saw ${JSON.stringify(summary.firewall)}: expected drops (UDP, TCP to the media ` +
             'ports) and TCP to coturn');
    h.assert(!srv.logText().includes(turnSecret), 'medrelay\'s log holds coturn\'s secret');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 160000 });
