'use strict';
/*
 * The two paths the impaired-network tests compare, between a clinic
 * browser and an expert browser on the test bed (netbed_stack.js):
 *
 *   relay:  the clinic publishes over WHIP (pages/whip.html) to medrelay,
 *           the expert watches over WHEP (pages/whep.html)
 *   direct: the same browsers connected peer to peer (pages/p2p.html), SDP
 *           carried by the test, host candidates only
 *
 *   const p = await relayPath({ t, srv, web, clinic, expert, video });
 *   const q = await directPath({ t, web, clinic, expert, video });
 *   p.clinic, p.expert (playwright pages), await p.close()
 *
 * Both resolve once the expert has decoded its first frame, and both carry
 * audio and video, so the uplink carries the same load on either path.
 * Also: an aiortc publisher inside the clinic namespace (aiortcPublisher).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const readline = require('readline');
const h = require('./harness');
const { installProbe, snapshot } = require('./impaired_measure');

const FIRST_FRAME_MS = 20000;

/* "640x480@30" (MR_IMPAIRED_VIDEO) → { width, height, frameRate }. */
function videoSpec(text = process.env.MR_IMPAIRED_VIDEO || '640x480@30') {
    const m = /^(\d+)x(\d+)@(\d+)$/.exec(text);
    if (!m)
        throw new h.SetupError(`video "${text}" is not WIDTHxHEIGHT@FPS`);
    return { width: Number(m[1]), height: Number(m[2]), frameRate: Number(m[3]) };
}

/*
 * Chromium flags for a fake camera that needs bitrate: Chromium's built-in
 * fake device draws a flat pattern at 20 frames/s that VP8 codes in about
 * 500 kbit/s, under the 1 Mbit/s cap the tests put on the uplink, and far
 * fewer packets per frame than a real camera loses at a given loss rate.
 * This is ffmpeg's testsrc2 (moving parts) with temporal noise, at the
 * size and rate asked, a 4 s loop (Y4M, about 55 MB at 640x480@30),
 * written once per size into the temporary folder and reused.
 */
function cameraArgs(video) {
    const name = `medrelay-impaired-${video.width}x${video.height}@${video.frameRate}-v1.y4m`;
    const file = path.join(os.tmpdir(), name);
    if (!fs.existsSync(file)) {
        const part = `${file}.${process.pid}.part`;
        try {
            execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i',
                `testsrc2=size=${video.width}x${video.height}:rate=${video.frameRate}:duration=4`,
                '-vf', 'noise=alls=10:allf=t+u', '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', part],
            { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 });
        } catch (e) {
            fs.rmSync(part, { force: true });
            throw new h.SetupError(`could not make the fake camera clip with ffmpeg (scripts/deps.sh test ` +
                                   `installs it): ${e.stderr ? e.stderr.toString().trim() : e.message}`);
        }
        fs.renameSync(part, file);
    }
    return [`--use-file-for-fake-video-capture=${file}`];
}

function brief(s) {
    return s ? JSON.stringify({ inbound: s.inbound, outbound: s.outbound, pair: s.pair }) : 'none';
}

/* Waits for the expert's first decoded frame; resolves ms since `since`. */
async function firstFrame(page, since, what) {
    await h.waitFor(`${what}: the expert's first decoded frame`, async () => {
        const s = await snapshot(page);
        return s.inbound.framesDecoded > 0;
    }, { timeoutMs: FIRST_FRAME_MS, intervalMs: 100,
         describeLast: () => 'no frame decoded (see the expert page console)' });
    return Date.now() - since;
}

/*
 * Waits until the expert decodes at least minFps frames in one second, for
 * up to timeoutMs; resolves the ms it took, or null when it never did (the
 * caller reports it: video that does not come back is a finding, not a
 * set-up problem).
 */
async function waitFlowing(page, { minFps = 10, timeoutMs = 10000 } = {}) {
    const t0 = Date.now();
    let prev = await snapshot(page);
    while (Date.now() - t0 < timeoutMs) {
        await h.sleep(1000);
        const cur = await snapshot(page);
        const rate = ((cur.inbound.framesDecoded || 0) - (prev.inbound.framesDecoded || 0)) /
                     ((cur.at - prev.at) / 1000);
        if (rate >= minFps)
            return Date.now() - t0;
        prev = cur;
    }
    return null;
}

/* Before an impairment: every earlier one off, and the expert's picture moving again. */
async function recover(t, bed, page, timeoutMs = 12000) {
    await bed.clear();
    const ms = await waitFlowing(page, { timeoutMs });
    t.log(ms === null ? `the expert's video did not flow again within ${timeoutMs / 1000} s of the link clearing`
        : `the expert's video flows (${ms} ms after the link cleared)`);
    return ms;
}

async function relayPath({ t, srv, web, clinic, expert, video, room = 'township-1', stream = 'cam' }) {
    const pub = await clinic.newPage('whip');
    await pub.goto(`${web.url}/whip.html`);
    await installProbe(pub, web.url);
    const whip = `${srv.url}/whip/${room}/${stream}`;
    try {
        await pub.evaluate((o) => window.start(o), {
            url: whip, video, iceTimeoutMs: 3000,
            token: srv.token({ room, role: 'clinic', name: 'clinic-cart' }),
        });
    } catch (e) {
        throw new h.TestFailure(`WHIP publish from the clinic namespace failed: ${e.message}`);
    }
    await h.waitFor('the clinic to connect to medrelay and send video', async () => {
        const s = await snapshot(pub);
        return s.outbound.packetsSent > 0 && s;
    }, { timeoutMs: 15000, describeLast: brief });

    const view = await expert.newPage('whep');
    await view.goto(`${web.url}/whep.html`);
    await installProbe(view, web.url);
    const since = Date.now();
    try {
        await view.evaluate((o) => window.start(o), {
            url: `${srv.url}/whep/${room}/${stream}`, iceTimeoutMs: 3000,
            token: srv.token({ room, role: 'expert', name: 'expert-1' }),
        });
    } catch (e) {
        throw new h.TestFailure(`WHEP subscribe from the expert namespace failed: ${e.message}`);
    }
    const ms = await firstFrame(view, since, 'relay path');
    t.log(`relay path: the expert decoded its first frame ${ms} ms after its WHEP POST`);
    return {
        name: 'relay',
        clinic: pub,
        expert: view,
        async close() {
            for (const page of [view, pub]) {
                await page.evaluate(() => window.hangup()).catch(() => {});
                await page.close().catch(() => {});
            }
        },
    };
}

async function directPath({ t, web, clinic, expert, video }) {
    const a = await clinic.newPage('p2p');
    const b = await expert.newPage('p2p');
    await a.goto(`${web.url}/p2p.html`);
    await b.goto(`${web.url}/p2p.html`);
    const since = Date.now();
    const offer = await a.evaluate((o) => window.p2p.offer(o), { video });
    const answer = await b.evaluate((s) => window.p2p.answer(s), offer);
    await a.evaluate((s) => window.p2p.accept(s), answer);
    const cands = (sdp) => (sdp.match(/^a=candidate:.*$/gm) || []).map((l) => l.split(' ').slice(4, 6).join(':'));
    t.log(`direct path: clinic candidates ${cands(offer).join(', ')}; expert ${cands(answer).join(', ')}`);
    const ms = await firstFrame(b, since, 'direct path');
    t.log(`direct path: the expert decoded its first frame ${ms} ms after the offer`);
    return {
        name: 'direct',
        clinic: a,
        expert: b,
        async close() {
            for (const page of [b, a]) {
                await page.evaluate(() => window.p2p.close()).catch(() => {});
                await page.close().catch(() => {});
            }
        },
    };
}

/*
 * aiortc (tests/interop/aiortc_whip_publish.py, through
 * impaired_aiortc_publish.py which gives it the clinic's address) publishing
 * for `seconds` from the clinic namespace. Resolves once it has published.
 */
async function aiortcPublisher({ t, bed, srv, seconds, room = 'township-1', stream = 'aiortc' }) {
    const script = path.join(h.INTEROP_DIR, 'impaired_aiortc_publish.py');
    const token = srv.token({ room, role: 'clinic', name: 'aiortc-cart' });
    const proc = bed.spawn(bed.ns.clinic, '/usr/bin/python3',
                           [script, bed.addr.clinic, `${srv.url}/whip/${room}/${stream}`, token, String(seconds)],
                           { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const events = [];
    proc.stderr.on('data', (d) => { stderr += d; });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
        try {
            events.push(JSON.parse(line));
        } catch (_) { /* not ours */ }
    });
    t.onCleanup('aiortc', () => proc.kill('SIGKILL'));
    t.addFailureInfo(() => `--- aiortc stderr:\n${stderr.slice(-3000)}\n---`);
    await h.waitFor('aiortc to publish from the clinic namespace', () => {
        const bad = events.find((e) => e.error);
        if (bad || proc.exitCode !== null)
            throw new h.TestFailure(`aiortc: ${JSON.stringify(bad || { exit: proc.exitCode })} ${stderr.slice(-500)}`);
        return events.find((e) => e.event === 'published');
    }, { timeoutMs: 20000 });
    return {
        room,
        stream,
        events,
        stop: () => proc.kill('SIGTERM'),
    };
}

/* A WHEP viewer page on the expert for a stream someone else publishes. */
async function relayViewer({ t, srv, web, expert, room, stream, name = 'whep-aiortc' }) {
    const view = await expert.newPage(name);
    await view.goto(`${web.url}/whep.html`);
    await installProbe(view, web.url);
    const since = Date.now();
    await view.evaluate((o) => window.start(o), {
        url: `${srv.url}/whep/${room}/${stream}`, iceTimeoutMs: 3000,
        token: srv.token({ room, role: 'expert', name: 'expert-2' }),
    });
    const ms = await firstFrame(view, since, `viewer of ${stream}`);
    t.log(`${stream}: the expert decoded its first frame ${ms} ms after its WHEP POST`);
    return view;
}

module.exports = {
    videoSpec, cameraArgs, relayPath, directPath, waitFlowing, recover, aiortcPublisher, relayViewer,
};
