// The demo console: publish the camera, or watch a stream.
'use strict';

const $ = (id) => document.getElementById(id);
let pc = null;
let session = null;
let statsTimer = null;

function tokenClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch (_) { return null; }
}

function showToken() {
  const claims = tokenClaims($('token').value);
  $('who').textContent = claims ? `${claims.role} · ${claims.sub} · room ${claims.room}` : 'no token';
  if (claims && claims.room && claims.room !== '*') $('room').value = claims.room;
}

function say(text) { $('status').textContent = text; }

async function showStats() {
  if (!pc) return;
  const lines = [];
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') lines.push(`in  ${s.kind}: ${s.packetsReceived} packets, lost ${s.packetsLost}` + (s.kind === 'video' ? `, ${s.framesDecoded} frames ${s.frameWidth || 0}x${s.frameHeight || 0}` : ''));
    if (s.type === 'outbound-rtp') lines.push(`out ${s.kind}: ${s.packetsSent} packets`);
    if (s.type === 'transport' && s.srtpCipher) lines.push(`SRTP ${s.srtpCipher}, ${s.tlsVersion || ''} ${s.dtlsCipher || ''}`);
  });
  say(`${pc.connectionState}\n` + lines.join('\n'));
}

async function start(kind) {
  const token = $('token').value.trim();
  const url = `${location.origin}/${kind}/${encodeURIComponent($('room').value)}/${encodeURIComponent($('stream').value)}`;
  pc = new RTCPeerConnection();
  try {
    if (kind === 'whip') {
      const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      $('local').srcObject = media;
      media.getTracks().forEach((t) => pc.addTransceiver(t, { direction: 'sendonly' }));
    } else {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const remote = new MediaStream();
      pc.ontrack = (e) => { remote.addTrack(e.track); $('remote').srcObject = remote; };
    }
    session = await whipWhepConnect(pc, url, token);
    $('stop').disabled = false;
    statsTimer = setInterval(showStats, 1000);
  } catch (e) {
    say('Failed: ' + e.message);
    pc.close();
    pc = null;
  }
}

async function stop() {
  clearInterval(statsTimer);
  if (session) await whipWhepHangup(session, $('token').value.trim());
  if (pc) pc.close();
  const local = $('local').srcObject;
  if (local) local.getTracks().forEach((t) => t.stop());
  pc = null; session = null;
  $('stop').disabled = true;
  say('Stopped.');
}

// The token arrives in the URL fragment, which browsers never send to the server.
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) { $('token').value = fromHash; history.replaceState(null, '', location.pathname); }
showToken();
$('token').addEventListener('input', showToken);
$('publish').onclick = () => start('whip');
$('watch').onclick = () => start('whep');
$('stop').onclick = stop;
