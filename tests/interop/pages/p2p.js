/*
 * The direct path of the impaired-network tests (tests/interop/impaired_*):
 * the same two browsers as the relay path, connected peer to peer with no
 * STUN or TURN server (host candidates on the bed's bridge), SDP carried by
 * the test through page.evaluate:
 *
 *   const offer = await clinic.evaluate((o) => window.p2p.offer(o), { video });
 *   const answer = await expert.evaluate((s) => window.p2p.answer(s), offer);
 *   await clinic.evaluate((s) => window.p2p.accept(s), answer);
 *
 * The sender publishes camera and microphone like pages/whip.html (video at
 * the size asked, audio too, so both paths carry the same load); the
 * receiver plays the video in a <video> element, because Chromium counts
 * freezes only on rendered frames. window.rawStats() is the connection's
 * getStats(), read by impaired_probe.js.
 */
'use strict';

(function () {
    const GATHER_MS = 3000;
    const videoEl = document.getElementById('video');
    const statusEl = document.getElementById('status');
    let pc = null;
    let stream = null;

    function note(msg) {
        console.log(`[p2p] ${msg}`);
        statusEl.textContent = `p2p: ${msg}`;
    }

    function newConnection() {
        if (pc)
            throw new Error('already connected');
        pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
        pc.addEventListener('connectionstatechange', () => note(`connectionState ${pc.connectionState}`));
        return pc;
    }

    /* Host candidates only, so gathering ends quickly; the SDP carries them all. */
    async function localSdp() {
        await medrelayGatheringDone(pc, GATHER_MS);
        return pc.localDescription.sdp;
    }

    async function offer({ video = { width: 640, height: 480, frameRate: 30 } } = {}) {
        newConnection();
        stream = await navigator.mediaDevices.getUserMedia({
            audio: true,
            video: { width: { ideal: video.width }, height: { ideal: video.height },
                     frameRate: { ideal: video.frameRate } },
        });
        for (const track of stream.getTracks())
            pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
        videoEl.srcObject = stream;
        await pc.setLocalDescription(await pc.createOffer());
        note('offer made');
        return localSdp();
    }

    async function answer(sdp) {
        newConnection();
        const remote = new MediaStream();
        pc.addEventListener('track', (e) => {
            remote.addTrack(e.track);
            videoEl.srcObject = remote;
            videoEl.play().catch((err) => note(`play(): ${err.message}`));
        });
        await pc.setRemoteDescription({ type: 'offer', sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        note('answer made');
        return localSdp();
    }

    async function accept(sdp) {
        await pc.setRemoteDescription({ type: 'answer', sdp });
        note('answer applied');
    }

    function close() {
        if (pc)
            pc.close();
        if (stream)
            stream.getTracks().forEach((t) => t.stop());
        pc = null;
        stream = null;
    }

    window.p2p = { offer, answer, accept, close, state: () => (pc ? pc.connectionState : 'none') };
    window.rawStats = () => pc.getStats();
})();
