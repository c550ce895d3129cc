/*
 * One summary of an RTCPeerConnection's getStats(), shared by the WHIP and
 * WHEP pages and by the loopback self-test, so the self-test proves the very
 * code the real tests assert on.
 *
 *   const s = await medrelayStatsSummary(pc);
 *   s.inbound.video.framesDecoded, s.inbound.audio.packetsReceived,
 *   s.outbound.video.packetsSent, s.transport.srtpCipher, ...
 *
 * Counters of several streams of one kind are summed; frame sizes are the
 * largest seen; ssrcs lists every stream's SSRC; codec, codecFmtp and the
 * encoder/decoder implementation are the first stream's. Missing values are
 * 0 (counters) or '' (strings).
 */
'use strict';

async function medrelayStatsSummary(pc) {
    const out = {
        at: Math.round(performance.now()),
        connectionState: pc.connectionState,
        iceConnectionState: pc.iceConnectionState,
        iceGatheringState: pc.iceGatheringState,
        signalingState: pc.signalingState,
        inbound: {
            video: { framesDecoded: 0, framesReceived: 0, framesDropped: 0, frameWidth: 0, frameHeight: 0,
                     packetsReceived: 0, packetsLost: 0, bytesReceived: 0, nackCount: 0, pliCount: 0,
                     firCount: 0, keyFramesDecoded: 0, freezeCount: 0, totalFreezesDuration: 0,
                     pauseCount: 0, totalPausesDuration: 0, codec: '', codecFmtp: '',
                     decoderImplementation: '', ssrcs: [] },
            audio: { packetsReceived: 0, packetsLost: 0, bytesReceived: 0, codec: '', ssrcs: [] },
        },
        outbound: {
            video: { packetsSent: 0, bytesSent: 0, framesEncoded: 0, frameWidth: 0, frameHeight: 0,
                     nackCount: 0, pliCount: 0, firCount: 0, keyFramesEncoded: 0, codec: '', codecFmtp: '',
                     encoderImplementation: '', ssrcs: [] },
            audio: { packetsSent: 0, bytesSent: 0, codec: '', ssrcs: [] },
        },
        transport: { srtpCipher: '', dtlsCipher: '', tlsVersion: '', dtlsState: '', iceState: '',
                     dtlsRole: '', selectedCandidatePairChanges: 0 },
        candidatePair: { state: '', nominated: false, local: '', remote: '', currentRoundTripTime: 0 },
    };
    if (pc.signalingState === 'closed' && pc.connectionState === 'closed')
        return out;
    const report = await pc.getStats();
    const byId = new Map();
    report.forEach((s) => byId.set(s.id, s));
    const codecName = (s) => {
        const c = s.codecId && byId.get(s.codecId);
        return c ? String(c.mimeType || '').replace(/^(audio|video)\//, '') : '';
    };
    const codecFmtp = (s) => {
        const c = s.codecId && byId.get(s.codecId);
        return c ? String(c.sdpFmtpLine || '') : '';
    };
    const add = (dst, s, keys) => {
        for (const k of keys) {
            if (typeof s[k] === 'number')
                dst[k] += s[k];
        }
    };
    let transport = null;
    report.forEach((s) => {
        if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.kind === 'audio')) {
            const dst = out.inbound[s.kind];
            if (s.kind === 'video') {
                add(dst, s, ['framesDecoded', 'framesReceived', 'framesDropped', 'packetsReceived',
                             'packetsLost', 'bytesReceived', 'nackCount', 'pliCount', 'firCount',
                             'keyFramesDecoded', 'freezeCount', 'totalFreezesDuration', 'pauseCount',
                             'totalPausesDuration']);
                dst.frameWidth = Math.max(dst.frameWidth, s.frameWidth || 0);
                dst.frameHeight = Math.max(dst.frameHeight, s.frameHeight || 0);
                dst.codecFmtp = dst.codecFmtp || codecFmtp(s);
                dst.decoderImplementation = dst.decoderImplementation || s.decoderImplementation || '';
            } else {
                add(dst, s, ['packetsReceived', 'packetsLost', 'bytesReceived']);
            }
            dst.codec = dst.codec || codecName(s);
            if (typeof s.ssrc === 'number')
                dst.ssrcs.push(s.ssrc);
        } else if (s.type === 'outbound-rtp' && (s.kind === 'video' || s.kind === 'audio')) {
            const dst = out.outbound[s.kind];
            if (s.kind === 'video') {
                add(dst, s, ['packetsSent', 'bytesSent', 'framesEncoded', 'nackCount', 'pliCount',
                             'firCount', 'keyFramesEncoded']);
                dst.frameWidth = Math.max(dst.frameWidth, s.frameWidth || 0);
                dst.frameHeight = Math.max(dst.frameHeight, s.frameHeight || 0);
                dst.codecFmtp = dst.codecFmtp || codecFmtp(s);
                dst.encoderImplementation = dst.encoderImplementation || s.encoderImplementation || '';
            } else {
                add(dst, s, ['packetsSent', 'bytesSent']);
            }
            dst.codec = dst.codec || codecName(s);
            if (typeof s.ssrc === 'number')
                dst.ssrcs.push(s.ssrc);
        } else if (s.type === 'transport') {
            /* With BUNDLE there is one; without, prefer the one that carries SRTP. */
            if (!transport || (!transport.srtpCipher && s.srtpCipher))
                transport = s;
        }
    });
    let pair = null;
    if (transport) {
        out.transport = {
            srtpCipher: transport.srtpCipher || '',
            dtlsCipher: transport.dtlsCipher || '',
            tlsVersion: transport.tlsVersion || '',
            dtlsState: transport.dtlsState || '',
            iceState: transport.iceState || '',
            dtlsRole: transport.dtlsRole || '',
            selectedCandidatePairChanges: transport.selectedCandidatePairChanges || 0,
        };
        pair = transport.selectedCandidatePairId && byId.get(transport.selectedCandidatePairId);
    }
    if (!pair) {
        report.forEach((s) => {
            if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && !pair)
                pair = s;
        });
    }
    if (pair) {
        const cand = (id) => {
            const c = byId.get(id);
            return c ? `${c.address || c.ip}:${c.port} ${c.protocol} ${c.candidateType}` : '';
        };
        out.candidatePair = {
            state: pair.state || '',
            nominated: !!pair.nominated,
            local: cand(pair.localCandidateId),
            remote: cand(pair.remoteCandidateId),
            currentRoundTripTime: pair.currentRoundTripTime || 0,
        };
    }
    return out;
}

/* Waits until ICE gathering is complete or timeoutMs passed (non-trickle clients). */
function medrelayGatheringDone(pc, timeoutMs) {
    return new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete')
            return resolve(true);
        const timer = setTimeout(() => {
            pc.removeEventListener('icegatheringstatechange', check);
            resolve(false);
        }, timeoutMs);
        function check() {
            if (pc.iceGatheringState === 'complete') {
                clearTimeout(timer);
                pc.removeEventListener('icegatheringstatechange', check);
                resolve(true);
            }
        }
        pc.addEventListener('icegatheringstatechange', check);
    });
}
