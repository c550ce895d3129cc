/*
 * The npm package whip-whep (medooze's WHIPClient and WHEPClient, the
 * browser modules whip.js and whep.js, served by the test's static server
 * under /vendor/whip-whep/), used the way its README shows:
 *
 *   await page.evaluate((o) => window.publish(o), { url, token })  // WHIPClient.publish
 *   await page.evaluate((o) => window.view(o), { url, token })     // WHEPClient.view
 *   await page.evaluate(() => window.stats())    // medrelayStatsSummary(pc) (stats.js)
 *   await page.evaluate(() => window.stop())     // client.stop(): closes the
 *                                                // peer connection, then DELETE
 *
 * The library POSTs the offer before ICE gathering starts (no candidates
 * in it), trickles the candidates with PATCH, and never reports the status
 * of its DELETE; the test watches the HTTP exchanges from outside (see
 * whip_whep_js_chromium.test.js). Nothing here changes what the library
 * sends.
 */
import { WHIPClient } from '/vendor/whip-whep/whip.js';
import { WHEPClient } from '/vendor/whip-whep/whep.js';

const statusEl = document.getElementById('status');
const videoEl = document.getElementById('video');
const state = { pc: null, client: null, role: '', stopped: false };

function note(msg) {
    console.log(`[${state.role || 'page'}] ${msg}`);
}

function watch(pc) {
    pc.addEventListener('connectionstatechange', () => note(`connectionState ${pc.connectionState}`));
    pc.addEventListener('icegatheringstatechange', () => note(`iceGatheringState ${pc.iceGatheringState}`));
}

/* WHIP, as the README: max-bundle, every camera and microphone track sendonly. */
window.publish = async ({ url, token, video = { width: 320, height: 240, frameRate: 15 } }) => {
    state.role = 'whip';
    const stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: video.width }, height: { ideal: video.height },
                 frameRate: { ideal: video.frameRate } },
    });
    videoEl.srcObject = stream;
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    state.pc = pc;
    watch(pc);
    for (const track of stream.getTracks())
        pc.addTransceiver(track, { direction: 'sendonly' });
    const whip = new WHIPClient();
    state.client = whip;
    await whip.publish(pc, url, token);
    note(`published, resource ${whip.resourceURL}`);
    return { resourceURL: String(whip.resourceURL), etag: whip.etag || '' };
};

/* WHEP, as the README: max-bundle, addTransceiver("audio") and ("video"). */
window.view = async ({ url, token }) => {
    state.role = 'whep';
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    state.pc = pc;
    watch(pc);
    pc.addTransceiver('audio');
    pc.addTransceiver('video');
    const remote = new MediaStream();
    pc.ontrack = (event) => {
        note(`track ${event.track.kind}`);
        remote.addTrack(event.track);
        videoEl.srcObject = remote;
    };
    const whep = new WHEPClient();
    state.client = whep;
    await whep.view(pc, url, token);
    note(`viewing, resource ${whep.resourceURL}`);
    return { resourceURL: String(whep.resourceURL) };
};

window.stats = async () => {
    if (!state.pc)
        return null;
    return medrelayStatsSummary(state.pc);
};

/* The offer and answer as the peer connection holds them. */
window.sdp = () => ({
    local: state.pc && state.pc.localDescription ? state.pc.localDescription.sdp : '',
    remote: state.pc && state.pc.remoteDescription ? state.pc.remoteDescription.sdp : '',
});

/* The library's stop(): closes the peer connection, then sends DELETE. */
window.stop = async () => {
    if (!state.client)
        throw new Error('nothing to stop');
    state.stopped = true;
    await state.client.stop();
    note(`stopped; peer connection ${state.pc.connectionState}`);
    return state.pc.connectionState;
};

setInterval(async () => {
    if (!state.pc || state.stopped)
        return;
    try {
        const s = await medrelayStatsSummary(state.pc);
        statusEl.textContent = state.role === 'whip'
            ? `WHIP ${s.connectionState}: sent video ${s.outbound.video.packetsSent} pkts ` +
              `(${s.outbound.video.frameWidth}x${s.outbound.video.frameHeight}), audio ${s.outbound.audio.packetsSent} pkts`
            : `WHEP ${s.connectionState}: decoded ${s.inbound.video.framesDecoded} frames ` +
              `(${s.inbound.video.frameWidth}x${s.inbound.video.frameHeight} ${s.inbound.video.codec}), ` +
              `audio ${s.inbound.audio.packetsReceived} pkts`;
    } catch (e) {
        statusEl.textContent = e.message;
    }
}, 500);

window.libReady = true;
