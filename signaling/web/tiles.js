// Remote streams as video tiles, with a label, a recording badge and a
// statistics overlay measured from the subscriber connection.
'use strict';

/* global el, t, StatsMeter */

class Tiles {
  // container: the grid element; opts.onClick(name) makes tiles clickable.
  constructor(container, opts) {
    this.container = container;
    this.opts = opts || {};
    this.tiles = new Map();     // stream name -> {root, video, label, stats, rec, media}
    this.trackToStream = new Map();
    this.meter = null;
    this.meterPc = null;
  }

  tile(name) {
    let tl = this.tiles.get(name);
    if (tl) return tl;
    const video = el('video', {autoplay: '', playsinline: ''});
    const label = el('span', {class: 'label', text: name});
    const stats = el('span', {class: 'stats'});
    const rec = el('span', {class: 'rec hidden', text: '● REC'});
    const root = el('div', {class: 'tile', 'data-stream': name}, video, label, rec, stats);
    if (this.opts.onClick) root.addEventListener('click', () => this.opts.onClick(name));
    this.container.append(root);
    tl = {root, video, label, stats, rec, media: new MediaStream()};
    video.srcObject = tl.media;
    this.tiles.set(name, tl);
    if (this.opts.onChange) this.opts.onChange();
    return tl;
  }

  addTrack(name, track) {
    const tl = this.tile(name);
    for (const old of tl.media.getTracks()) if (old.kind === track.kind && old !== track) tl.media.removeTrack(old);
    tl.media.addTrack(track);
    this.trackToStream.set(track.id, name);
    tl.video.play().catch(() => {});
  }

  remove(name) {
    const tl = this.tiles.get(name);
    if (!tl) return;
    tl.root.remove();
    this.tiles.delete(name);
    if (this.opts.onChange) this.opts.onChange();
  }

  setRecording(name, on) {
    const tl = this.tiles.get(name);
    if (tl) tl.rec.classList.toggle('hidden', !on);
  }

  setLabel(name, text) {
    const tl = this.tiles.get(name);
    if (tl) tl.label.textContent = text;
  }

  // Per-stream kbit/s, loss and frame size from the subscriber connection.
  async updateStats(pc) {
    if (!pc) return null;
    if (this.meterPc !== pc) { this.meter = new StatsMeter(pc); this.meterPc = pc; }
    const s = await this.meter.sample();
    const per = new Map();
    for (const i of s.inbound) {
      const name = this.trackToStream.get(i.trackId);
      if (!name) continue;
      const p = per.get(name) || {kbps: 0, lossPct: 0, video: ''};
      p.kbps += i.kbps;
      p.lossPct = Math.max(p.lossPct, i.lossPct || 0);
      if (i.kind === 'video' && i.width) p.video = `${i.width}×${i.height}`;
      per.set(name, p);
    }
    for (const [name, p] of per) {
      const tl = this.tiles.get(name);
      if (tl) tl.stats.textContent = `${p.kbps} ${t('kbps')} · ${t('loss')} ${p.lossPct}% · ${t('rtt')} ${s.rttMs ?? '–'} ${t('ms')} ${p.video}`;
    }
    return {rttMs: s.rttMs, per};
  }
}

window.Tiles = Tiles;
