#!/usr/bin/env node
'use strict';
/*
 * Simulcast from a Chromium clinic through medrelay to a Chromium expert
 * and an aiortc expert (RFC 8853, issue 17).
 *
 * The clinic publishes its camera (1280x720 fake device) as three rid
 * layers, q (320x180), h (640x360) and f (1280x720). Asserts:
 *  (a) the WHIP answer accepts the three layers (a=rid recv, a=simulcast:recv)
 *      and the clinic sends all three (with transport-cc the encoder ramps up:
 *      the time until f is sent is reported);
 *  (b) the expert decodes the top layer, f;
 *  (c) the clinic switches f off (as its encoder does on a weak uplink): the
 *      expert is moved to h (640 wide) within a second (its picture stops
 *      with f: the freeze is reported); f back on, the expert is moved up
 *      within 10 s without a freeze over 500 ms (f goes on until h's key
 *      frame);
 *  (d) the expert never saw a frame from two layers mixed: the picture stays
 *      decodable (framesDecoded climbs through both switches) and medrelay
 *      counted the switches (medrelay_layer_switches_total);
 *  (e) an aiortc viewer (its own stack and libvpx decoder) decodes the same
 *      sequence: 1280x720, then 640x360 while f is off, then 1280x720;
 *  (g) a second Chromium expert asking for WHEP ?layer=medium decodes h
 *      throughout, while the first is on f; ?layer=huge is refused with
 *      400 bad-request;
 *  (f) the recording took the best layer throughout: one WebM file that
 *      ffmpeg decodes without an error, with 1280-wide frames and 640-wide
 *      ones while f was off.
 * Prints one JSON line with the times; artifacts in
 * tests/artifacts/interop/simulcast_chromium/.
 */
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { spawn, execFileSync } = require('child_process');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');

const ROOM = 'clinic-sim';
const STREAM = 'cam';
/* MR_SIMULCAST_CODEC=H264 (interop.simulcast_h264_chromium): the same
 * with the clinic's Chromium encoding H.264 (OpenH264), whose layers the
 * relay ranks by bitrate and switches at IDRs; recorded to Matroska. Its
 * layers send hundreds of padding-only packets on their media SSRCs,
 * which the viewers' numbering must skip: before it did, the expert NACKed
 * ~15000 packets and froze ~1 s at each move up. */
const CODEC = process.env.MR_SIMULCAST_CODEC || 'VP8';
const NAME = CODEC === 'VP8' ? 'simulcast_chromium' : `simulcast_${CODEC.toLowerCase()}_chromium`;
const REC_EXT = CODEC === 'VP8' ? '.webm' : '.mkv';
const PYTHON = '/usr/bin/python3'; /* Debian's: it sees python3-aiortc */

/* An aiortc WHEP viewer (aiortc_whep_view.py); its JSON events as they come. */
function startAiortcViewer(t, url, token, seconds) {
    const proc = spawn(PYTHON, [path.join(__dirname, 'aiortc_whep_view.py'), url, token, String(seconds)],
                       { stdio: ['ignore', 'pipe', 'pipe'] });
    const events = [];
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
        try { events.push(JSON.parse(line)); } catch (_) { /* not ours */ }
    });
    const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    t.onCleanup('aiortc viewer', () => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
    t.addFailureInfo(() => `--- aiortc viewer events: ${JSON.stringify(events)}\nstderr:\n${stderr.slice(-2000)}`);
    return { events, exited };
}

h.main(NAME, async (t) => {
    const srv = await serverFor(t);
    const web = await webFor(t);
    const browser = await chromiumFor(t);
    const pub = await browser.newPage('whip');
    const view = await browser.newPage('whep');
    const capped = await browser.newPage('whep-medium');
    t.addFailureInfo(() => `--- publisher console:\n${browser.consoleTail('whip')}\n---`);
    t.addFailureInfo(() => `--- viewer console:\n${browser.consoleTail('whep')}\n---`);
    t.addFailureInfo(async () => `--- layers: ${JSON.stringify(await pub.evaluate(() => window.layers()).catch(() => null))}`);
    t.addFailureInfo(async () => `--- viewer: ${JSON.stringify((await view.evaluate(() => window.stats()).catch(() => ({}))).inbound)}`);
    t.addFailureInfo(async () => {
        const scraper = srv.token({ room: '*', role: 'operator', name: 'scraper' });
        const m = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${scraper}` } })
            .then((r) => r.text()).catch((e) => e.message);
        return `--- metrics:\n${String(m).split('\n').filter((l) => /layer|keyframe|dropped|forwarded/.test(l) && !l.startsWith('#')).join('\n')}`;
    });
    t.addFailureInfo(async () => `--- publisher outbound: ${JSON.stringify((await pub.evaluate(() => window.stats()).catch(() => ({}))).outbound)}`);
    await pub.goto(`${web.url}/whip.html`);
    await view.goto(`${web.url}/whep.html`);
    await capped.goto(`${web.url}/whep.html`);

    const pubToken = srv.token({ room: ROOM, role: 'clinic', name: 'cart-sim' });
    const viewToken = srv.token({ room: ROOM, role: 'viewer', name: 'expert-sim' });
    await pub.evaluate((o) => window.start(o), {
        url: `${srv.url}/whip/${ROOM}/${STREAM}`, token: pubToken, simulcast: true,
        video: { width: 1280, height: 720, frameRate: 30 },
        videoCodec: CODEC === 'VP8' ? undefined : CODEC,
    });
    const t0 = Date.now();

    /* (a) */
    const answer = (await pub.evaluate(() => window.sdp())).answer;
    const rids = answer.split('\r\n').filter((l) => l.startsWith('a=rid:'));
    const sim = answer.split('\r\n').find((l) => l.startsWith('a=simulcast:'));
    t.log(`answer: ${rids.join(' | ')} | ${sim}`);
    h.assert(rids.length === 3 && rids.every((l) => / recv$/.test(l)) && sim === 'a=simulcast:recv q;h;f',
             `the answer does not accept the three layers: ${rids.join(' | ')} | ${sim}`);
    const all = await h.waitFor('the clinic to send all three layers', async () => {
        const l = await pub.evaluate(() => window.layers());
        return ['q', 'h', 'f'].every((r) => l[r] && l[r].framesSent > 0) && l;
    }, { timeoutMs: 30000, intervalMs: 200 });
    const rampMs = Date.now() - t0;
    t.log(`all three layers sent ${rampMs} ms after the WHIP answer: ${JSON.stringify(all)}`);
    const width = { q: all.q.width, h: all.h.width, f: all.f.width };
    h.assert(width.f > width.h && width.h > width.q, `layer sizes ${JSON.stringify(width)}`);

    /* (b) */
    await view.evaluate((o) => window.start(o), { url: `${srv.url}/whep/${ROOM}/${STREAM}`, token: viewToken });
    const stats = () => view.evaluate(() => window.stats());
    const top = await h.waitFor('the expert to decode the top layer', async () => {
        const s = await stats();
        return s.inbound.video.frameWidth === width.f && s;
    }, { timeoutMs: 15000, intervalMs: 100, describeLast: (s) => JSON.stringify(s && s.inbound.video) });
    t.log(`expert decodes ${top.inbound.video.frameWidth}x${top.inbound.video.frameHeight}`);
    const aio = startAiortcViewer(t, `${srv.url}/whep/${ROOM}/${STREAM}`,
                                  srv.token({ room: ROOM, role: 'viewer', name: 'expert-aiortc' }), 14);
    await h.waitFor('the aiortc viewer to decode the top layer', () =>
        aio.events.find((e) => e.error) ? Promise.reject(new h.TestFailure(JSON.stringify(aio.events)))
            : aio.events.some((e) => e.event === 'size' && e.width === width.f),
    { timeoutMs: 15000, intervalMs: 100 });
    t.log('aiortc viewer decodes the top layer');

    /* (g) */
    const bad = await fetch(`${srv.url}/whep/${ROOM}/${STREAM}?layer=huge`, {
        method: 'POST', body: 'v=0\r\n',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${viewToken}` },
    });
    const badBody = await bad.text();
    h.assert(bad.status === 400 && JSON.parse(badBody).error === 'bad-request',
             `(g) WHEP ?layer=huge answered ${bad.status} ${badBody}; expected 400 bad-request`);
    await capped.evaluate((o) => window.start(o), {
        url: `${srv.url}/whep/${ROOM}/${STREAM}?layer=medium`,
        token: srv.token({ room: ROOM, role: 'viewer', name: 'expert-phone' }),
    });
    const cappedStats = () => capped.evaluate(() => window.stats());
    await h.waitFor('the capped expert to decode h', async () => {
        const s = await cappedStats();
        return s.inbound.video.frameWidth === width.h && s;
    }, { timeoutMs: 15000, intervalMs: 100, describeLast: (s) => JSON.stringify(s && s.inbound.video) });
    t.log(`the expert asking for ?layer=medium decodes ${width.h} wide`);

    /* (c) down */
    await h.sleep(1000);
    const before = await stats();
    await pub.evaluate(() => window.setLayerActive('f', false));
    const offAt = Date.now();
    const down = await h.waitFor('the expert to be moved to h', async () => {
        const s = await stats();
        return s.inbound.video.frameWidth === width.h && s;
    }, { timeoutMs: 8000, intervalMs: 50, describeLast: (s) => JSON.stringify(s && s.inbound.video) });
    const downMs = Date.now() - offAt;
    t.log(`f off: the expert decodes ${width.h} wide ${downMs} ms later`);
    await h.sleep(1500);
    const mid = await stats();
    const cappedMid = await capped.evaluate(() => window.stats());

    /* (c) up */
    await pub.evaluate(() => window.setLayerActive('f', true));
    const onAt = Date.now();
    await h.waitFor('the expert to be moved back to f', async () => {
        const s = await stats();
        return s.inbound.video.frameWidth === width.f && s;
    }, { timeoutMs: 15000, intervalMs: 100, describeLast: (s) => JSON.stringify(s && s.inbound.video) });
    const upMs = Date.now() - onAt;
    t.log(`f on: the expert decodes ${width.f} wide ${upMs} ms later`);
    await h.sleep(1500);
    const end = await stats();
    const cappedUp = await cappedStats();

    const cappedEnd = await cappedStats();
    const v0 = before.inbound.video, v1 = mid.inbound.video, v2 = end.inbound.video;
    const freezeMs = (a, b) => Math.round((b.totalFreezesDuration - a.totalFreezesDuration) * 1000);
    const downFreezeMs = freezeMs(v0, v1), upFreezeMs = freezeMs(v1, v2);
    /* The capped viewer stays on h: what it froze meanwhile was not the
     * switch's doing. */
    const encoderFreezeMs = freezeMs(cappedMid.inbound.video, cappedUp.inbound.video);
    t.log(`while moved up the expert froze ${upFreezeMs} ms, the capped viewer on h ${encoderFreezeMs} ms`);
    t.log(`frames decoded ${v0.framesDecoded} → ${v1.framesDecoded} → ${v2.framesDecoded}; ` +
          `freezes ${v2.freezeCount - v0.freezeCount} lasting ${freezeMs(v0, v2)} ms`);
    await h.waitFor('the aiortc viewer to finish', () => aio.events.some((e) => e.event === 'done'),
                    { timeoutMs: 30000, intervalMs: 200 });
    const sizes = aio.events.filter((e) => e.event === 'size').map((e) => e.width);
    const aioDone = aio.events.find((e) => e.event === 'done');
    t.log(`aiortc viewer: sizes ${sizes.join(' → ')}, ${aioDone.frames} frames, ${aioDone.state}`);
    const scraper = srv.token({ room: '*', role: 'operator', name: 'scraper' });
    const metrics = await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${scraper}` } })
        .then((r) => r.text());
    const switches = Number((metrics.match(/^medrelay_layer_switches_total (\d+)/m) || [])[1] || 0);
    t.log(`medrelay_layer_switches_total ${switches}`);
    await pub.screenshot({ path: path.join(t.dir, 'whip.png') });
    await view.screenshot({ path: path.join(t.dir, 'whep.png') });
    for (const page of [view, capped, pub])
        await page.evaluate(() => window.hangup()).catch(() => {});
    await browser.close();

    /* (f) The finished file (the .recording. one is renamed when done). */
    const walk = (d) => fs.readdirSync(d, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const file = await h.waitFor('the recording to be complete', () =>
        walk(srv.recordDir).find((f) => f.endsWith(REC_EXT) && !f.includes('.recording.')),
    { timeoutMs: 15000, intervalMs: 250 });
    let decodeErrors;
    try {
        decodeErrors = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'],
                                    { timeout: 120000, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    } catch (e) {
        decodeErrors = `ffmpeg failed: ${e.stderr ? e.stderr.toString().slice(-1500) : e.message}`;
    }
    const frameWidths = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries',
                                                 'frame=width', '-of', 'csv=p=0', file],
                                     { timeout: 120000, maxBuffer: 64 << 20 }).toString().trim().split('\n')
        .map(Number);
    const recWidths = {};
    frameWidths.forEach((w) => { recWidths[w] = (recWidths[w] || 0) + 1; });
    t.log(`recording: ${frameWidths.length} frames, by width ${JSON.stringify(recWidths)}; ` +
          `ffmpeg: ${decodeErrors.trim() ? decodeErrors.trim().slice(0, 300) : 'no errors'}`);
    await srv.stop();

    h.assert(downMs < 1500, `(c) the expert took ${downMs} ms to be moved to h; expected under 1000 (+500 for ` +
             'the polling and a loaded machine)');
    h.assert(upMs < 10000, `(c) the expert took ${upMs} ms to be moved back to f; expected under 10000`);
    h.assert(upFreezeMs <= 500, `(c) the expert froze ${upFreezeMs} ms while moved up (the viewer that ` +
             `stayed on h ${encoderFreezeMs} ms); expected at most 500`);
    h.assert(v1.framesDecoded > v0.framesDecoded + 20 && v2.framesDecoded > v1.framesDecoded + 20,
             `(d) frames decoded ${v0.framesDecoded} → ${v1.framesDecoded} → ${v2.framesDecoded}`);
    h.assert(switches >= 2, `(d) medrelay counted ${switches} layer switches; expected at least 2`);
    h.assert(cappedEnd.inbound.video.frameWidth === width.h && cappedEnd.inbound.video.framesDecoded > 60,
             `(g) the capped expert ends on ${cappedEnd.inbound.video.frameWidth} wide after ` +
             `${cappedEnd.inbound.video.framesDecoded} frames; expected ${width.h}, decoding`);
    h.assert(!decodeErrors.trim() && recWidths[width.f] > 30 && recWidths[width.h] > 5,
             `(f) the recording: frames by width ${JSON.stringify(recWidths)}, ffmpeg: ${decodeErrors.slice(0, 500)}; ` +
             `expected ${width.f}-wide frames, ${width.h}-wide ones while f was off, no decoding error`);
    const seq = sizes.filter((w, i) => i === 0 || w !== sizes[i - 1]);
    h.assert(seq.join(',').includes(`${width.f},${width.h},${width.f}`) && aioDone.state === 'connected' &&
             (aioDone.delete === 200 || aioDone.delete === 204) && (await aio.exited) === 0,
             `(e) the aiortc viewer decoded widths ${sizes.join(' → ')} and ended ${JSON.stringify(aioDone)}; ` +
             `expected ${width.f} → ${width.h} → ${width.f}, connected, DELETE 200/204`);
    const summary = {
        test: NAME, codec: CODEC, result: 'pass', chromium: browser.version, layers: width,
        allLayersMs: rampMs, downSwitchMs: downMs, upSwitchMs: upMs, downFreezeMs, upFreezeMs, encoderFreezeMs,
        switches, cappedWidth: cappedEnd.inbound.video.frameWidth, aiortcWidths: sizes, aiortcFrames: aioDone.frames, recordingFramesByWidth: recWidths,
    };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 110000 });
