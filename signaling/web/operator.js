// The broadcast operator's console: the room's streams with live bitrate,
// loss and RTT (measured on the operator's own subscriber connection), each
// publisher's uplink as the relay sees it (loss before and after repair,
// bitrate, round trip: the REST API's "link", every 2 s), mute,
// program and recording controls, participants (remove) and how each of
// their media connections reaches the relay (UDP, TCP, TURN; round trip:
// the REST API's sessions, every 2 s), every room the token covers (REST
// API), and the room's recordings (signed URLs).
'use strict';

/* global $, el, t, startConsole, Tiles, setStatus */

let room = null;
let token = null;
let lastStats = new Map();
let rtt = null;
let links = new Map(); // stream name -> the API's "link" (null: not known yet)
let sessions = []; // the API's sessions of the room
let polls = 0;
const tiles = new Tiles($('#grid'));

async function api(method, path) {
  const r = await fetch(path, {method, headers: {Authorization: `Bearer ${token}`}});
  const body = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) throw new Error((body && body.detail) || `${r.status}`);
  return body;
}

function act(promise) { promise.then(() => render()).catch((e) => setStatus(e.detail || e.message)); }

function button(i18n, onclick, cls) {
  return el('button', {class: cls || '', 'data-i18n': i18n, text: t(i18n), onclick});
}

// A fraction as a percentage with one decimal ("–" when unknown).
function pct(f) { return f === null || f === undefined ? '–' : `${(f * 100).toFixed(1)}%`; }

// The publisher's uplink: "loss 5.2% → 0.1%" (before → after repair), then
// bitrate and round trip; red when more than 1 % stays lost after repair.
// Numbers only: no names.
function uplinkCell(link) {
  if (!link) return el('td', {class: 'uplink', text: '–'});
  const after = link.loss_after_repair;
  const bad = after !== null && after > 0.01;
  const audio = link.loss === null && link.audio_loss !== null ? ` (${t('audio')})` : '';
  const loss = link.loss !== null ? link.loss : link.audio_loss;
  return el('td', {class: `uplink${bad ? ' bad' : ''}`, title: t('uplinkHelp'),
                   'data-loss': loss ?? '', 'data-loss-after': after ?? '', 'data-kbps': link.kbps},
    el('span', {class: 'loss', text: `${t('loss')} ${pct(loss)}${link.loss !== null ? ` → ${pct(after)}` : ''}${audio}`}),
    el('br'),
    el('span', {class: 'figures', text: `${link.kbps} ${t('kbps')} · ${t('rtt')} ${link.rtt_ms ?? '–'} ${t('ms')}` +
      (link.recovered || link.gave_up ? ` · ${t('repaired')} ${link.recovered}/${link.recovered + link.gave_up}` : '')}));
}

async function pollLinks() {
  if (!room || !room.state) return;
  const name = encodeURIComponent(room.state.name);
  const r = await api('GET', `/api/rooms/${name}/streams`);
  links = new Map(r.streams.map((s) => [s.stream, s.link || null]));
  sessions = (await api('GET', `/api/rooms/${name}/sessions`)).sessions;
}

// One media connection: "UDP 31 ms", "TCP 48 ms", "TURN/TCP –" (what the
// stream is, for a publisher). Red for TURN or TCP: workable, but the
// clinic's network is worth a look.
function connectionText(s) {
  const c = s.connection;
  const how = c.transport === null ? '…' : `${c.relayed ? `${t('relayed')}/` : ''}${c.transport.toUpperCase()}`;
  return `${s.kind === 'publish' ? `${s.stream} ` : ''}${how} ${c.rtt_ms ?? '–'} ${t('ms')}${layerText(s.layer)}`;
}

// A viewer of a simulcast stream: " · middle layer (its downlink, 850 kbit/s)".
function layerText(l) {
  if (!l) return '';
  const why = l.why === 'best' ? '' : ` (${t(`why_${l.why}`)}${l.why === 'downlink' && l.downlink_kbps !== null
    ? `, ${l.downlink_kbps} ${t('kbps')}` : ''})`;
  return ` · ${t(`layer_${l.sent}`)}${why}`;
}

function connectionCell(list) {
  const odd = list.some((s) => s.connection.relayed || s.connection.transport === 'tcp');
  return el('td', {class: `connection${odd ? ' bad' : ''}`, title: t('connectionHelp'),
                   'data-transports': list.map((s) => s.connection.transport).join(' '),
                   'data-relayed': list.some((s) => s.connection.relayed) ? '1' : '0'},
    ...list.map((s, i) => [i ? el('br') : null, el('span', {text: connectionText(s)})]).flat());
}

function renderStreams() {
  const tb = $('#streams tbody');
  tb.innerHTML = '';
  const st = room ? room.state : null;
  for (const s of (st ? st.streams : [])) {
    const live = lastStats.get(s.name);
    const badges = el('span', {},
      s.recording ? el('span', {class: 'badge rec', text: t('recording')}) : el('span', {class: 'badge', text: t('notRecording')}),
      st.program === s.name ? el('span', {class: 'badge prog', text: ` ${t('program')}`}) : null);
    const controls = el('td', {class: 'row'},
      s.recording ? button('stopRec', () => act(room.record('stop', s.name))) : button('startRec', () => act(room.record('start', s.name)), 'primary'),
      button(s.muted.audio ? 'unmute' : 'muteAudio', () => act(room.mute(s.name, 'audio', !s.muted.audio))),
      button(s.muted.video ? 'unmute' : 'muteVideo', () => act(room.mute(s.name, 'video', !s.muted.video))),
      button('setProgram', () => act(room.program(s.name))));
    tb.append(el('tr', {'data-stream': s.name},
      el('td', {text: `${s.name} · ${s.publisher}`}),
      el('td', {text: live ? `${live.kbps} ${t('kbps')}` : '–'}),
      el('td', {text: live ? `${live.lossPct}%` : '–'}),
      el('td', {text: rtt !== null ? `${rtt} ${t('ms')}` : '–'}),
      uplinkCell(links.get(s.name)),
      el('td', {}, badges), controls));
    tiles.setRecording(s.name, s.recording);
  }
}

function renderPeople() {
  const tb = $('#people tbody');
  tb.innerHTML = '';
  const owner = (s) => `${s.role}\n${s.sub}`;
  const left = new Set(sessions);
  for (const p of (room && room.state ? room.state.participants : [])) {
    const me = room.me && p.id === room.me.id;
    const mine = sessions.filter((s) => owner(s) === owner(p));
    mine.forEach((s) => left.delete(s));
    tb.append(el('tr', {'data-sub': p.sub}, el('td', {text: `${p.sub}${me ? ' ★' : ''}`}), el('td', {text: p.role}),
      connectionCell(mine),
      el('td', {}, me ? null : button('remove', () => act(room.remove(p.id)), 'danger'))));
  }
  // WHIP and WHEP clients (encoders, players) are not room participants.
  for (const s of left)
    tb.append(el('tr', {'data-sub': s.sub}, el('td', {text: s.sub}), el('td', {text: `${s.role} · ${t('otherSessions')}`}),
      connectionCell([s]), el('td', {})));
}

async function renderRooms() {
  try {
    const r = await api('GET', '/api/rooms');
    const tb = $('#rooms tbody');
    tb.innerHTML = '';
    for (const x of r.rooms)
      tb.append(el('tr', {}, el('td', {text: x.room}), el('td', {text: `${x.published} ▶ · ${x.subscribers} ${t('viewers')}`}),
        el('td', {}, x.recording ? el('span', {class: 'badge rec', text: t('recording')}) : null)));
  } catch (_) { /* shown again next time */ }
}

async function renderRecordings() {
  if (!room || !room.state) return;
  try {
    const r = await api('GET', `/api/recordings?room=${encodeURIComponent(room.state.name)}&limit=8`);
    const tb = $('#recordings tbody');
    tb.innerHTML = '';
    for (const x of r.recordings) {
      const play = x.downloadable ? button('download', async () => {
        const u = await api('POST', `/api/recordings/${x.id}/url`);
        const v = $('#playback');
        v.src = u.url;
        v.classList.remove('hidden');
        v.play().catch(() => {});
      }) : null;
      tb.append(el('tr', {}, el('td', {text: `${x.stream} ${x.start.slice(11, 16)}`}), el('td', {text: x.state}), el('td', {}, play)));
    }
  } catch (_) { /* shown again next time */ }
}

function render() { renderStreams(); renderPeople(); }

async function poll() {
  if (room && room.sub) {
    const s = await tiles.updateStats(room.sub.pc).catch(() => null);
    if (s) { lastStats = s.per; rtt = s.rttMs; }
  }
  // The relay measures the uplinks over 2 s windows: asking more often
  // would show the same window twice.
  if (polls++ % 2 === 0) await pollLinks().catch(() => {});
  renderStreams();
  renderPeople();
}

startConsole({
  onTrack: (name, ms, track) => tiles.addTrack(name, track),
  onStreamGone: (name) => tiles.remove(name),
  onEvent: () => render(),
  onJoined: async (r) => {
    room = r;
    token = r.opts.token;
    render();
    // The operator watches everything, to see and measure each feed.
    await room.subscribe('*');
    renderRooms();
    renderRecordings();
  },
});
$('#rec-all').addEventListener('click', () => act(room.record('start')));
$('#stop-all').addEventListener('click', () => act(room.record('stop')));
document.addEventListener('langchange', render);
setInterval(() => poll().catch(() => {}), 1000);
setInterval(() => { if (room) { renderRooms(); renderRecordings(); } }, 5000);
