#!/usr/bin/env node
'use strict';
/*
 * Issue 16 on the network-namespace bed (lib/netbed.js): a clinic behind a
 * firewall that drops all UDP, and medrelay behind a 1:1 NAT.
 *
 * medrelay binds 10.87.0.1 (--media-ip) and announces 10.87.0.100
 * (--announce-ip): the server namespace DNATs 10.87.0.100 to 10.87.0.1 and
 * SNATs the relay's own UDP back to 10.87.0.100, as a cloud VM's floating
 * address or a hospital DMZ would. The clinic and the expert route
 * 10.87.0.100 to the server and may reach 10.87.0.1 only for HTTP
 * (signalling on TCP 8080, and the test pages): any media that took the
 * bound address instead of the announced one is dropped. The clinic's firewall also drops every
 * UDP packet it sends or receives.
 *
 * Asserts, printing every figure:
 *  (a) the clinic (Chromium, WHIP) connects over ICE-TCP to the announced
 *      address: its selected pair is TCP, the relay's candidate
 *      10.87.0.100; ICE connected and the first video packet sent within
 *      5 s of the clinic's POST; the relay logs the pair as tcp-passive;
 *  (b) the expert (Chromium, WHEP, UDP allowed) connects over UDP to
 *      10.87.0.100 and decodes the clinic's video within 5 s of its POST,
 *      and over 10 s it is frozen under 2 % of the time at over 25
 *      frames/s (the clinic's TCP leg on a clean link);
 *  (c) no candidate medrelay sent carries 10.87.0.1, in either answer.
 *
 * Needs root (namespaces), nftables (scripts/deps.sh test).
 *   MEDRELAY_BIN=build/medrelay node tests/interop/nat_chromium.test.js
 */
const h = require('./lib/harness');
const { bedFor, relayIn, pagesIn, chromiumIn } = require('./lib/netbed_stack');
const m = require('./lib/impaired_measure');
const paths = require('./lib/impaired_paths');

const ANNOUNCED = '10.87.0.100';
const ROOM = 'township-2';
const STREAM = 'cam';
const CONNECT_MS = 5000;
const WATCH_S = 10;

/* The server's 1:1 NAT: the announced address in, the relay's UDP out. */
async function natServer(t, bed, webPort) {
    const bound = bed.addr.server;
    const script = 'add table ip mrnat\ndelete table ip mrnat\ntable ip mrnat {\n' +
        '  chain pre { type nat hook prerouting priority dstnat; policy accept;\n' +
        `    ip daddr ${ANNOUNCED} dnat to ${bound}\n  }\n` +
        '  chain post { type nat hook postrouting priority srcnat; policy accept;\n' +
        `    ip saddr ${bound} meta l4proto udp snat to ${ANNOUNCED}\n  }\n}\n`;
    const file = require('path').join(bed.tmpDir, 'nat.nft');
    require('fs').writeFileSync(file, script);
    await bed.exec(bed.ns.server, 'nft', ['-f', file]);
    for (const role of ['clinic', 'expert'])
        await bed.ip(['-n', bed.ns[role], 'route', 'add', `${ANNOUNCED}/32`, 'via', bound]);
    /* Only signalling (and the test pages) may use the bound address. */
    const direct = [`ip daddr ${bound} meta l4proto udp drop`,
                    `ip daddr ${bound} tcp dport != { 8080, ${webPort} } drop`];
    await bed.setFilter('clinic-up', [...direct, 'meta l4proto udp drop']);
    await bed.setFilter('clinic-down', ['meta l4proto udp drop']);
    await bed.setFilter('expert-up', direct);
    t.log(`NAT: ${ANNOUNCED} -> ${bound} (DNAT), relay UDP -> ${ANNOUNCED} (SNAT); clinic UDP blocked`);
}

/* The selected pair's local and remote candidates, from getStats. */
async function selectedPair(page) {
    return page.evaluate(async () => {
        const report = await window.rawStats();
        let pairId = '';
        report.forEach((s) => {
            if (s.type === 'transport' && s.selectedCandidatePairId)
                pairId = s.selectedCandidatePairId;
        });
        const pair = pairId && report.get(pairId);
        if (!pair || pair.state !== 'succeeded')
            return null;
        const pick = (c) => c && { type: c.candidateType, protocol: c.protocol, address: c.address || c.ip,
                                   port: c.port, tcpType: c.tcpType || null };
        return { local: pick(report.get(pair.localCandidateId)), remote: pick(report.get(pair.remoteCandidateId)),
                 rttMs: typeof pair.currentRoundTripTime === 'number'
                     ? Math.round(pair.currentRoundTripTime * 1000) : null };
    });
}

/* Starts a WHIP or WHEP client on page; resolves ms from the POST to cond(page) true. */
async function startClient(page, web, o, what, cond) {
    await page.goto(`${web.url}/${o.kind}.html`);
    await m.installProbe(page, web.url);
    const since = Date.now();
    try {
        await page.evaluate((x) => window.start(x), { url: o.url, video: o.video, iceTimeoutMs: 3000,
                                                      token: o.token });
    } catch (e) {
        throw new h.TestFailure(`${what}: ${o.kind.toUpperCase()} POST failed: ${e.message}`);
    }
    await h.waitFor(what, () => cond(page), { timeoutMs: 15000, intervalMs: 50 });
    return Date.now() - since;
}

function answerCandidates(sdp) {
    return (sdp.answer || '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
}

h.main('nat_chromium', async (t) => {
    const video = paths.videoSpec();
    const bed = await bedFor(t);
    const srv = await relayIn(t, bed, { extraArgs: ['--announce-ip', ANNOUNCED] });
    const web = await pagesIn(t, bed);
    await natServer(t, bed, Number(new URL(web.url).port));
    const clinic = await chromiumIn(t, bed, 'clinic', { origin: web.url, extraArgs: paths.cameraArgs(video) });
    const expert = await chromiumIn(t, bed, 'expert', { origin: web.url });
    const checks = [];
    const check = (ok, msg) => {
        t.log(`${ok ? 'ok' : 'FAILED'}: ${msg}`);
        checks.push({ ok, msg });
    };

    const pub = await clinic.newPage('whip');
    t.addFailureInfo(() => `--- clinic page console:\n${clinic.consoleTail('whip')}`);
    const pubMs = await startClient(pub, web, {
        kind: 'whip', url: `${srv.url}/whip/${ROOM}/${STREAM}`, video,
        token: srv.token({ room: ROOM, role: 'clinic', name: 'clinic-behind-firewall' }),
    }, 'the clinic to connect over ICE-TCP and send video', async (p) => {
        const s = await m.snapshot(p);
        return s.outbound.packetsSent > 0;
    });
    /* getStats may name the selected pair a moment after media flows. */
    const clinicPair = await h.waitFor('the clinic\'s selected pair', () => selectedPair(pub),
                                       { timeoutMs: 5000, intervalMs: 100 }).catch(() => null);
    t.log(`clinic: sending ${pubMs} ms after its POST; pair ${JSON.stringify(clinicPair)}`);
    check(!!clinicPair && clinicPair.local.protocol === 'tcp' && clinicPair.remote.address === ANNOUNCED &&
          pubMs <= CONNECT_MS,
          `(a) UDP blocked: the clinic sent video ${pubMs} ms after its POST over ${JSON.stringify(clinicPair)}; ` +
          `expected a TCP pair to ${ANNOUNCED} within ${CONNECT_MS} ms`);

    const view = await expert.newPage('whep');
    t.addFailureInfo(() => `--- expert page console:\n${expert.consoleTail('whep')}`);
    const viewMs = await startClient(view, web, {
        kind: 'whep', url: `${srv.url}/whep/${ROOM}/${STREAM}`,
        token: srv.token({ room: ROOM, role: 'expert', name: 'expert-1' }),
    }, "the expert's first decoded frame", async (p) => (await m.snapshot(p)).inbound.framesDecoded > 0);
    const expertPair = await h.waitFor('the expert\'s selected pair', () => selectedPair(view),
                                       { timeoutMs: 5000, intervalMs: 100 }).catch(() => null);
    t.log(`expert: first frame ${viewMs} ms after its POST; pair ${JSON.stringify(expertPair)}`);
    check(!!expertPair && expertPair.local.protocol === 'udp' && expertPair.remote.address === ANNOUNCED &&
          viewMs <= CONNECT_MS,
          `(b) the expert decoded its first frame ${viewMs} ms after its POST over ${JSON.stringify(expertPair)}; ` +
          `expected a UDP pair to ${ANNOUNCED} within ${CONNECT_MS} ms`);

    await h.sleep(2000);
    const w = await m.measureWindow({ expert: view, clinic: pub, srv, seconds: WATCH_S });
    const frozen = m.frozenFraction(w);
    check(frozen < 0.02 && w.expert.fps > 25,
          `(b) through the clinic's ICE-TCP leg the expert was frozen ${(100 * frozen).toFixed(1)} % of ` +
          `${WATCH_S} s at ${w.expert.fps} frames/s (clinic sent ${w.clinic.totalSendKbps} kbit/s); ` +
          'expected under 2 % and over 25 frames/s');

    const sdps = [await pub.evaluate(() => window.sdp()), await view.evaluate(() => window.sdp())];
    const cands = sdps.flatMap(answerCandidates);
    t.log(`medrelay's candidates: ${JSON.stringify(cands)}`);
    check(cands.length > 0 && cands.every((c) => !c.includes(` ${bed.addr.server} `)) &&
          cands.some((c) => c.includes(` ${ANNOUNCED} `) && /tcptype passive/.test(c)),
          `(c) medrelay's answers carry ${cands.length} candidates, none with the bound ${bed.addr.server}, ` +
          `a passive TCP one with ${ANNOUNCED}; expected so`);

    const log = require('fs').readFileSync(srv.logPath, 'utf8');
    const secure = log.split('\n').filter((l) => / secure after /.test(l));
    t.log(`medrelay: ${secure.join(' | ')}`);
    check(secure.some((l) => /publisher .*tcp-passive/.test(l)),
          '(a) medrelay logged the publisher secure over a tcp-passive pair; expected so');
    const metrics = await srv.metricsText();
    const backlog = (metrics.match(/medrelay_packets_dropped_total\{cause="tcp_backlog"\} (\d+)/) || [])[1];
    t.log(`medrelay dropped ${backlog} datagrams on ICE-TCP connections that were still draining`);

    for (const page of [view, pub])
        await page.evaluate(() => window.hangup()).catch(() => {});
    await srv.stop();
    const failed = checks.filter((c) => !c.ok);
    if (failed.length)
        throw new h.TestFailure(failed.map((c) => c.msg).join('\n'));
}, { watchdogMs: 150000 });
