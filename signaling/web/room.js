// The room protocol (docs/protocol.md) for the consoles: one WebSocket,
// one RTCPeerConnection per published stream, one for everything watched.
// Reconnects by itself when the WebSocket or a connection's ICE drops.
'use strict';

/* global RTCPeerConnection */

class RoomError extends Error {
  constructor(code, detail) { super(`${code}: ${detail}`); this.code = code; this.detail = detail; }
}

class Room {
  // opts: {token, room, onEvent(msg), onState(text), onTrack(streamName, MediaStream),
  //        onStreamGone(streamName)}
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();      // id -> {resolve, reject}
    this.publishers = new Map();   // stream -> {pc, media}
    this.sub = null;               // {pc, want}
    this.want = null;              // what subscribe() last asked for
    this.me = null;
    this.state = null;
    this.iceServers = [];          // from "joined": STUN, and TURN with credentials
    this.closed = false;           // left on purpose, or removed
    this.retryMs = 500;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws`;
  }

  status(text) { if (this.opts.onState) this.opts.onState(text); }

  // Connects and joins; resolves with the "joined" message.
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.onopen = async () => {
        try {
          const msg = {type: 'join', token: this.opts.token};
          if (this.opts.room) msg.room = this.opts.room;
          const joined = await this.request(msg);
          this.me = joined.you;
          // The server's ICE servers ([turn]): TURN credentials that expire
          // with the token; every join brings fresh ones.
          this.iceServers = joined.iceServers || [];
          this.state = joined.room;
          this.retryMs = 500;
          this.status('joined');
          resolve(joined);
        } catch (e) { reject(e); }
      };
      ws.onmessage = (e) => this.receive(e.data);
      ws.onclose = (e) => this.dropped(e, reject);
    });
  }

  // The WebSocket closed: unless we left or were removed, come back.
  dropped(e, reject) {
    for (const p of this.pending.values()) p.reject(new RoomError('closed', 'connection closed'));
    this.pending.clear();
    if (reject) reject(new RoomError('closed', `connection closed (${e.code})`));
    if (this.closed || this.ws === null) return;
    this.status('reconnecting');
    setTimeout(() => this.rejoin(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 8000);
  }

  async rejoin() {
    if (this.closed) return;
    try {
      const joined = await this.connect();
      if (this.opts.onEvent) this.opts.onEvent({type: 'rejoined', room: joined.room});
      // Publishers whose ICE still works were kept by the server and adopted;
      // the others publish again (same stream name: the server replaces them).
      for (const [stream, p] of this.publishers) {
        const s = p.pc.connectionState;
        if (s === 'failed' || s === 'closed' || !joined.room.streams.some((x) => x.name === stream))
          await this.publish(stream, p.media);
      }
      if (this.want !== null) await this.subscribe(this.want, true);
    } catch (e) {
      if (e.code === 'forbidden' || e.code === 'unauthorized') { this.closed = true; this.status(`refused: ${e.detail}`); }
    }
  }

  send(msg) { if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg)); }

  // Whether the WebSocket still reaches the server: a ping answered within
  // ms. A connection whose network changed (a new address) keeps
  // "readyState 1" for minutes, its requests going nowhere: it is dropped
  // here and the room rejoined at once (the server adopts the publications).
  async alive(ms) {
    const ws = this.ws;
    let timer = null;
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); });
    const ok = await Promise.race([this.request({type: 'ping'}).then(() => true, () => false), late]);
    clearTimeout(timer);
    if (!ok && ws === this.ws && ws.readyState === 1) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close();
      this.dropped({code: 4000}, null);
    }
    return ok;
  }

  request(msg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject});
      this.send(Object.assign({}, msg, {id}));
    });
  }

  receive(text) {
    let msg;
    try { msg = JSON.parse(text); } catch (_) { return; }
    if (msg.type === 'offer' && msg.pc === 'subscriber') this.onOffer(msg);
    if (msg.type === 'candidate') { this.onCandidate(msg); return; }
    if (msg.re !== undefined && this.pending.has(msg.re)) {
      const p = this.pending.get(msg.re);
      this.pending.delete(msg.re);
      if (msg.type === 'error') p.reject(new RoomError(msg.code, msg.detail));
      else p.resolve(msg);
      if (msg.type !== 'offer') return;
    }
    this.track(msg);
    if (msg.type === 'subscriber-closed' && this.sub) { this.sub.pc.close(); this.sub = null; }
    if (msg.type === 'removed' || msg.type === 'replaced') this.closed = true;
    if (msg.type === 'stream-muted' && this.publishers.has(msg.stream)) {
      // Muted by an operator (or ourselves): stop sending that kind too.
      for (const t of this.publishers.get(msg.stream).media.getTracks())
        if (t.kind === msg.kind) t.enabled = !msg.muted;
    }
    if (this.opts.onEvent) this.opts.onEvent(msg);
  }

  // Keeps this.state current from events.
  track(msg) {
    const st = this.state;
    if (!st) return;
    if (msg.type === 'participant-joined') st.participants.push(msg.participant);
    if (msg.type === 'participant-left') st.participants = st.participants.filter((p) => p.id !== msg.id);
    if (msg.type === 'stream-started') { st.streams = st.streams.filter((s) => s.name !== msg.stream); st.streams.push(msg.info); }
    if (msg.type === 'stream-stopped') {
      st.streams = st.streams.filter((s) => s.name !== msg.stream);
      if (this.opts.onStreamGone) this.opts.onStreamGone(msg.stream);
    }
    const s = st.streams.find((x) => x.name === msg.stream);
    if (s && msg.type === 'stream-muted') s.muted[msg.kind] = msg.muted;
    if (s && msg.type === 'recording-started') s.recording = true;
    if (s && msg.type === 'recording-stopped') s.recording = false;
    if (msg.type === 'program') st.program = msg.stream;
  }

  pcConfig() { return {bundlePolicy: 'max-bundle', iceServers: this.iceServers}; }

  // --- Publishing -----------------------------------------------------------

  // opts.simulcast: the video as three layers by rid (RFC 8853), a quarter,
  // half and full size; the server gives each viewer the best its link
  // carries, and the browser's own estimate of the uplink decides which
  // layers it can send at all.
  async publish(stream, media, opts = {}) {
    const old = this.publishers.get(stream);
    if (old) old.pc.close();
    const pc = new RTCPeerConnection(this.pcConfig());
    const entry = {pc, media, opts, remoteSet: false, queued: []};
    this.publishers.set(stream, entry);
    for (const t of media.getTracks()) {
      const init = {direction: 'sendonly', streams: [media]};
      if (t.kind === 'video' && opts.simulcast)
        init.sendEncodings = [{rid: 'q', scaleResolutionDownBy: 4}, {rid: 'h', scaleResolutionDownBy: 2}, {rid: 'f'}];
      pc.addTransceiver(t, init);
    }
    pc.onicecandidate = (e) => this.send({type: 'candidate', pc: 'publisher', stream,
                                          candidate: e.candidate ? e.candidate.candidate : null});
    // ICE lost (a 4G handover, a new address): restart ICE on the same
    // session (the stream, its viewers and its recording carry on); if that
    // does not bring the connection back, publish again over a new one (the
    // server replaces the old session and viewers resume).
    this.watchIce(pc, () => this.publishers.get(stream) === entry,
      () => this.restartPublisherIce(stream, entry), () => this.publish(stream, media, opts));
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await this.request({type: 'publish', stream, sdp: pc.localDescription.sdp});
    await pc.setRemoteDescription({type: 'answer', sdp: answer.sdp});
    this.flushCandidates(entry);
    return pc;
  }

  // A new offer with new ICE credentials on the same connection; the
  // server restarts ICE on the same session and answers.
  async restartPublisherIce(stream, entry) {
    const pc = entry.pc;
    await pc.setLocalDescription(await pc.createOffer({iceRestart: true}));
    const answer = await this.request({type: 'publish', stream, sdp: pc.localDescription.sdp, iceRestart: true});
    await pc.setRemoteDescription({type: 'answer', sdp: answer.sdp});
  }

  async unpublish(stream) {
    const p = this.publishers.get(stream);
    if (!p) return;
    this.publishers.delete(stream);
    p.pc.close();
    await this.request({type: 'unpublish', stream}).catch(() => {});
  }

  // While current() says pc is still the one in use: when its ICE goes
  // disconnected or failed (the network changed), calls iceRestart() after
  // Room.ICE_RESTART_MS, which restarts ICE on the same session; when that
  // fails or the connection is still not back Room.ICE_GRACE_MS later
  // (browsers take ~30 s to declare failure; viewers wait 30 s for a
  // publisher), calls recover(), which replaces the connection. Tries again
  // while the WebSocket is down.
  watchIce(pc, current, iceRestart, recover) {
    let timer = null;
    let restarted = false;
    const later = (fn, ms) => { timer = setTimeout(fn, ms); };
    const replace = () => {
      timer = null;
      if (this.closed || !current() || pc.connectionState === 'connected') return;
      if (!this.ws || this.ws.readyState !== 1) { later(replace, 2000); return; }
      recover().catch(() => { if (current()) later(replace, 2000); });
    };
    const gone = () => this.closed || !current() || pc.connectionState === 'connected';
    const restart = async () => {
      timer = null;
      if (gone()) return;
      // The network change may have killed the WebSocket too: a new one first.
      if (!this.ws || this.ws.readyState !== 1 || !(await this.alive(Room.WS_PROBE_MS))) {
        if (!gone()) later(restart, 1000);
        return;
      }
      if (gone() || timer) return;
      restarted = true;
      later(replace, Room.ICE_GRACE_MS);
      iceRestart().catch(() => { if (current()) { clearTimeout(timer); replace(); } });
    };
    pc.onconnectionstatechange = () => {
      const s = pc.connectionState;
      if (s === 'connected' || s === 'closed') {
        if (timer) { clearTimeout(timer); timer = null; }
        restarted = false;
      }
      if (!timer && (s === 'failed' || s === 'disconnected'))
        later(restarted ? replace : restart, Room.ICE_RESTART_MS);
    };
  }

  // --- Subscribing ------------------------------------------------------------

  // want: "*", "program", or an array of stream names.
  // restart: a new subscriber connection; iceRestart: ICE restarts on the
  // same one (the server's next offer carries new credentials).
  async subscribe(want, restart, iceRestart) {
    this.want = want;
    const msg = {type: 'subscribe'};
    if (want !== undefined && want !== null) msg.streams = want;
    if (restart) msg.restart = true;
    if (iceRestart) msg.iceRestart = true;
    return this.request(msg);
  }

  newSubscriber() {
    if (this.sub) this.sub.pc.close();
    const pc = new RTCPeerConnection(this.pcConfig());
    const entry = {pc, remoteSet: false, queued: []};
    this.sub = entry;
    pc.ontrack = (e) => {
      const ms = e.streams[0];
      if (ms && this.opts.onTrack) this.opts.onTrack(ms.id, ms, e.track);
    };
    pc.onicecandidate = (e) => this.send({type: 'candidate', pc: 'subscriber',
                                          candidate: e.candidate ? e.candidate.candidate : null});
    this.watchIce(pc, () => this.sub === entry && this.want !== null,
      () => this.subscribe(this.want, false, true), () => this.subscribe(this.want, true));
    return pc;
  }

  async onOffer(msg) {
    const pc = msg.new || !this.sub ? this.newSubscriber() : this.sub.pc;
    const entry = this.sub;
    try {
      await pc.setRemoteDescription({type: 'offer', sdp: msg.sdp});
      this.flushCandidates(entry);
      await pc.setLocalDescription(await pc.createAnswer());
      await this.request({type: 'answer', pc: 'subscriber', sdp: pc.localDescription.sdp});
    } catch (e) {
      this.status(`subscriber: ${e.message}`);
    }
  }

  // --- The server's trickled candidates --------------------------------------

  // The server sends its answer or offer with its host candidates and
  // trickles the others (a server-reflexive one once its STUN server
  // answered). They follow the SDP on the WebSocket, but may arrive while
  // setRemoteDescription is still running: those wait in entry.queued.
  onCandidate(msg) {
    const entry = msg.pc === 'publisher' ? this.publishers.get(msg.stream)
      : msg.pc === 'subscriber' ? this.sub : null;
    // null is the end of the server's candidates; browsers do not need it
    // (and older ones refuse addIceCandidate(null)), so it is not passed on.
    if (!entry || !msg.candidate) return;
    const cand = {candidate: msg.candidate, sdpMid: msg.mid};
    if (entry.remoteSet) this.addCandidate(entry, cand);
    else entry.queued.push(cand);
  }

  flushCandidates(entry) {
    if (!entry || entry.remoteSet) return;
    entry.remoteSet = true;
    for (const cand of entry.queued.splice(0)) this.addCandidate(entry, cand);
  }

  addCandidate(entry, cand) {
    entry.pc.addIceCandidate(cand).catch((e) => this.status(`candidate: ${e.message}`));
  }

  // --- Moderation ---------------------------------------------------------------

  mute(stream, kind, muted) { return this.request({type: 'mute', stream, kind, muted}); }
  record(action, stream) { return this.request(stream ? {type: 'record', action, stream} : {type: 'record', action}); }
  program(stream) { return this.request({type: 'program', stream}); }
  remove(participant) { return this.request({type: 'remove', participant}); }

  async leave() {
    this.closed = true;
    try { await this.request({type: 'leave'}); } catch (_) { /* closing anyway */ }
    for (const p of this.publishers.values()) p.pc.close();
    this.publishers.clear();
    if (this.sub) this.sub.pc.close();
    this.sub = null;
    if (this.ws) this.ws.close();
    this.ws = null;
  }
}

// --- Statistics -----------------------------------------------------------------

// Rates from two getStats() reports: per inbound/outbound RTP stream, kbit/s,
// loss (%), and the connection's RTT (ms).
class StatsMeter {
  constructor(pc) { this.pc = pc; this.prev = new Map(); }

  async sample() {
    const report = await this.pc.getStats();
    const out = {rttMs: null, inbound: [], outbound: []};
    report.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined)
        out.rttMs = Math.round(s.currentRoundTripTime * 1000);
      if (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp') return;
      const bytes = s.type === 'inbound-rtp' ? s.bytesReceived : s.bytesSent;
      const rtx = s.retransmittedPacketsSent || 0;
      const prev = this.prev.get(s.id);
      const kbps = prev ? Math.round(((bytes - prev.bytes) * 8) / (s.timestamp - prev.t)) : 0;
      // Retransmissions per second: what the relay's NACKs cost the uplink.
      const rtxPerS = prev && s.timestamp > prev.t ? Math.round(((rtx - prev.rtx) * 1000) / (s.timestamp - prev.t)) : 0;
      let lossPct = null;
      if (s.type === 'inbound-rtp') {
        const lost = s.packetsLost || 0, got = s.packetsReceived || 0;
        const dl = prev ? lost - prev.lost : lost, dg = prev ? got - prev.got : got;
        lossPct = dl + dg > 0 ? Math.max(0, Math.round((1000 * dl) / (dl + dg)) / 10) : 0;
      } else {
        const remote = s.remoteId ? report.get(s.remoteId) : null;
        if (remote && remote.fractionLost !== undefined) lossPct = Math.round(remote.fractionLost * 1000) / 10;
        if (remote && remote.roundTripTime !== undefined) out.rttMs = Math.round(remote.roundTripTime * 1000);
      }
      this.prev.set(s.id, {bytes, rtx, t: s.timestamp, lost: s.packetsLost || 0, got: s.packetsReceived || 0});
      const entry = {kind: s.kind, kbps, lossPct, rtxPerS, trackId: s.trackIdentifier || null, mid: s.mid || null,
                     frames: s.framesDecoded, width: s.frameWidth, height: s.frameHeight};
      (s.type === 'inbound-rtp' ? out.inbound : out.outbound).push(entry);
    });
    return out;
  }
}

// Reads the token from the URL fragment (#token=...; never the query string,
// which would end up in server logs) or returns null.
function tokenFromFragment() {
  const m = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
  return m ? decodeURIComponent(m[1]) : null;
}

function tokenClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch (_) { return null; }
}

// How long a connection may stay "disconnected" before ICE restarts on it,
// and how long after that before it is replaced.
Room.ICE_RESTART_MS = 1000;
Room.ICE_GRACE_MS = 5000;
// How long a ping may take before the WebSocket counts as dead.
Room.WS_PROBE_MS = 1500;

window.Room = Room;
window.RoomError = RoomError;
window.StatsMeter = StatsMeter;
window.tokenFromFragment = tokenFromFragment;
window.tokenClaims = tokenClaims;
