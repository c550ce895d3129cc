// The expert console: every stream of the room in a grid (click to
// enlarge), statistics on each, talk back with camera and microphone.
'use strict';

/* global $, el, t, startConsole, Tiles, setStatus, setStatusKey, captureSize */

let room = null;
let talk = null;
let big = null;
const VIDEO = captureSize(640, 480);
const grid = $('#grid');
const tiles = new Tiles(grid, {
  onClick: (name) => enlarge(big === name ? null : name),
  onChange: () => $('#empty').classList.toggle('hidden', tiles.tiles.size > 0),
});

function enlarge(name) {
  big = name;
  grid.classList.toggle('enlarged', !!name);
  for (const [n, tl] of tiles.tiles) {
    tl.root.classList.toggle('big', n === name);
    if (n === name) grid.prepend(tl.root);
  }
}

function talkStream() { return `talk-${room.me.id}`; }

async function startTalk() {
  $('#talk').disabled = true;
  try {
    talk = await navigator.mediaDevices.getUserMedia({audio: true, video: VIDEO});
    $('#local').srcObject = talk;
    await room.publish(talkStream(), talk);
    $('#untalk').disabled = false;
  } catch (e) {
    setStatus(e.detail || e.message);
    $('#talk').disabled = false;
  }
}

async function stopTalk() {
  await room.unpublish(talkStream());
  if (talk) talk.getTracks().forEach((x) => x.stop());
  talk = null;
  $('#local').srcObject = null;
  $('#untalk').disabled = true;
  $('#talk').disabled = false;
}

function showPeople() {
  const ul = $('#people');
  ul.innerHTML = '';
  for (const p of (room && room.state ? room.state.participants : []))
    ul.append(el('li', {text: `${p.sub} (${p.role})${room.me && p.id === room.me.id ? ' ★' : ''}`}));
  for (const s of (room && room.state ? room.state.streams : [])) {
    tiles.setRecording(s.name, s.recording);
    tiles.setLabel(s.name, `${s.name} · ${s.publisher}`);
  }
}

startConsole({
  onTrack: (name, ms, track) => { tiles.addTrack(name, track); showPeople(); },
  onStreamGone: (name) => { tiles.remove(name); if (big === name) enlarge(null); },
  onEvent: (m) => {
    if (m.type === 'removed') setStatusKey('removed');
    if (m.type === 'replaced') setStatusKey('replaced');
    showPeople();
  },
  onJoined: async (r) => {
    room = r;
    $('#talk').disabled = false;
    showPeople();
    await room.subscribe('*');
  },
});
$('#talk').addEventListener('click', startTalk);
$('#untalk').addEventListener('click', stopTalk);
document.addEventListener('langchange', showPeople);
setInterval(() => { if (room && room.sub) tiles.updateStats(room.sub.pc).catch(() => {}); }, 1000);
