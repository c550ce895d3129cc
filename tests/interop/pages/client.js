/*
 * A plain-JS WHIP (RFC 9725) and WHEP client for the interop tests, without
 * trickle ICE: gather (up to iceTimeoutMs), POST the offer, apply the answer.
 *
 * The page sets <body data-kind="whip"> or "whep". The test drives it with
 *   await page.evaluate((o) => window.start(o), { url, token })
 *   await page.evaluate(() => window.stats())
 *   await page.evaluate(() => window.hangup())    // → HTTP status of DELETE
 * or a person opens it with ?url=<endpoint>&token=<jwt> to start at once.
 *
 * window.stats() is medrelayStatsSummary(pc) (stats.js) plus .timing:
 * performance.now() stamps of the POST, the answer, "connected" and (WHEP)
 * the first decoded frame, and postToFirstFrameMs.
 *
 * Options of start() besides url and token:
 *   iceTimeoutMs   how long to gather before POSTing anyway (2000)
 *   video          { width, height, frameRate } asked of the (fake) camera
 *   videoCodec     e.g. 'H264': setCodecPreferences() on the video
 *                  transceiver so the offer carries only that codec (for
 *                  H.264 only packetization-mode=1, h264Profile first).
 *                  start() rejects when the browser has no such codec.
 *   h264Profile    profile-level-id to put first (default '42e01f')
 *   simulcast      true: the camera is sent as three rid layers, q (1/4
 *                  size), h (1/2) and f (full), as a clinic console would
 *                  (RFC 8853); window.setLayerActive(rid, bool) switches one
 *                  off and on (RTCRtpSender.setParameters), and
 *                  window.layers() lists each layer's frame size and frames
 *                  sent
 * window.restartIce() performs an ICE restart over PATCH (RFC 9725 §4.3.2):
 * new local credentials and candidates in a trickle-ice-sdpfrag, the
 * server's new fragment applied to the remote description.
 * window.sdp() gives { offer, answer } as sent and received;
 * window.videoCodecs() the sender's and receiver's video capabilities.
 */
'use strict';

(function () {
    const HTTP_TIMEOUT_MS = 10000;
    const kind = document.body.dataset.kind; /* 'whip' | 'whep' */
    const statusEl = document.getElementById('status');
    const videoEl = document.getElementById('video');
    const state = {
        pc: null,
        stream: null,
        sessionUrl: '',
        offer: '',
        token: '',
        info: {},
        timing: { postSentAt: 0, answerAt: 0, connectedAt: 0, firstFrameAt: 0, postToFirstFrameMs: -1 },
        log: [],
    };

    function note(msg) {
        const line = `${(performance.now() / 1000).toFixed(2)}s ${msg}`;
        state.log.push(line);
        console.log(`[${kind}] ${msg}`);
    }

    async function readBody(res) {
        try {
            return await res.text();
        } catch (e) {
            return `(body unreadable: ${e.message})`;
        }
    }

    /* Resolves when framesDecoded > 0, polling every 50 ms; stamps the time. */
    function watchFirstFrame(pc) {
        const timer = setInterval(async () => {
            if (pc.connectionState === 'closed') {
                clearInterval(timer);
                return;
            }
            try {
                const s = await medrelayStatsSummary(pc);
                if (s.inbound.video.framesDecoded > 0 && !state.timing.firstFrameAt) {
                    state.timing.firstFrameAt = performance.now();
                    state.timing.postToFirstFrameMs = Math.round(state.timing.firstFrameAt - state.timing.postSentAt);
                    note(`first decoded frame ${state.timing.postToFirstFrameMs} ms after the POST`);
                    clearInterval(timer);
                }
            } catch (_) { /* pc closing */ }
        }, 50);
    }

    /* The video capabilities, as "mime fmtp" strings, for reports. */
    function videoCodecs() {
        const fmt = (c) => `${c.mimeType}${c.sdpFmtpLine ? ' ' + c.sdpFmtpLine : ''}`;
        const send = (window.RTCRtpSender && RTCRtpSender.getCapabilities)
            ? (RTCRtpSender.getCapabilities('video') || { codecs: [] }).codecs : [];
        const recv = (window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities)
            ? (RTCRtpReceiver.getCapabilities('video') || { codecs: [] }).codecs : [];
        return { send: send.map(fmt), recv: recv.map(fmt) };
    }

    /*
     * The codecs to give setCodecPreferences() for opts.videoCodec: those of
     * that name in the receiver capabilities (what setCodecPreferences
     * accepts) that a sender can also use when we send; for H.264 only
     * packetization-mode=1, opts.h264Profile first. Throws when none is left.
     */
    function videoPreferences(opts, sending) {
        const want = String(opts.videoCodec).toLowerCase();
        const isWanted = (c) => c.mimeType.toLowerCase() === `video/${want}`;
        const recv = RTCRtpReceiver.getCapabilities('video').codecs;
        const send = RTCRtpSender.getCapabilities('video').codecs;
        const key = (c) => `${c.mimeType.toLowerCase()} ${c.sdpFmtpLine || ''}`;
        const sendKeys = new Set(send.map(key));
        let codecs = recv.filter(isWanted);
        if (sending)
            codecs = codecs.filter((c) => sendKeys.has(key(c)));
        if (want === 'h264') {
            const profile = String(opts.h264Profile || '42e01f').toLowerCase();
            const fmtp = (c) => (c.sdpFmtpLine || '').toLowerCase();
            codecs = codecs.filter((c) => /(^|;)\s*packetization-mode=1(;|$)/.test(fmtp(c)));
            const first = (c) => (fmtp(c).includes(`profile-level-id=${profile}`) ? 0 : 1);
            codecs.sort((a, b) => first(a) - first(b));
        }
        if (!codecs.length) {
            const caps = videoCodecs();
            throw new Error(`no usable ${opts.videoCodec} codec for setCodecPreferences ` +
                            `(${sending ? 'send and ' : ''}receive); this browser's video send ` +
                            `capabilities: [${caps.send.join(', ')}], receive: [${caps.recv.join(', ')}]`);
        }
        return codecs;
    }

    async function start(opts) {
        if (state.pc)
            throw new Error('already started');
        const url = opts.url;
        const iceTimeoutMs = opts.iceTimeoutMs || 2000;
        const video = opts.video || { width: 320, height: 240, frameRate: 15 };
        state.token = opts.token || '';
        const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        state.pc = pc;
        pc.addEventListener('connectionstatechange', () => {
            note(`connectionState ${pc.connectionState}`);
            if (pc.connectionState === 'connected' && !state.timing.connectedAt)
                state.timing.connectedAt = performance.now();
        });
        pc.addEventListener('iceconnectionstatechange', () => note(`iceConnectionState ${pc.iceConnectionState}`));

        if (kind === 'whip') {
            state.stream = await navigator.mediaDevices.getUserMedia({
                audio: true,
                video: { width: { ideal: video.width }, height: { ideal: video.height },
                         frameRate: { ideal: video.frameRate } },
            });
            /* getUserMedia lists audio first: the publisher's offer is audio, video. */
            for (const track of state.stream.getTracks()) {
                const init = { direction: 'sendonly', streams: [state.stream] };
                if (track.kind === 'video' && opts.simulcast)
                    init.sendEncodings = [
                        { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 200000 },
                        { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 600000 },
                        { rid: 'f', maxBitrate: 1800000 },
                    ];
                const tr = pc.addTransceiver(track, init);
                if (track.kind === 'video')
                    state.videoSender = tr.sender;
                if (track.kind === 'video' && opts.videoCodec) {
                    const prefs = videoPreferences(opts, true);
                    tr.setCodecPreferences(prefs);
                    note(`video codec preferences: ${prefs.map((c) => `${c.mimeType} ${c.sdpFmtpLine || ''}`).join(' | ')}`);
                }
            }
            videoEl.srcObject = state.stream;
        } else {
            /* Deliberately video first (the publisher is audio first), so a server
             * that maps media by m-line index rather than by kind is caught. */
            const vt = pc.addTransceiver('video', { direction: 'recvonly' });
            if (opts.videoCodec) {
                const prefs = videoPreferences(opts, false);
                vt.setCodecPreferences(prefs);
                note(`video codec preferences: ${prefs.map((c) => `${c.mimeType} ${c.sdpFmtpLine || ''}`).join(' | ')}`);
            }
            pc.addTransceiver('audio', { direction: 'recvonly' });
            const remote = new MediaStream();
            pc.addEventListener('track', (e) => {
                note(`track ${e.track.kind}`);
                remote.addTrack(e.track);
                videoEl.srcObject = remote;
            });
        }

        await pc.setLocalDescription(await pc.createOffer());
        const complete = await medrelayGatheringDone(pc, iceTimeoutMs);
        if (!complete)
            note(`ICE gathering not complete after ${iceTimeoutMs} ms; sending what is there`);
        const offer = pc.localDescription.sdp;
        state.offer = offer;
        const candidates = (offer.match(/^a=candidate:/gm) || []).length;
        note(`POST ${url} (${offer.length} bytes, ${candidates} candidates)`);

        state.timing.postSentAt = performance.now();
        if (kind === 'whep')
            watchFirstFrame(pc);
        let res;
        try {
            res = await fetch(url, {
                method: 'POST',
                headers: { 'Content-Type': 'application/sdp', 'Authorization': `Bearer ${state.token}` },
                body: offer,
                signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
            });
        } catch (e) {
            throw new Error(`POST ${url} failed before any response (${e.name}: ${e.message}; ` +
                            'a CORS refusal looks like "TypeError: Failed to fetch")');
        }
        state.timing.answerAt = performance.now();
        const body = await readBody(res);
        const location = res.headers.get('Location');
        state.info = {
            status: res.status,
            contentType: res.headers.get('Content-Type') || '',
            location: location || '',
            etag: res.headers.get('ETag') || '',
            link: res.headers.get('Link') || '',
            offerCandidates: candidates,
        };
        if (res.status !== 201)
            throw new Error(`POST ${url} answered ${res.status}, expected 201: ${body.slice(0, 500)}`);
        if (!location)
            throw new Error(`POST ${url}: 201 without a readable Location header ` +
                            '(missing, or not in Access-Control-Expose-Headers)');
        if (!/^application\/sdp\b/i.test(state.info.contentType))
            throw new Error(`POST ${url}: Content-Type ${JSON.stringify(state.info.contentType)}, expected application/sdp`);
        state.sessionUrl = new URL(location, url).href;
        state.info.sessionUrl = state.sessionUrl;
        note(`201, Location ${location} → ${state.sessionUrl}`);
        try {
            await pc.setRemoteDescription({ type: 'answer', sdp: body });
        } catch (e) {
            throw new Error(`setRemoteDescription(answer) failed: ${e.message}\n${body.slice(0, 2000)}`);
        }
        state.info.answer = body;
        return { ...state.info, answer: undefined };
    }

    function sdpLines(sdp, prefix) {
        return sdp.split(/\r\n/).filter((l) => l.startsWith(prefix));
    }

    /* The fragment a WHIP/WHEP client PATCHes for an ICE restart: its new
     * credentials and, for the first (bundle-tag) section, its candidates. */
    function restartFragment(sdp) {
        const media = sdp.split(/\r\nm=/)[1].split(/\r\n/);
        const lines = [
            ...sdpLines(sdp, 'a=ice-ufrag:').slice(0, 1),
            ...sdpLines(sdp, 'a=ice-pwd:').slice(0, 1),
            'a=ice-options:trickle',
            `m=${media[0]}`,
            ...media.filter((l) => l.startsWith('a=mid:')),
            ...media.filter((l) => l.startsWith('a=candidate:')),
            'a=end-of-candidates',
        ];
        return lines.join('\r\n') + '\r\n';
    }

    async function restartIce() {
        const pc = state.pc;
        pc.restartIce();
        await pc.setLocalDescription(await pc.createOffer());
        await medrelayGatheringDone(pc, 2000);
        const frag = restartFragment(pc.localDescription.sdp);
        const res = await fetch(state.sessionUrl, {
            method: 'PATCH',
            headers: {
                'Content-Type': 'application/trickle-ice-sdpfrag',
                'If-Match': '*',
                'Authorization': `Bearer ${state.token}`,
            },
            body: frag,
            signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        const body = await readBody(res);
        note(`PATCH (ICE restart) → ${res.status}`);
        if (res.status !== 200)
            throw new Error(`ICE restart PATCH answered ${res.status}: ${body.slice(0, 300)}`);
        /* The new answer: the previous one with the server's new
         * credentials and candidates. */
        const ufrag = sdpLines(body, 'a=ice-ufrag:')[0];
        const pwd = sdpLines(body, 'a=ice-pwd:')[0];
        const cands = sdpLines(body, 'a=candidate:');
        let answer = pc.remoteDescription.sdp
            .replace(/^a=ice-ufrag:.*$/gm, ufrag)
            .replace(/^a=ice-pwd:.*$/gm, pwd)
            .replace(/^a=candidate:.*\r\n/gm, '');
        answer = answer.replace(/(\r\na=mid:[^\r]*\r\n)/, `$1${cands.join('\r\n')}\r\n`);
        await pc.setRemoteDescription({ type: 'answer', sdp: answer });
        return {
            status: res.status,
            etag: res.headers.get('ETag') || '',
            localUfrag: sdpLines(pc.localDescription.sdp, 'a=ice-ufrag:')[0],
            remoteUfrag: ufrag,
            fragment: body,
        };
    }

    async function stats() {
        if (!state.pc)
            return { started: false, timing: state.timing };
        const s = await medrelayStatsSummary(state.pc);
        s.timing = { ...state.timing };
        s.started = true;
        return s;
    }

    /* DELETE the session URL; closes the peer on the first call. Returns the status (0: no response). */
    async function hangup() {
        if (!state.sessionUrl) {
            window.lastHangup = { status: 0, body: '', error: 'no session' };
            return 0;
        }
        let result;
        try {
            const res = await fetch(state.sessionUrl, {
                method: 'DELETE',
                headers: { 'Authorization': `Bearer ${state.token}` },
                signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
            });
            result = { status: res.status, body: await readBody(res),
                       contentType: res.headers.get('Content-Type') || '' };
        } catch (e) {
            result = { status: 0, body: '', error: `DELETE failed before any response (${e.name}: ${e.message})` };
        }
        note(`DELETE ${state.sessionUrl} → ${result.status}`);
        if (state.pc && state.pc.signalingState !== 'closed') {
            state.pc.close();
            if (state.stream)
                state.stream.getTracks().forEach((t) => t.stop());
        }
        window.lastHangup = result;
        return result.status;
    }

    async function setLayerActive(rid, active) {
        const params = state.videoSender.getParameters();
        const enc = params.encodings.find((e) => e.rid === rid);
        if (!enc)
            throw new Error(`no layer ${rid}`);
        enc.active = active;
        await state.videoSender.setParameters(params);
        note(`layer ${rid} ${active ? 'on' : 'off'}`);
    }

    async function layers() {
        const out = {};
        (await state.pc.getStats()).forEach((s) => {
            if (s.type === 'outbound-rtp' && s.kind === 'video')
                out[s.rid || '-'] = { width: s.frameWidth || 0, height: s.frameHeight || 0,
                                      framesSent: s.framesSent || 0, bytesSent: s.bytesSent || 0,
                                      limitation: s.qualityLimitationReason || '' };
        });
        return out;
    }

    window.start = start;
    window.setLayerActive = setLayerActive;
    window.layers = layers;
    window.restartIce = restartIce;
    window.rawStats = () => state.pc.getStats();
    window.pcState = () => (state.pc ? state.pc.connectionState : null);
    window.sdp = () => ({ offer: state.offer || '', answer: state.info.answer || '' });
    window.videoCodecs = videoCodecs;
    window.stats = stats;
    window.hangup = hangup;
    window.clientLog = () => state.log.slice();
    window.lastHangup = null;

    /* A live view for people and for screenshots. */
    setInterval(async () => {
        if (!state.pc) {
            statusEl.textContent = `${kind}: idle`;
            return;
        }
        try {
            const s = await stats();
            const t = s.timing;
            statusEl.textContent = [
                `${kind.toUpperCase()} ${state.sessionUrl || '(no session)'}`,
                `connection ${s.connectionState}, ice ${s.iceConnectionState}, pair ${s.candidatePair.state} ` +
                    `${s.candidatePair.local} ⇄ ${s.candidatePair.remote}`,
                `srtp ${s.transport.srtpCipher || '-'}, dtls ${s.transport.dtlsCipher || '-'} ${s.transport.tlsVersion}`,
                kind === 'whip'
                    ? `sent video ${s.outbound.video.packetsSent} pkts (${s.outbound.video.frameWidth}x${s.outbound.video.frameHeight} ${s.outbound.video.codec}), ` +
                      `audio ${s.outbound.audio.packetsSent} pkts (${s.outbound.audio.codec})`
                    : `decoded ${s.inbound.video.framesDecoded} frames (${s.inbound.video.frameWidth}x${s.inbound.video.frameHeight} ${s.inbound.video.codec}), ` +
                      `audio ${s.inbound.audio.packetsReceived} pkts (${s.inbound.audio.codec}); ` +
                      `POST→first frame ${t.postToFirstFrameMs} ms`,
            ].join('\n');
        } catch (e) {
            statusEl.textContent = `${kind}: ${e.message}`;
        }
    }, 500);

    const q = new URLSearchParams(location.search);
    if (q.get('url')) {
        start({ url: q.get('url'), token: q.get('token') || '' })
            .catch((e) => { note(`start failed: ${e.message}`); statusEl.textContent = e.message; });
    }
})();
