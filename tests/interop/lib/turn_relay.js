'use strict';
/*
 * medrelay in the bed's server namespace with a [turn] section (issue 16):
 * netbed_stack.js's relayIn() writes a config of its own without one, so
 * this starts the server the same way (same address and port, the
 * repository's consoles, the forwarder for the test's HTTP requests) with
 * coturn's secret in a [turn] secret_file.
 *
 *   const srv = await relayWithTurn(t, bed, { urls: [...], turnSecret, ttl });
 *   srv.url, srv.token({ room, role, name, ttl }), srv.request(method, path, headers),
 *   srv.logText(), await srv.stop()
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const readline = require('readline');
const h = require('./harness');
const tokens = require('./tokens');
const { socketRequest } = require('./netbed_stack');
const { tailFile } = require('./server');
const { RELAY_PORT } = require('./turn_bed');

const CHILD = path.join(__dirname, 'netbed_child.js');

function relayConfig(tmp, { urls, turnSecret, ttl }) {
    const secretFile = path.join(tmp, 'turn-secret');
    fs.writeFileSync(secretFile, `${turnSecret}\n`, { mode: 0o600 });
    let ini = '# Written by tests/interop/lib/turn_relay.js for one test run.\n';
    ini += `[server]\nweb_root = ${path.join(h.REPO_ROOT, 'signaling', 'web')}\n`;
    ini += `[auth]\njwt_secret_file = ${path.join(tmp, 'jwt-secret')}\n`;
    ini += '[recording]\npolicy = never\n';
    ini += `[turn]\nurls = ${urls.join(', ')}\nsecret_file = ${secretFile}\nttl = ${ttl}\n`;
    if (process.env.MEDRELAY_TEST_LOG_LEVEL)
        ini += `[log]\nlevel = ${process.env.MEDRELAY_TEST_LOG_LEVEL}\n`;
    return ini;
}

/* The forwarder (netbed_child.js forward) from a Unix socket to medrelay's HTTP port. */
function startForwarder(t, bed, host) {
    const sock = path.join(bed.tmpDir, 'turn-relay-http.sock');
    const child = bed.spawn(bed.ns.server, process.execPath, [CHILD, 'forward', sock, host, String(RELAY_PORT)],
                            { stdio: ['pipe', 'pipe', 'pipe'] });
    t.onCleanup('medrelay forwarder', () => child.kill('SIGKILL'));
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new h.SetupError('the medrelay forwarder did not start')), 10000);
        readline.createInterface({ input: child.stdout }).once('line', () => {
            clearTimeout(timer);
            resolve(sock);
        });
    });
}

/* SIGTERM, 5 s, SIGKILL; a crash, a bad exit or a sanitizer report fails the test. */
function stopper(t, proc, state, tmp, logPath) {
    return async () => {
        if (state.stopped)
            return;
        state.stopped = true;
        const diedEarly = state.exited;
        if (!state.exited) {
            proc.kill('SIGTERM');
            const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
            await state.exitPromise;
            clearTimeout(timer);
        }
        fs.rmSync(tmp, { recursive: true, force: true });
        if (diedEarly)
            throw new h.TestFailure(`medrelay died during the test (${JSON.stringify(diedEarly)})`);
        if (/ERROR: (Address|Leak|Thread)Sanitizer|runtime error:/.test(fs.readFileSync(logPath, 'utf8')))
            throw new h.TestFailure("medrelay's log holds a sanitizer report");
        const ex = state.exited;
        if (!(ex.code === 0 || ex.signal === 'SIGTERM'))
            throw new h.TestFailure(`medrelay stopped badly after SIGTERM: ${JSON.stringify(ex)}`);
        t.log('medrelay stopped');
    };
}

async function relayWithTurn(t, bed, { urls, turnSecret, ttl = 3600, readyTimeoutMs = 15000 }) {
    const bin = h.serverBinary();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medrelay-turn-'));
    const configPath = path.join(tmp, 'medrelay.conf');
    fs.writeFileSync(configPath, relayConfig(tmp, { urls, turnSecret, ttl }));
    const secret = crypto.randomBytes(24).toString('hex');
    const host = bed.addr.server;
    const args = ['--config', configPath, '--listen', `${host}:${RELAY_PORT}`, '--media-ip', host,
                  '--record-dir', path.join(tmp, 'recordings')];
    const logPath = path.join(t.dir, 'medrelay.log');
    const logFd = fs.openSync(logPath, 'w');
    t.log(`starting medrelay in ${bed.ns.server}: ${bin} ${args.join(' ')}`);
    const proc = bed.spawn(bed.ns.server, bin, args, {
        cwd: tmp, env: { ...process.env, MEDRELAY_JWT_SECRET: secret }, stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    const state = { exited: null, stopped: false };
    state.exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => {
        state.exited = { code, signal };
        resolve();
    }));
    const sock = await startForwarder(t, bed, host);
    const hostHeader = `${host}:${RELAY_PORT}`;
    const srv = {
        url: `http://${hostHeader}`,
        logPath,
        logText: () => fs.readFileSync(logPath, 'utf8'),
        token: (opts) => tokens.mintToken({ bin, secret, configPath, ...opts }),
        request: (method, p, headers = {}) => socketRequest(sock, { method, path: p, headers, host: hostHeader }),
        stop: stopper(t, proc, state, tmp, logPath),
    };
    t.onCleanup('medrelay', () => srv.stop().catch((e) => console.error(`medrelay: ${e.message}`)));
    t.addFailureInfo(() => `--- medrelay ${state.exited ? JSON.stringify(state.exited) : 'running'}; ` +
                           `last lines of ${logPath}:\n${tailFile(logPath, 40)}\n---`);
    /* A server that died stops the wait at once. */
    await h.waitFor('medrelay to answer GET /healthz in the server namespace',
                    async () => state.exited || (await srv.request('GET', '/healthz')).status === 200,
                    { timeoutMs: readyTimeoutMs, intervalMs: 100 }).catch((e) => {
        throw new h.SetupError(`${e.message}\n${tailFile(logPath, 30)}`);
    });
    if (state.exited)
        throw new h.SetupError(`medrelay exited during start-up (${JSON.stringify(state.exited)}):\n` +
                               tailFile(logPath, 30));
    t.log(`medrelay ready at ${srv.url} (pid ${proc.pid}) with [turn] ${urls.join(', ')}`);
    return srv;
}

module.exports = { relayWithTurn };
