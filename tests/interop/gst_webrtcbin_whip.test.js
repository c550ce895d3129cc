#!/usr/bin/env node
'use strict';
/*
 * GStreamer webrtcbin → medrelay → Chromium (issue 14, "real clients
 * accepted as they are"). gst_webrtcbin_whip_publish.py publishes a VP8
 * test pattern (320x240, 15 fps) and an Opus tone from webrtcbin with
 * bundle-policy=max-bundle, the way GStreamer's WHIP clients do: it waits
 * for ICE gathering to complete and POSTs the offer exactly as webrtcbin
 * wrote it. Such an offer puts `m=audio 0 ...` and `a=bundle-only` on every
 * section after the first (RFC 8843 §7.2.1); a relay that takes port 0 for
 * "rejected" refuses it or answers without the audio section.
 *
 * Asserts: the POST answers 201; the answer accepts every offered section
 * (the tagged one with a port, ICE credentials, a fingerprint, a candidate;
 * the others with a port or as bundle-only in the group, with the offered
 * codec), which webrtcbin then accepts ("No fingerprint lines in sdp for
 * media 1" otherwise); webrtcbin connects; a Chromium WHEP viewer decodes
 * VP8 at 320x240 with frames climbing past MIN_FRAMES and receives audio
 * packets; the viewer's and webrtcbin's DELETEs answer 200/204.
 *
 * The offer is saved as tests/artifacts/interop/gst_webrtcbin_whip/offer.sdp
 * (the committed copy is tests/data/sdp/gst_webrtcbin_whip_maxbundle.sdp).
 *
 *   MEDRELAY_BIN=build/medrelay node tests/interop/gst_webrtcbin_whip.test.js
 */
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');
const h = require('./lib/harness');
const { serverFor, webFor, chromiumFor } = require('./lib/stack');

const ROOM = 'township-9';
const STREAM = 'gst-cam';
const MAX_PUBLISH_SECONDS = 40; /* the script stops earlier when told to */
const MIN_FRAMES = 20;          /* decoded frames: more than a second of 15 fps */
const PYTHON = '/usr/bin/python3'; /* Debian's: it sees python3-gi */

/* An {"error"} event of the publisher as a failure message naming the cause. */
function describeError(ev) {
    if (ev.status !== undefined)
        return 'medrelay refused webrtcbin\'s max-bundle offer (m=audio 0 with a=bundle-only, RFC 8843 §7.2.1): ' +
               `POST answered ${ev.status} ${ev.body}`;
    if (/refused the answer/.test(ev.error))
        return `${ev.error} (medrelay's answer, see answer.sdp, is not one webrtcbin accepts)`;
    return `webrtcbin publisher: ${ev.error} ${JSON.stringify({ ...ev, error: undefined })}`;
}

/* Starts the webrtcbin publisher; its JSON events are collected as they arrive. */
function startPublisher(t, url, token, offerOut) {
    const script = path.join(__dirname, 'gst_webrtcbin_whip_publish.py');
    /* webrtcbin's debug log (a few hundred lines) shows how it took the
     * answer, e.g. "unassociated transceiver 1" for a section it skipped. */
    const env = { ...process.env, GST_DEBUG_NO_COLOR: '1' };
    if (!env.GST_DEBUG)
        env.GST_DEBUG = 'webrtcbin:6';
    const proc = spawn(PYTHON, [script, url, token, String(MAX_PUBLISH_SECONDS), '--offer-out', offerOut],
                       { stdio: ['pipe', 'pipe', 'pipe'], env });
    const events = [];
    const stderrPath = path.join(t.dir, 'webrtcbin.stderr.log');
    const stdoutPath = path.join(t.dir, 'webrtcbin.events.log');
    proc.stderr.on('data', (d) => fs.appendFileSync(stderrPath, d));
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
        fs.appendFileSync(stdoutPath, line + '\n');
        try {
            events.push(JSON.parse(line));
        } catch (_) { /* not an event */ }
    });
    const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    const removeKill = h.onExitKill(() => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
    t.onCleanup('webrtcbin publisher', () => {
        if (proc.exitCode === null && proc.signalCode === null)
            proc.kill('SIGKILL');
        removeKill();
    });
    t.addFailureInfo(() => {
        let err = '';
        try {
            err = fs.readFileSync(stderrPath, 'utf8').split('\n').slice(-15).join('\n');
        } catch (_) { /* none */ }
        return `--- webrtcbin events: ${events.map((e) => JSON.stringify({ ...e, answer: undefined })).join('\n')}\n` +
               `--- webrtcbin stderr (tail; all of it in ${stderrPath}):\n${err}\n---`;
    });
    /* Waits for an event; an {"error"} event or the script's exit fails at
     * once (h.waitFor would keep polling through a thrown error). */
    const next = async (name, timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const ev = events.find((e) => e.event === name);
            if (ev)
                return ev;
            const bad = events.find((e) => e.error);
            if (bad)
                throw new h.TestFailure(describeError(bad));
            if (proc.exitCode !== null || proc.signalCode !== null)
                throw new h.TestFailure(`the webrtcbin publisher exited (${proc.exitCode || proc.signalCode}) before "${name}"`);
            if (Date.now() > deadline)
                throw new h.TestFailure(`timed out after ${timeoutMs} ms waiting for webrtcbin event "${name}"`);
            await h.sleep(100);
        }
    };
    const stop = () => {
        if (proc.exitCode === null)
            proc.stdin.end('stop\n');
    };
    return { proc, events, next, stop, exited, stderrPath };
}

/*
 * What the answer must hold for webrtcbin (and RFC 8843 §7.3) to accept
 * it: every offered mid answered in order, the first with a port and the
 * transport (ICE credentials, fingerprint, setup, a candidate), each other
 * one with a port or bundle-only in the group, none rejected (port 0
 * without bundle-only), each with the codec offered. Returns the problems.
 */
function answerProblems(offerShape, answerShape) {
    const problems = [];
    const offered = offerShape.sections;
    const answered = answerShape.sections;
    if (answered.length !== offered.length)
        problems.push(`the answer has ${answered.length} m-sections, the offer ${offered.length}`);
    const groupMids = answerShape.bundle.replace(/^a=group:BUNDLE\s*/, '').split(/\s+/).filter(Boolean);
    offered.forEach((o, i) => {
        const a = answered[i];
        if (!a)
            return;
        const name = `answer section ${i} (${a.kind}, mid ${a.mid})`;
        if (a.mid !== o.mid || a.kind !== o.kind)
            problems.push(`${name} does not answer offered ${o.kind} mid ${o.mid}`);
        if (!a.fingerprint)
            problems.push(`${name} has no a=fingerprint (webrtcbin: "No fingerprint lines in sdp for media ${i}")`);
        if (!o.payloads.some((pt) => a.payloads.includes(pt)))
            problems.push(`${name} answers payloads [${a.payloads}] to offered [${o.payloads}]`);
        if (a.port === 0 && !(a.bundleOnly && groupMids.includes(a.mid)))
            problems.push(`${name} is rejected (port 0 without a=bundle-only in the BUNDLE group)`);
        if (i === 0) {
            if (a.port === 0)
                problems.push(`${name}, the BUNDLE-tagged section, has port 0`);
            if (a.candidates === 0)
                problems.push(`${name}, the BUNDLE-tagged section, has no a=candidate`);
        }
        if (a.direction !== 'recvonly')
            problems.push(`${name} is ${a.direction || 'without a direction'}, expected recvonly to a sendonly offer`);
    });
    if (groupMids.join(' ') !== offered.map((o) => o.mid).join(' '))
        problems.push(`the answer's BUNDLE group is "${groupMids.join(' ')}", the offer's mids "${offered.map((o) => o.mid).join(' ')}"`);
    return problems;
}

function brief(s) {
    return JSON.stringify({
        connection: s.connectionState, pair: s.candidatePair, transport: s.transport,
        inbound: s.inbound, timing: s.timing,
    });
}

h.main('gst_webrtcbin_whip', async (t) => {
    const srv = await serverFor(t);
    const web = await webFor(t);

    const offerPath = path.join(t.dir, 'offer.sdp');
    const whipUrl = `${srv.url}/whip/${ROOM}/${STREAM}`;
    const pub = startPublisher(t, whipUrl, srv.token({ room: ROOM, role: 'clinic', name: 'gst-webrtcbin' }),
                               offerPath);

    /* The offer's shape, as webrtcbin wrote it. */
    const offerEv = await pub.next('offer', 20000);
    const offer = offerEv.shape;
    t.log(`webrtcbin offer: ${offer.bundle}; ` +
          offer.sections.map((s) => `m=${s.kind} ${s.port}${s.bundleOnly ? ' bundle-only' : ''} ` +
                                     `(${s.candidates} candidates)`).join(', '));
    h.assert(offer.sections.length === 2 && offer.sections[0].kind === 'video' && offer.sections[1].kind === 'audio',
             `expected webrtcbin to offer video then audio, got ${JSON.stringify(offer.sections)}`);
    h.assert(offer.sections[1].port === 0 && offer.sections[1].bundleOnly,
             'the test expects max-bundle\'s shape (m=audio 0 with a=bundle-only); webrtcbin wrote ' +
             JSON.stringify(offer.sections[1]));

    /* The relay's answer: 201, then every section accepted. */
    const published = await pub.next('published', 20000);
    fs.writeFileSync(path.join(t.dir, 'answer.sdp'), published.answer);
    const problems = answerProblems(offer, published.answerShape);
    h.assert(problems.length === 0,
             `medrelay's answer to webrtcbin's max-bundle offer is not acceptable: ${problems.join('; ')}\n` +
             published.answer);
    t.log(`WHIP 201, Location ${published.location}; answer: ` +
          published.answerShape.sections.map((s) => `m=${s.kind} ${s.port}${s.bundleOnly ? ' bundle-only' : ''}`).join(', '));

    /* webrtcbin applied the answer (an error event otherwise) and connects. */
    await pub.next('connected', 15000);
    t.log('webrtcbin connected');

    /* A Chromium WHEP viewer. */
    const browser = await chromiumFor(t);
    const view = await browser.newPage('whep');
    t.addFailureInfo(() => `--- viewer page console:\n${browser.consoleTail('whep')}\n---`);
    const stats = () => view.evaluate(() => window.stats());
    t.addFailureInfo(async () => {
        try {
            await view.screenshot({ path: path.join(t.dir, 'whep.failure.png'), timeout: 5000 });
            return `--- viewer stats: ${brief(await stats())}`;
        } catch (_) {
            return '';
        }
    });
    await view.goto(`${web.url}/whep.html`);
    try {
        await view.evaluate((o) => window.start(o), {
            url: `${srv.url}/whep/${ROOM}/${STREAM}`,
            token: srv.token({ room: ROOM, role: 'expert', name: 'expert-gst' }),
        });
    } catch (e) {
        throw new h.TestFailure(`WHEP subscribe to webrtcbin's stream failed: ${e.message}`);
    }
    const a = await h.waitFor('the viewer to decode a frame from webrtcbin', async () => {
        const s = await stats();
        return s.inbound.video.framesDecoded > 0 && s.timing.firstFrameAt > 0 && s;
    }, { timeoutMs: 15000, describeLast: brief });
    t.log(`first frame ${a.timing.postToFirstFrameMs} ms after the WHEP POST`);
    let last = a;
    const b = await h.waitFor(`the viewer to decode more than ${MIN_FRAMES} frames`, async () => {
        last = await stats();
        return last.inbound.video.framesDecoded > MIN_FRAMES && last;
    }, { timeoutMs: 10000, intervalMs: 250,
         describeLast: () => `framesDecoded ${last.inbound.video.framesDecoded}` });
    try {
        await h.waitFor('the viewer to receive audio', async () => {
            last = await stats();
            return last.inbound.audio.packetsReceived > 0;
        }, { timeoutMs: 5000, intervalMs: 250 });
    } catch (e) {
        /* Say which side lost the audio: webrtcbin's count of RTP buffers
         * that entered its audio pad tells whether it sent any. */
        pub.stop();
        const done = await pub.next('done', 10000).catch(() => ({}));
        const sent = (done.rtpBuffersIn || {}).audio;
        const audioAnswer = published.answerShape.sections.find((x) => x.kind === 'audio') || {};
        let evidence = '';
        try {
            const m = /unassociated transceiver \d+ <[^>]*> mid \S+/.exec(fs.readFileSync(pub.stderrPath, 'utf8'));
            evidence = m ? `; webrtcbin's log after the answer: "${m[0]}"` : '';
        } catch (_) { /* no log */ }
        const why = sent === 0
            ? 'webrtcbin sent no audio at all (0 RTP buffers entered its audio pad): it did not take the ' +
              `answer's audio section (m=audio ${audioAnswer.port}${audioAnswer.bundleOnly ? ' with a=bundle-only' : ''}) ` +
              'as accepted, so its audio transceiver stays unassociated and its pad blocked (GStreamer 1.22 ' +
              `skips answered sections with port 0, bundle-only or not)${evidence}`
            : `webrtcbin sent ${sent === undefined ? 'an unknown number of' : sent} audio RTP buffers, ` +
              'so medrelay did not forward them to the viewer';
        throw new h.TestFailure(`the viewer received no audio packets (${e.message}): ${why}`);
    }
    await h.sleep(1000);
    const c = await stats();
    await view.screenshot({ path: path.join(t.dir, 'whep.png') });
    h.assert(c.inbound.video.framesDecoded > b.inbound.video.framesDecoded,
             `framesDecoded stopped climbing (${b.inbound.video.framesDecoded} → ${c.inbound.video.framesDecoded})`);
    h.assert(c.inbound.audio.packetsReceived > b.inbound.audio.packetsReceived,
             `audio packetsReceived stopped climbing (${b.inbound.audio.packetsReceived} → ${c.inbound.audio.packetsReceived})`);
    h.assert(/vp8/i.test(c.inbound.video.codec), `the viewer decodes ${c.inbound.video.codec}, expected VP8`);
    h.assert(/opus/i.test(c.inbound.audio.codec), `the viewer receives audio as ${c.inbound.audio.codec}, expected opus`);
    h.assert(c.inbound.video.frameWidth === 320 && c.inbound.video.frameHeight === 240,
             `frame ${c.inbound.video.frameWidth}x${c.inbound.video.frameHeight}, expected webrtcbin's 320x240`);

    /* Hang up: the viewer, then webrtcbin (its script DELETEs on "stop"). */
    const viewDel = await view.evaluate(() => window.hangup());
    h.assert(viewDel === 200 || viewDel === 204, `the viewer's DELETE answered ${viewDel}`);
    pub.stop();
    const done = await pub.next('done', 15000);
    h.assert(done.state === 'connected', `webrtcbin was ${done.state} when stopped, expected connected`);
    h.assert(done.delete === 200 || done.delete === 204,
             `webrtcbin's DELETE of ${published.location} answered ${done.delete}, expected 200 or 204`);
    const exit = await pub.exited;
    h.assert(exit.code === 0, `the webrtcbin publisher exited with ${JSON.stringify(exit)}`);

    await browser.close();
    await srv.stop();
    const summary = {
        test: 'gst_webrtcbin_whip',
        result: 'pass',
        offer: offer.sections.map((s) => ({ kind: s.kind, port: s.port, bundleOnly: s.bundleOnly, candidates: s.candidates })),
        answer: published.answerShape.sections.map((s) => ({ kind: s.kind, port: s.port, bundleOnly: s.bundleOnly })),
        framesDecoded: c.inbound.video.framesDecoded,
        audioPacketsReceived: c.inbound.audio.packetsReceived,
        viewerSrtp: c.transport.srtpCipher,
        postToFirstFrameMs: a.timing.postToFirstFrameMs,
        webrtcbinRtpBuffersIn: done.rtpBuffersIn,
        deletes: { viewer: viewDel, webrtcbin: done.delete },
    };
    fs.writeFileSync(path.join(t.dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(JSON.stringify(summary));
}, { watchdogMs: 75000 });
