// What every console shares: the header (who, room, status, language), the
// token (from #token=… or pasted), and joining the room.
'use strict';

/* global Room, t, toggleLang, applyLang, tokenFromFragment, tokenClaims */

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// Arguments in the URL fragment: token, room (for an all-rooms token),
// video=WxH (capture size, e.g. 320x240 for a weak uplink).
function fragmentArg(name) {
  const m = new RegExp(`(?:^|&)${name}=([^&]+)`).exec(location.hash.slice(1));
  return m ? decodeURIComponent(m[1]) : null;
}

// The status line: a text key (translated now and on a language change) or
// plain text (a server's detail).
let statusKey = null;
function setStatus(text, key) {
  statusKey = key || null;
  const s = $('#status');
  if (s) s.textContent = key ? t(key) : text;
}
document.addEventListener('langchange', () => { if (statusKey) setStatus(null, statusKey); });
function setStatusKey(key) { setStatus(null, key); }

// The header (title, who, status, leave, language) and the token box are
// the same on every console: built here from the page's data attributes.
function buildChrome() {
  const header = $('header');
  header.append(el('h1', {'data-i18n': header.dataset.title}), el('span', {id: 'who', class: 'who'}),
    el('span', {class: 'spacer'}), el('span', {id: 'status', class: 'status'}),
    el('button', {id: 'leave', class: 'hidden', 'data-i18n': 'leave'}),
    el('button', {id: 'lang', 'data-i18n': 'lang'}));
  const box = $('#tokenbox');
  box.append(el('label', {}, el('span', {'data-i18n': 'token'}),
    el('input', {id: 'token-input', type: 'password', autocomplete: 'off', 'data-i18n-placeholder': 'pasteToken'})));
  if (box.hasAttribute('data-room-input'))
    box.append(el('label', {}, el('span', {'data-i18n': 'room'}),
      el('input', {id: 'room-input', value: 'demo', pattern: '[A-Za-z0-9_-]{1,64}'})));
  box.append(el('button', {id: 'join', class: 'primary', 'data-i18n': 'connect'}));
  applyLang();
}

// opts: the Room callbacks plus onJoined(room, joinedMsg). Resolves with the Room.
function startConsole(opts) {
  buildChrome();
  $('#lang').addEventListener('click', toggleLang);
  return new Promise((resolve) => {
    const go = async (token) => {
      const claims = tokenClaims(token);
      if (!claims) { setStatus('not a token'); return; }
      const roomName = claims.room === '*' ? (fragmentArg('room') || ($('#room-input') && $('#room-input').value)) : null;
      const room = new Room(Object.assign({}, opts, {
        token, room: roomName || undefined,
        onState: (s) => (s === 'joined' || s === 'reconnecting' ? setStatusKey(s) : setStatus(s)),
      }));
      window.consoleRoom = room;
      try {
        const joined = await room.connect();
        $('#who').textContent = `${claims.sub} · ${claims.role} · ${t('room')} ${joined.room.name}`;
        $('#tokenbox').classList.add('hidden');
        $('#leave').classList.remove('hidden');
        $('#leave').onclick = async () => { await room.leave(); setStatusKey('leave'); };
        if (opts.onJoined) await opts.onJoined(room, joined);
        resolve(room);
      } catch (e) {
        setStatus(e.detail || e.message);
      }
    };
    const fromUrl = tokenFromFragment();
    if (fragmentArg('room') && $('#room-input')) $('#room-input').value = fragmentArg('room');
    if (fromUrl) {
      // Out of the address bar: it should not linger in history or screenshots.
      history.replaceState(null, '', location.pathname);
      go(fromUrl);
    }
    $('#join').addEventListener('click', () => go($('#token-input').value.trim()));
  });
}

// Capture size: #video=WxH in the URL (a weak uplink, or tests), else 720p.
function captureSize(fallbackW, fallbackH) {
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(fragmentArg('video') || '');
  return m ? {width: {ideal: +m[1]}, height: {ideal: +m[2]}, frameRate: {ideal: 30}}
           : {width: {ideal: fallbackW}, height: {ideal: fallbackH}, frameRate: {ideal: 30}};
}
window.captureSize = captureSize;

window.$ = $;
window.el = el;
window.setStatus = setStatus;
window.setStatusKey = setStatusKey;
window.fragmentArg = fragmentArg;
window.startConsole = startConsole;
