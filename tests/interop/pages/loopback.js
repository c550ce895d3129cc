/*
 * Loopback self-test: a sendonly peer with the fake camera and microphone
 * (like a WHIP publisher) and a receiving peer (like a WHEP viewer), joined
 * directly with non-trickle offer/answer. window.stats() summarizes the
 * receiver and window.senderStats() the sender, with the shared stats.js.
 */
'use strict';

(function () {
    let sender = null;
    let receiver = null;
    const t = { startedAt: 0, firstFrameAt: 0, startToFirstFrameMs: -1 };

    async function runLoopback(opts = {}) {
        const video = opts.video || { width: 320, height: 240, frameRate: 15 };
        const iceTimeoutMs = opts.iceTimeoutMs || 2000;
        t.startedAt = performance.now();
        const stream = await navigator.mediaDevices.getUserMedia({
            audio: true,
            video: { width: { ideal: video.width }, height: { ideal: video.height },
                     frameRate: { ideal: video.frameRate } },
        });
        document.getElementById('local').srcObject = stream;
        sender = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        receiver = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        for (const track of stream.getTracks())
            sender.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
        const remote = new MediaStream();
        receiver.addEventListener('track', (e) => {
            remote.addTrack(e.track);
            document.getElementById('remote').srcObject = remote;
        });

        await sender.setLocalDescription(await sender.createOffer());
        await medrelayGatheringDone(sender, iceTimeoutMs);
        await receiver.setRemoteDescription(sender.localDescription);
        await receiver.setLocalDescription(await receiver.createAnswer());
        await medrelayGatheringDone(receiver, iceTimeoutMs);
        await sender.setRemoteDescription(receiver.localDescription);

        const timer = setInterval(async () => {
            const s = await medrelayStatsSummary(receiver);
            if (s.inbound.video.framesDecoded > 0) {
                t.firstFrameAt = performance.now();
                t.startToFirstFrameMs = Math.round(t.firstFrameAt - t.startedAt);
                clearInterval(timer);
            }
        }, 50);
        const count = (sdp) => (sdp.match(/^a=candidate:/gm) || []).length;
        return { offerCandidates: count(sender.localDescription.sdp),
                 answerCandidates: count(receiver.localDescription.sdp),
                 offer: sender.localDescription.sdp };
    }

    async function stats() {
        if (!receiver)
            return { started: false };
        const s = await medrelayStatsSummary(receiver);
        s.timing = { ...t };
        s.started = true;
        return s;
    }

    async function senderStats() {
        return sender ? medrelayStatsSummary(sender) : { started: false };
    }

    window.runLoopback = runLoopback;
    window.stats = stats;
    window.senderStats = senderStats;

    setInterval(async () => {
        if (!receiver)
            return;
        const r = await stats();
        const s = await senderStats();
        document.getElementById('status').textContent = [
            `receiver: ${r.connectionState}, decoded ${r.inbound.video.framesDecoded} frames ` +
                `${r.inbound.video.frameWidth}x${r.inbound.video.frameHeight} ${r.inbound.video.codec}, ` +
                `audio ${r.inbound.audio.packetsReceived} pkts`,
            `sender: sent video ${s.outbound.video.packetsSent} pkts, audio ${s.outbound.audio.packetsSent} pkts`,
            `srtp ${r.transport.srtpCipher}, dtls ${r.transport.dtlsCipher} ${r.transport.tlsVersion}`,
            `pair ${r.candidatePair.state} ${r.candidatePair.local} ⇄ ${r.candidatePair.remote}`,
        ].join('\n');
    }, 500);
})();
