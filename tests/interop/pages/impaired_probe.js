/*
 * getStats() readings for the impaired-network tests, taken inside the page
 * (no DevTools round trip in the timing): works on any page that defines
 * window.rawStats() (client.js for whip.html/whep.html, p2p.js). Loaded by
 * p2p.html, and added to whip.html and whep.html by the test
 * (page.addScriptTag).
 *
 *   await impairedProbe.snapshot()
 *       { at: Date.now(), inbound: {...}, outbound: {...}, audioOut: {...},
 *         pair: {...} }: the video counters summed over streams; a counter
 *       this Chromium does not report is absent (not 0)
 *   impairedProbe.startSampler(100)   every 100 ms { t, fd, fps } of the
 *                                     inbound video (framesDecoded,
 *                                     framesPerSecond), kept in the page
 *   impairedProbe.takeSamples()       the samples so far (and forgets them)
 *   impairedProbe.stopSampler()
 *
 * Times are Date.now() (the machine's clock, shared with the test process),
 * so a sample can be compared with the moment the test changed the network.
 */
'use strict';

(function () {
    const IN_SUM = ['framesDecoded', 'framesReceived', 'framesDropped', 'freezeCount', 'totalFreezesDuration',
                    'pauseCount', 'totalPausesDuration', 'nackCount', 'pliCount', 'firCount',
                    'retransmittedPacketsReceived', 'retransmittedBytesReceived', 'keyFramesDecoded',
                    'packetsLost', 'packetsReceived', 'bytesReceived', 'headerBytesReceived',
                    'jitterBufferDelay', 'jitterBufferEmittedCount'];
    const IN_LAST = ['framesPerSecond', 'frameWidth', 'frameHeight', 'decoderImplementation'];
    const OUT_SUM = ['packetsSent', 'bytesSent', 'headerBytesSent', 'retransmittedPacketsSent',
                     'retransmittedBytesSent', 'nackCount', 'pliCount', 'firCount', 'framesEncoded',
                     'keyFramesEncoded'];
    const OUT_LAST = ['targetBitrate', 'framesPerSecond', 'frameWidth', 'frameHeight', 'qualityLimitationReason',
                      'encoderImplementation'];
    const AUDIO_OUT_SUM = ['packetsSent', 'bytesSent', 'headerBytesSent'];

    function collect(dst, s, sums, lasts) {
        for (const k of sums) {
            if (typeof s[k] === 'number')
                dst[k] = (dst[k] || 0) + s[k];
        }
        for (const k of lasts) {
            if (s[k] !== undefined)
                dst[k] = s[k];
        }
    }

    async function snapshot() {
        const out = { at: Date.now(), inbound: {}, outbound: {}, audioOut: {}, pair: {}, remoteInbound: {},
                      remoteInboundAudio: {} };
        const report = await window.rawStats();
        let pairId = '';
        report.forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video')
                collect(out.inbound, s, IN_SUM, IN_LAST);
            else if (s.type === 'outbound-rtp' && s.kind === 'video')
                collect(out.outbound, s, OUT_SUM, OUT_LAST);
            else if (s.type === 'outbound-rtp' && s.kind === 'audio')
                collect(out.audioOut, s, AUDIO_OUT_SUM, []);
            else if (s.type === 'remote-inbound-rtp' && s.kind === 'video')
                collect(out.remoteInbound, s, ['packetsLost'], ['fractionLost', 'roundTripTime']);
            else if (s.type === 'remote-inbound-rtp' && s.kind === 'audio')
                collect(out.remoteInboundAudio, s, ['packetsLost'], []);
            else if (s.type === 'transport' && s.selectedCandidatePairId)
                pairId = s.selectedCandidatePairId;
        });
        const pair = pairId && report.get(pairId);
        if (pair) {
            out.pair = { currentRoundTripTime: pair.currentRoundTripTime,
                         availableOutgoingBitrate: pair.availableOutgoingBitrate };
        }
        return out;
    }

    let timer = null;
    let busy = false;
    let samples = [];

    async function sampleOnce() {
        if (busy)
            return;
        busy = true;
        try {
            const report = await window.rawStats();
            let fd = 0;
            let fps = 0;
            report.forEach((s) => {
                if (s.type === 'inbound-rtp' && s.kind === 'video') {
                    fd += s.framesDecoded || 0;
                    fps += s.framesPerSecond || 0;
                }
            });
            samples.push({ t: Date.now(), fd, fps });
        } catch (_) {
            /* the connection is closing */
        } finally {
            busy = false;
        }
    }

    function startSampler(intervalMs = 100) {
        stopSampler();
        samples = [];
        timer = setInterval(sampleOnce, intervalMs);
        sampleOnce();
    }

    function stopSampler() {
        if (timer)
            clearInterval(timer);
        timer = null;
    }

    function takeSamples() {
        const s = samples;
        samples = [];
        return s;
    }

    window.impairedProbe = { snapshot, startSampler, stopSampler, takeSamples };
})();
