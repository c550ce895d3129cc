// A small WHIP/WHEP client (RFC 9725): one offer, one answer, non-trickle.
'use strict';

async function waitForGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
    });
  });
}

async function whipWhepConnect(pc, url, token) {
  await pc.setLocalDescription(await pc.createOffer());
  await waitForGathering(pc, 2000);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token },
    body: pc.localDescription.sdp,
  });
  if (res.status !== 201) {
    let detail = res.statusText;
    try { const e = await res.json(); detail = e.error + ': ' + e.detail; } catch (_) { /* not JSON */ }
    throw new Error('HTTP ' + res.status + ' ' + detail);
  }
  const location = new URL(res.headers.get('Location'), url).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return location;
}

async function whipWhepHangup(location, token) {
  const res = await fetch(location, { method: 'DELETE', headers: { 'Authorization': 'Bearer ' + token } });
  return res.status;
}
