// A small WHIP/WHEP client (RFC 9725). The offer is POSTed before ICE
// gathering starts, so that the ICE servers the answer names (Link
// rel="ice-server", §4.6: TURN with time-limited credentials) are set
// before the browser gathers; its candidates then follow in one PATCH
// (trickle ICE, RFC 8840) once gathering is complete.
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

// RFC 8288 Link header values (fetch joins several with ", ") with
// rel="ice-server" as RTCIceServer objects.
function iceServersFromLinks(header) {
  const servers = [];
  const links = (header || '').match(/<[^>]*>(?:\s*;\s*[\w-]+\s*=\s*(?:"[^"]*"|[^;,]*))*/g) || [];
  for (const link of links) {
    const params = {};
    for (const m of link.matchAll(/;\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;,]*))/g))
      params[m[1].toLowerCase()] = m[2] !== undefined ? m[2] : m[3].trim();
    if (params.rel !== 'ice-server') continue;
    const server = {urls: link.slice(1, link.indexOf('>'))};
    if (params.username !== undefined) server.username = params.username;
    if (params.credential !== undefined) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

// The local candidates as an application/trickle-ice-sdpfrag body.
function candidateFragment(sdp) {
  const line = (re) => (re.exec(sdp) || [])[0];
  // With BUNDLE the sections share one transport: each candidate once.
  const cands = [...new Set(sdp.match(/^a=candidate:.*$/gm) || [])];
  return [line(/^a=ice-ufrag:.*$/m), line(/^a=ice-pwd:.*$/m), line(/^m=.*$/m), line(/^a=mid:.*$/m),
    ...cands, 'a=end-of-candidates'].map((l) => l.trim() + '\r\n').join('');
}

async function trickleCandidates(pc, location, token, etag) {
  await waitForGathering(pc, 5000);
  const headers = {'Content-Type': 'application/trickle-ice-sdpfrag', 'Authorization': 'Bearer ' + token};
  if (etag) headers['If-Match'] = etag;
  await fetch(location, {method: 'PATCH', headers, body: candidateFragment(pc.localDescription.sdp)});
}

async function whipWhepConnect(pc, url, token) {
  const offer = await pc.createOffer();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', 'Authorization': 'Bearer ' + token },
    body: offer.sdp,
  });
  if (res.status !== 201) {
    let detail = res.statusText;
    try { const e = await res.json(); detail = e.error + ': ' + e.detail; } catch (_) { /* not JSON */ }
    throw new Error('HTTP ' + res.status + ' ' + detail);
  }
  const location = new URL(res.headers.get('Location'), url).toString();
  const iceServers = iceServersFromLinks(res.headers.get('Link'));
  if (iceServers.length) pc.setConfiguration(Object.assign(pc.getConfiguration(), {iceServers}));
  const answer = await res.text();
  await pc.setLocalDescription(offer);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  trickleCandidates(pc, location, token, res.headers.get('ETag')).catch(() => { /* the peer connects without */ });
  return location;
}

async function whipWhepHangup(location, token) {
  const res = await fetch(location, { method: 'DELETE', headers: { 'Authorization': 'Bearer ' + token } });
  return res.status;
}
