/*
 * A room-protocol subscriber (docs/protocol.md, GET /ws) that a test drives
 * one step at a time, so it can look at every offer before the browser
 * applies it and send answers of its own making:
 *
 *   await page.evaluate((o) => window.connect(o), { wsUrl, token })  // → the joined message
 *   await page.evaluate((m) => window.request(m), { type: 'subscribe', id: 's1' })
 *   await page.evaluate((i) => window.messages(i), 0)     // [{ i, at, msg }] received since i
 *   await page.evaluate((a) => window.applyOffer(a), { index, send: true, id: 'a1' })
 *        // setRemoteDescription on the current RTCPeerConnection (a new one
 *        // when the offer says new: true), createAnswer, setLocalDescription;
 *        // send: the answer goes out at once, as a console does; else it is
 *        // held (and so are the browser's own candidates) until
 *        // sendAnswer(sdp, id) / releaseCandidates().
 *   await page.evaluate(() => window.snapshot())          // getStats and identity of the connection
 *
 * The server's trickled candidates are added to the connection once the
 * offer before them is applied (kept until then). The browser's own are
 * sent as `candidate` messages. Every message both ways is kept
 * (window.wsLog()).
 */
'use strict';

(function () {
    const st = {
        ws: null,
        msgs: [],          /* received: { i, at, msg } */
        wsLog: [],         /* both ways: { at, dir, msg } */
        pc: null,
        pcSerial: 0,
        unapplied: 0,      /* offers received and not applied yet */
        early: [],         /* the server's candidates kept until then */
        holdCandidates: false,
        heldCandidates: [],
        trackEvents: [],
        dtlsEvents: [],
        iceEvents: [],
        log: [],
    };
    const statusEl = document.getElementById('status');
    const videoEl = document.getElementById('video');

    function note(m) {
        const line = `${Math.round(performance.now())} ${m}`;
        st.log.push(line);
        console.log(m);
        statusEl.textContent = st.log.slice(-12).join('\n');
    }

    function send(obj) {
        st.wsLog.push({ at: Math.round(performance.now()), dir: 'out', msg: obj });
        st.ws.send(JSON.stringify(obj));
    }

    function sendCandidate(cand) {
        const msg = { type: 'candidate', pc: 'subscriber', candidate: cand };
        if (st.holdCandidates)
            st.heldCandidates.push(msg);
        else
            send(msg);
    }

    function addServerCandidate(c) {
        st.pc.addIceCandidate(c).catch((e) => note(`addIceCandidate(${c.candidate}): ${e.message}`));
    }

    function onMessage(ev) {
        let msg;
        try {
            msg = JSON.parse(ev.data);
        } catch (e) {
            note(`not JSON: ${String(ev.data).slice(0, 200)}`);
            return;
        }
        const entry = { i: st.msgs.length, at: Math.round(performance.now()), msg };
        st.msgs.push(entry);
        st.wsLog.push({ at: entry.at, dir: 'in', msg });
        if (msg.type === 'offer' && msg.pc === 'subscriber')
            st.unapplied++;
        if (msg.type === 'candidate' && msg.pc === 'subscriber' && msg.candidate) {
            const c = { candidate: msg.candidate, sdpMid: msg.mid };
            if (st.pc && st.unapplied === 0)
                addServerCandidate(c);
            else
                st.early.push(c);
        }
        if (msg.type === 'error')
            note(`error: ${JSON.stringify(msg)}`);
    }

    function connect({ wsUrl, token }) {
        return new Promise((resolve, reject) => {
            const ws = new WebSocket(wsUrl);
            st.ws = ws;
            ws.onopen = () => send({ type: 'join', id: 'join', token });
            ws.onmessage = (ev) => {
                onMessage(ev);
                const m = st.msgs[st.msgs.length - 1].msg;
                if (m.re === 'join' && m.type === 'joined')
                    resolve(m);
                else if (m.re === 'join')
                    reject(new Error(`join refused: ${JSON.stringify(m)}`));
            };
            ws.onclose = (ev) => {
                note(`WebSocket closed (${ev.code} ${ev.reason})`);
                reject(new Error(`WebSocket closed (${ev.code} ${ev.reason})`));
            };
            ws.onerror = () => note('WebSocket error');
        });
    }

    function newPc() {
        if (st.pc)
            st.pc.close();
        const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        const serial = ++st.pcSerial;
        pc.medrelaySerial = serial;
        st.pc = pc;
        pc.onicecandidate = (e) => {
            if (pc === st.pc)
                sendCandidate(e.candidate ? e.candidate.candidate : null);
        };
        pc.addEventListener('iceconnectionstatechange', () => {
            st.iceEvents.push({ at: Math.round(performance.now()), pc: serial, state: pc.iceConnectionState });
            note(`pc ${serial}: iceConnectionState ${pc.iceConnectionState}`);
        });
        pc.addEventListener('connectionstatechange', () => note(`pc ${serial}: connectionState ${pc.connectionState}`));
        const remote = new MediaStream();
        pc.addEventListener('track', (e) => {
            st.trackEvents.push({ at: Math.round(performance.now()), pc: serial, kind: e.track.kind,
                                  id: e.track.id, mid: e.transceiver.mid,
                                  stream: e.streams[0] ? e.streams[0].id : '' });
            note(`pc ${serial}: track ${e.track.kind} mid ${e.transceiver.mid} stream ${e.streams[0] && e.streams[0].id}`);
            remote.addTrack(e.track);
            videoEl.srcObject = remote;
        });
        note(`pc ${serial}: new RTCPeerConnection`);
        return pc;
    }

    /* Watches the DTLS transport's state (once, when it exists). */
    function watchDtls(pc) {
        const r = pc.getReceivers().find((x) => x.transport);
        if (!r || r.transport.medrelayWatched)
            return;
        const t = r.transport;
        t.medrelayWatched = true;
        st.dtlsEvents.push({ at: Math.round(performance.now()), pc: pc.medrelaySerial, state: t.state, initial: true });
        t.addEventListener('statechange', () => {
            st.dtlsEvents.push({ at: Math.round(performance.now()), pc: pc.medrelaySerial, state: t.state });
            note(`pc ${pc.medrelaySerial}: DTLS transport ${t.state}`);
        });
    }

    async function applyOffer({ index, send: sendIt = true, id }) {
        const entry = st.msgs[index];
        if (!entry || entry.msg.type !== 'offer')
            throw new Error(`message ${index} is not an offer: ${JSON.stringify(entry && entry.msg)}`);
        const m = entry.msg;
        const fresh = m.new === true || !st.pc;
        const pc = fresh ? newPc() : st.pc;
        st.holdCandidates = !sendIt;
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        st.unapplied = Math.max(0, st.unapplied - 1);
        if (st.unapplied === 0)
            st.early.splice(0).forEach(addServerCandidate);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        watchDtls(pc);
        const sdp = pc.localDescription.sdp;
        if (sendIt)
            send({ type: 'answer', id, pc: 'subscriber', sdp });
        note(`pc ${pc.medrelaySerial}: applied offer ${index} (new ${m.new}), answer ${sendIt ? 'sent' : 'held'}`);
        return { answer: sdp, pcSerial: pc.medrelaySerial, fresh };
    }

    function releaseCandidates() {
        st.holdCandidates = false;
        st.heldCandidates.splice(0).forEach(send);
    }

    function sendAnswer(sdp, id) {
        send({ type: 'answer', id, pc: 'subscriber', sdp });
    }

    async function sha256(buf) {
        const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
        return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
    }

    /* Everything the test asserts on, as plain data. */
    async function snapshot() {
        const pc = st.pc;
        if (!pc)
            return { pcSerial: 0 };
        const report = await pc.getStats();
        const byId = new Map();
        report.forEach((s) => byId.set(s.id, s));
        const out = {
            at: Math.round(performance.now()),
            pcSerial: pc.medrelaySerial,
            connectionState: pc.connectionState,
            iceConnectionState: pc.iceConnectionState,
            signalingState: pc.signalingState,
            transports: [],
            inbound: [],
            pair: null,
            transceivers: pc.getTransceivers().map((t) => ({
                mid: t.mid, kind: t.receiver.track.kind, trackId: t.receiver.track.id,
                direction: t.direction, currentDirection: t.currentDirection,
            })),
            dtls: null,
        };
        report.forEach((s) => {
            if (s.type === 'transport') {
                out.transports.push({
                    id: s.id, dtlsState: s.dtlsState, iceState: s.iceState, iceRole: s.iceRole,
                    iceLocalUsernameFragment: s.iceLocalUsernameFragment || '',
                    selectedCandidatePairChanges: s.selectedCandidatePairChanges || 0,
                    selectedCandidatePairId: s.selectedCandidatePairId || '',
                    srtpCipher: s.srtpCipher || '', dtlsCipher: s.dtlsCipher || '', tlsVersion: s.tlsVersion || '',
                    dtlsRole: s.dtlsRole || '', packetsReceived: s.packetsReceived || 0,
                    bytesReceived: s.bytesReceived || 0,
                    localCertificateId: s.localCertificateId || '', remoteCertificateId: s.remoteCertificateId || '',
                });
            } else if (s.type === 'inbound-rtp') {
                out.inbound.push({
                    id: s.id, kind: s.kind, ssrc: s.ssrc, mid: s.mid, trackIdentifier: s.trackIdentifier,
                    framesDecoded: s.framesDecoded || 0, packetsReceived: s.packetsReceived || 0,
                    packetsLost: s.packetsLost || 0, keyFramesDecoded: s.keyFramesDecoded || 0,
                    frameWidth: s.frameWidth || 0, frameHeight: s.frameHeight || 0,
                    pliCount: s.pliCount || 0, nackCount: s.nackCount || 0,
                });
            }
        });
        const t = out.transports.find((x) => x.selectedCandidatePairId) || out.transports[0];
        const pair = t && t.selectedCandidatePairId && byId.get(t.selectedCandidatePairId);
        if (pair) {
            const cand = (cid) => {
                const c = byId.get(cid) || {};
                return { address: c.address || c.ip || '', port: c.port || 0, type: c.candidateType || '',
                         usernameFragment: c.usernameFragment || '' };
            };
            out.pair = { id: pair.id, state: pair.state, nominated: !!pair.nominated,
                         packetsReceived: pair.packetsReceived || 0, bytesReceived: pair.bytesReceived || 0,
                         local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId) };
        }
        const r = pc.getReceivers().find((x) => x.transport);
        if (r) {
            const certs = r.transport.getRemoteCertificates ? r.transport.getRemoteCertificates() : [];
            out.dtls = {
                state: r.transport.state,
                iceState: r.transport.iceTransport ? r.transport.iceTransport.state : '',
                remoteCertSha256: certs.length ? await sha256(certs[0]) : '',
            };
        }
        return out;
    }

    function leave() {
        return new Promise((resolve) => {
            if (!st.ws || st.ws.readyState !== 1)
                return resolve(false);
            const n = st.msgs.length;
            send({ type: 'leave', id: 'leave' });
            const t0 = performance.now();
            const poll = () => {
                if (st.msgs.slice(n).some((e) => e.msg.re === 'leave'))
                    return resolve(true);
                if (performance.now() - t0 > 3000)
                    return resolve(false);
                setTimeout(poll, 50);
            };
            poll();
        });
    }

    window.connect = connect;
    window.request = (m) => send(m);
    window.messages = (from) => st.msgs.slice(from || 0);
    window.applyOffer = applyOffer;
    window.sendAnswer = sendAnswer;
    window.releaseCandidates = releaseCandidates;
    window.snapshot = snapshot;
    window.leave = leave;
    window.wsLog = () => st.wsLog.slice();
    window.pageLog = () => st.log.slice();
    window.events = () => ({ track: st.trackEvents.slice(), dtls: st.dtlsEvents.slice(), ice: st.iceEvents.slice() });
})();
