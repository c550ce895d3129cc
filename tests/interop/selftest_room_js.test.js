#!/usr/bin/env node
'use strict';
/*
 * signaling/web/room.js without a browser: its ICE watchdog (a connection
 * that fails, or stays "disconnected", is replaced while the WebSocket is
 * up; retried while it is down; left alone when it recovers or is no
 * longer current) and its reply matching, with fake RTCPeerConnection and
 * WebSocket objects in a vm context. Needs no server.
 */
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const h = require('./lib/harness');

function loadRoom() {
    const ctx = { window: {}, location: { protocol: 'http:', host: 'x', hash: '' }, console, setTimeout, clearTimeout, JSON };
    vm.createContext(ctx);
    vm.runInContext(fs.readFileSync(path.join(h.REPO_ROOT, 'signaling', 'web', 'room.js'), 'utf8'), ctx);
    return ctx.window;
}

function fakePc() {
    return { connectionState: 'connected', onconnectionstatechange: null,
             set(s) { this.connectionState = s; this.onconnectionstatechange(); } };
}

h.main('selftest_room_js', async () => {
    const { Room } = loadRoom();
    Room.ICE_GRACE_MS = 300;
    const room = new Room({ token: 't' });
    room.ws = { readyState: 1, send() {} };
    let recovered = 0;
    let current = true;

    /* Disconnected past the grace period: replaced. */
    let pc = fakePc();
    room.watchIce(pc, () => current, async () => { recovered++; });
    pc.set('disconnected');
    await h.sleep(150);
    h.assert(recovered === 0, 'recovered before the grace period');
    await h.sleep(300);
    h.assert(recovered === 1, `disconnected for longer than the grace: ${recovered} recoveries, expected 1`);

    /* Disconnected, then connected again in time: left alone. */
    recovered = 0;
    pc = fakePc();
    room.watchIce(pc, () => current, async () => { recovered++; });
    pc.set('disconnected');
    await h.sleep(100);
    pc.set('connected');
    await h.sleep(400);
    h.assert(recovered === 0, 'a connection that recovered by itself was replaced');

    /* Failed: replaced after a second. */
    pc = fakePc();
    room.watchIce(pc, () => current, async () => { recovered++; });
    pc.set('failed');
    await h.sleep(1200);
    h.assert(recovered === 1, `failed: ${recovered} recoveries, expected 1`);

    /* Failed while the WebSocket is down: retried once it is up. */
    recovered = 0;
    room.ws.readyState = 3;
    pc = fakePc();
    room.watchIce(pc, () => current, async () => { recovered++; });
    pc.set('failed');
    await h.sleep(1500);
    h.assert(recovered === 0, 'recovered while the WebSocket was down');
    room.ws.readyState = 1;
    await h.sleep(2200);
    h.assert(recovered === 1, `after the WebSocket came back: ${recovered} recoveries, expected 1`);

    /* No longer the current connection (already replaced): left alone. */
    recovered = 0;
    current = false;
    pc = fakePc();
    room.watchIce(pc, () => current, async () => { recovered++; });
    pc.set('failed');
    await h.sleep(1200);
    h.assert(recovered === 0, 'a connection no longer in use was replaced');

    /* Replies are matched to requests by id; errors reject. */
    const sent = [];
    room.ws = { readyState: 1, send: (x) => sent.push(JSON.parse(x)) };
    const p1 = room.request({ type: 'ping' });
    const p2 = room.request({ type: 'publish' });
    room.receive(JSON.stringify({ type: 'error', re: sent[1].id, code: 'forbidden', detail: 'no' }));
    room.receive(JSON.stringify({ type: 'pong', re: sent[0].id }));
    h.assert((await p1).type === 'pong', 'ping not answered');
    const err = await p2.then(() => null, (e) => e);
    h.assert(err && err.code === 'forbidden', `publish should be refused: ${err}`);
}, { watchdogMs: 30000 });
