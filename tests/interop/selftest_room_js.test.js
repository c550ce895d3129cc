#!/usr/bin/env node
'use strict';
/*
 * signaling/web/room.js without a browser: its ICE watchdog (a connection
 * that fails or goes "disconnected" restarts ICE on the same session, and
 * is replaced when that does not bring it back; both wait while the
 * WebSocket is down; left alone when it recovers by itself or is no longer
 * current) and its reply matching, with fake RTCPeerConnection and
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
    Room.ICE_RESTART_MS = 100;
    Room.ICE_GRACE_MS = 300;
    Room.WS_PROBE_MS = 100;
    const room = new Room({ token: 't' });
    /* A WebSocket whose server answers pings. */
    const liveWs = () => ({ readyState: 1, close() {}, send(x) {
        const m = JSON.parse(x);
        if (m.type === 'ping')
            setTimeout(() => room.receive(JSON.stringify({ type: 'pong', re: m.id })), 5);
    } });
    room.ws = liveWs();
    let restarts = 0;
    let recovered = 0;
    let current = true;
    let restartWorks = false; /* whether an ICE restart brings the connection back */
    const watch = (pc) => room.watchIce(pc, () => current, async () => {
        restarts++;
        if (restartWorks)
            setTimeout(() => pc.set('connected'), 50);
    }, async () => { recovered++; });
    const reset = () => { restarts = 0; recovered = 0; };

    /* Disconnected (a network change): ICE restarts on the same connection
     * after ICE_RESTART_MS, and that brings it back: nothing replaced. */
    restartWorks = true;
    let pc = fakePc();
    watch(pc);
    pc.set('disconnected');
    await h.sleep(50);
    h.assert(restarts === 0, 'ICE restarted before ICE_RESTART_MS');
    await h.sleep(500);
    h.assert(restarts === 1 && recovered === 0,
             `disconnected, the restart works: ${restarts} restarts, ${recovered} replacements; expected 1, 0`);

    /* The ICE restart does not bring it back: replaced ICE_GRACE_MS later. */
    reset();
    restartWorks = false;
    pc = fakePc();
    watch(pc);
    pc.set('disconnected');
    await h.sleep(250);
    h.assert(restarts === 1 && recovered === 0, `restart first: ${restarts}, ${recovered}`);
    await h.sleep(300);
    h.assert(recovered === 1, `the restart did not help: ${recovered} replacements, expected 1`);

    /* An ICE restart the server refuses: replaced at once. */
    reset();
    pc = fakePc();
    room.watchIce(pc, () => current, async () => { restarts++; throw new Error('refused'); },
                  async () => { recovered++; });
    pc.set('failed');
    await h.sleep(200);
    h.assert(restarts === 1 && recovered === 1, `refused restart: ${restarts}, ${recovered}; expected 1, 1`);

    /* Disconnected, then connected again in time: left alone. */
    reset();
    pc = fakePc();
    watch(pc);
    pc.set('disconnected');
    await h.sleep(50);
    pc.set('connected');
    await h.sleep(600);
    h.assert(restarts === 0 && recovered === 0, 'a connection that recovered by itself was restarted');

    /* The WebSocket died with the old address (open, but pings go
     * nowhere): it is closed and replaced before anything is restarted. */
    reset();
    let closed = 0;
    room.ws = { readyState: 1, send() {}, close() { closed++; } };
    pc = fakePc();
    watch(pc);
    pc.set('disconnected');
    await h.sleep(400);
    h.assert(closed === 1 && restarts === 0,
             `a dead WebSocket: closed ${closed} times, ${restarts} restarts; expected 1, 0 until a new one`);
    current = false; /* leave that connection alone from here */
    await h.sleep(1200);
    current = true;
    room.ws = liveWs();

    /* Failed while the WebSocket is down: restarted once it is up. */
    reset();
    room.ws = liveWs();
    room.ws.readyState = 3;
    pc = fakePc();
    watch(pc);
    pc.set('failed');
    await h.sleep(600);
    h.assert(restarts === 0 && recovered === 0, 'restarted while the WebSocket was down');
    room.ws.readyState = 1;
    await h.sleep(1200);
    h.assert(restarts === 1 && recovered === 1,
             `after the WebSocket came back: ${restarts} restarts, ${recovered} replacements; expected 1, 1`);

    /* No longer the current connection (already replaced): left alone. */
    reset();
    current = false;
    pc = fakePc();
    watch(pc);
    pc.set('failed');
    await h.sleep(800);
    h.assert(restarts === 0 && recovered === 0, 'a connection no longer in use was touched');

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
