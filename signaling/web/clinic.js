// The clinic workstation: publish camera + microphone ("cam") and a second
// source ("screen": a screen/window, or a second camera such as a capture
// card on an ultrasound or endoscope), see and hear the experts, and watch
// the uplink's quality.
'use strict';

/* global $, el, t, startConsole, Tiles, StatsMeter, setStatus, setStatusKey, captureSize */

let room = null;
let local = null;          // camera + microphone
let second = null;         // screen or capture card
const tiles = new Tiles($('#remote'), {onChange: () => $('#empty').classList.toggle('hidden', tiles.tiles.size > 0)});
const meters = new WeakMap(); // publisher RTCPeerConnection -> StatsMeter

async function listDevices() {
  // Labels only appear once the page may use the devices.
  try { (await navigator.mediaDevices.getUserMedia({audio: true, video: true})).getTracks().forEach((x) => x.stop()); } catch (_) { /* no devices */ }
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fill = (sel, kind, extra) => {
    const s = $(sel);
    s.innerHTML = '';
    for (const o of extra || []) s.append(el('option', {value: o.value, 'data-i18n': o.i18n, text: t(o.i18n)}));
    devices.filter((d) => d.kind === kind).forEach((d, i) => s.append(el('option', {value: d.deviceId, text: d.label || `${kind} ${i + 1}`})));
  };
  fill('#camera', 'videoinput');
  fill('#microphone', 'audioinput');
  fill('#second', 'videoinput', [{value: '', i18n: 'none'}, {value: 'screen', i18n: 'screen'}]);
}

const VIDEO = captureSize(1280, 720);

// Camera and microphone: the stream "cam".
async function publish() {
  $('#publish').disabled = true;
  try {
    const cam = $('#camera').value, mic = $('#microphone').value;
    local = await navigator.mediaDevices.getUserMedia({
      video: Object.assign({}, VIDEO, cam ? {deviceId: {exact: cam}} : {}),
      audio: mic ? {deviceId: {exact: mic}} : true,
    });
    $('#local').srcObject = local;
    await room.publish('cam', local, {simulcast: $('#simulcast').checked});
    $('#stop').disabled = false;
    setStatusKey('published');
  } catch (e) {
    setStatus(e.detail || e.message);
    $('#publish').disabled = false;
  }
}

async function stop() {
  await room.unpublish('cam');
  if (local) local.getTracks().forEach((x) => x.stop());
  local = null;
  $('#local').srcObject = null;
  $('#stop').disabled = true;
  $('#publish').disabled = false;
}

// The second source, shared at any time during the consultation: a screen
// or window, or a capture card (ultrasound, ECG, endoscope) seen as a
// camera. The stream "screen".
async function share() {
  const src = $('#second').value;
  if (!src) return;
  $('#share').disabled = true;
  try {
    second = src === 'screen'
      ? await navigator.mediaDevices.getDisplayMedia({video: true})
      : await navigator.mediaDevices.getUserMedia({video: Object.assign({}, VIDEO, {deviceId: {exact: src}})});
    // A device screen (ultrasound, ECG, angiography): fine detail matters
    // more than motion, so the encoder keeps the resolution and gives up
    // frame rate when the uplink is short. One quality: every detail.
    second.getVideoTracks().forEach((v) => { v.contentHint = 'detail'; });
    await room.publish('screen', second);
    $('#unshare').disabled = false;
  } catch (e) {
    setStatus(e.detail || e.message);
    $('#share').disabled = false;
  }
}

async function unshare() {
  await room.unpublish('screen');
  if (second) second.getTracks().forEach((x) => x.stop());
  second = null;
  $('#unshare').disabled = true;
  $('#share').disabled = false;
}

// The uplink, from this browser's own statistics of what it publishes:
// kbit/s sent (audio and video, retransmissions included), the loss and
// round trip the relay's receiver reports give back (remote-inbound-rtp
// fractionLost, roundTripTime), and the packets resent per second at the
// relay's request (retransmittedPacketsSent). Loss here is before repair:
// what the relay resends is repaired for the experts.
async function showLink() {
  let kbps = 0, loss = 0, rtt = null, rtx = 0;
  const pubs = room ? [...room.publishers.values()] : [];
  for (const p of pubs) {
    if (!meters.has(p.pc)) meters.set(p.pc, new StatsMeter(p.pc));
    const s = await meters.get(p.pc).sample();
    for (const o of s.outbound) { kbps += o.kbps; loss = Math.max(loss, o.lossPct || 0); rtx += o.rtxPerS || 0; }
    if (s.rttMs !== null) rtt = Math.max(rtt || 0, s.rttMs);
  }
  const q = $('#quality .quality');
  const line = $('#linkstats');
  if (!pubs.length) { q.textContent = '–'; q.className = 'quality'; line.textContent = ''; return; }
  const level = loss > 5 || (rtt || 0) > 400 ? 'poor' : loss > 1 || (rtt || 0) > 150 ? 'fair' : 'good';
  q.textContent = t(level);
  q.className = `quality ${level}`;
  line.textContent = '';
  line.append(
    el('span', {id: 'link-kbps', 'data-kbps': kbps, text: `${t('uplink')} ${kbps} ${t('kbps')}`}), ' · ',
    el('span', {id: 'link-loss', 'data-loss-pct': loss, text: `${t('loss')} ${loss}%`}), ' · ',
    el('span', {id: 'link-rtx', 'data-rtx': rtx, text: `${t('resent')} ${rtx}/s`}), ' · ',
    el('span', {id: 'link-rtt', 'data-rtt': rtt ?? '', text: `${t('rtt')} ${rtt ?? '–'} ${t('ms')}`}));
}

// Tiles are labelled with who publishes them (an expert's talk-back
// stream is named after its participant id).
function labelTiles() {
  for (const s of (room && room.state ? room.state.streams : [])) {
    tiles.setLabel(s.name, s.name.startsWith('talk-') ? `${t('expert')} ${s.publisher}` : `${s.name} · ${s.publisher}`);
    tiles.setRecording(s.name, s.recording);
  }
}

startConsole({
  onTrack: (name, ms, track) => { tiles.addTrack(name, track); labelTiles(); },
  onStreamGone: (name) => tiles.remove(name),
  onEvent: (m) => {
    if (m.type === 'removed') setStatusKey('removed');
    if (m.type === 'replaced') setStatusKey('replaced');
    labelTiles();
  },
  onJoined: async (r) => {
    room = r;
    await listDevices();
    $('#publish').disabled = false;
    $('#share').disabled = false;
    // The clinic sees and hears everything else in the room: the experts.
    await room.subscribe('*');
  },
});
$('#publish').addEventListener('click', publish);
$('#stop').addEventListener('click', stop);
$('#share').addEventListener('click', share);
$('#unshare').addEventListener('click', unshare);
document.addEventListener('langchange', () => { labelTiles(); showLink().catch(() => {}); });
setInterval(() => { showLink().catch(() => {}); if (room && room.sub) tiles.updateStats(room.sub.pc).catch(() => {}); }, 1000);
