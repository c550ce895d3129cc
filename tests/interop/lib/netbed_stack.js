'use strict';
/*
 * The pieces of a browser test on the impaired-network bed (netbed.js),
 * each registered for clean-up on every exit path of the test (harness.js):
 *
 *   const bed = await bedFor(t);                  // namespaces, deleted last
 *   const srv = await relayIn(t, bed);            // medrelay in the server namespace
 *   const web = await pagesIn(t, bed);            // tests/interop/pages, from the server namespace
 *   const clinic = await chromiumIn(t, bed, 'clinic', { origin: web.url });
 *
 * medrelay listens and gathers on the server's bed address, so its ICE
 * candidates are reachable from the clinic and the expert. The test itself
 * stays in the root namespace and reaches medrelay's HTTP through a
 * forwarder on a Unix socket (netbed_child.js). Chromium runs inside its
 * namespace through a wrapper script given to playwright-core as the
 * executable: `ip netns exec` execs, so the DevTools pipe playwright opens
 * on fds 3 and 4 reaches the browser unchanged.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const crypto = require('crypto');
const readline = require('readline');
const h = require('./harness');
const netbed = require('./netbed');
const tokens = require('./tokens');
const { tailFile } = require('./server');
const { CHROMIUM, CHROMIUM_FLAGS } = require('./chromium');

const NODE = process.execPath;
const CHILD = path.join(__dirname, 'netbed_child.js');
const RELAY_PORT = 8080; /* the server namespace is new: every port is free */

async function bedFor(t) {
    const bed = await netbed.create({ log: t.log });
    t.onCleanup('netbed', () => bed.destroy());
    t.addFailureInfo(async () => `--- impairments in place: ${JSON.stringify(bed.describe())}\n${await bed.dump()}`);
    return bed;
}

/* Spawns a netbed_child.js mode in ns; resolves { child, info } with its first JSON line. */
function startChild(t, bed, ns, what, args, timeoutMs = 10000) {
    const child = bed.spawn(ns, NODE, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    t.onCleanup(what, () => child.kill('SIGKILL'));
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new h.SetupError(`${what} did not start: ${stderr}`)), timeoutMs);
        child.on('exit', (code) => reject(new h.SetupError(`${what} exited (${code}): ${stderr}`)));
        readline.createInterface({ input: child.stdout }).once('line', (line) => {
            clearTimeout(timer);
            resolve({ child, info: JSON.parse(line) });
        });
    });
}

/* An HTTP request over a Unix socket; resolves { status, headers, body }. */
function socketRequest(socketPath, { method = 'GET', path: p, headers = {}, host, timeoutMs = 3000 }) {
    return new Promise((resolve, reject) => {
        const req = http.request({ socketPath, method, path: p, headers: { Host: host, ...headers },
                                   timeout: timeoutMs }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${p} timed out after ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end();
    });
}

/*
 * The medrelay config for the bed: the repository's consoles, and the
 * recording policy (default "never": CPU for the browsers; "on-demand" for a
 * test that starts and stops recordings through the API).
 */
function relayConfig(tmp, recordPolicy = 'never') {
    const webRoot = path.join(h.REPO_ROOT, 'signaling', 'web');
    let ini = '# Written by tests/interop/lib/netbed_stack.js for one test run.\n';
    ini += `[server]\nweb_root = ${webRoot}\n`;
    ini += `[auth]\njwt_secret_file = ${path.join(tmp, 'jwt-secret')}\n`;
    ini += `[recording]\npolicy = ${recordPolicy}\n`;
    if (process.env.MEDRELAY_TEST_LOG_LEVEL)
        ini += `[log]\nlevel = ${process.env.MEDRELAY_TEST_LOG_LEVEL}\n`;
    return ini;
}

/*
 * medrelay (MEDRELAY_BIN) in the server namespace on <server addr>:8080,
 * media on the same address. Resolves { url, token(opts), get(path,
 * headers), request(method, path, headers), api(method, path) (JSON, with an
 * operator token for every room), metricsText(), recordDir, stop(),
 * describe(), logPath, logText() }. recordPolicy: the config's [recording]
 * policy; extraArgs: more command-line flags (e.g. --announce-ip);
 * extraConfig(tmp): more configuration sections (files it needs go in tmp,
 * the run's scratch folder).
 * The temporary folder (record dir included) is removed by stop().
 */
async function relayIn(t, bed, { readyTimeoutMs = 15000, recordPolicy = 'never', extraArgs = [],
                                 extraConfig = null } = {}) {
    const bin = h.serverBinary();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medrelay-bed-'));
    const recordDir = path.join(tmp, 'recordings');
    fs.mkdirSync(recordDir);
    const configPath = path.join(tmp, 'medrelay.conf');
    fs.writeFileSync(configPath, relayConfig(tmp, recordPolicy) + (extraConfig ? extraConfig(tmp) : ''));
    const secret = crypto.randomBytes(24).toString('hex');
    const host = bed.addr.server;
    const args = ['--config', configPath, '--listen', `${host}:${RELAY_PORT}`, '--media-ip', host,
                  '--record-dir', recordDir, ...extraArgs];
    const logPath = path.join(t.dir, 'medrelay.log');
    const logFd = fs.openSync(logPath, 'w');
    t.log(`starting medrelay in ${bed.ns.server}: ${bin} ${args.join(' ')}`);
    const proc = bed.spawn(bed.ns.server, bin, args, {
        cwd: tmp, env: { ...process.env, MEDRELAY_JWT_SECRET: secret }, stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    let exited = null;
    const exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => {
        exited = { code, signal };
        resolve(exited);
    }));

    const fwd = await startChild(t, bed, bed.ns.server, 'medrelay forwarder',
                                 ['forward', path.join(bed.tmpDir, 'relay-http.sock'), host, String(RELAY_PORT)]);
    const sock = fwd.info.socket;
    const srv = {
        url: `http://${host}:${RELAY_PORT}`,
        logPath,
        logText: () => fs.readFileSync(logPath, 'utf8'),
        recordDir,
        token: (opts) => tokens.mintToken({ bin, secret, configPath, ...opts }),
        get: (p, headers = {}) => socketRequest(sock, { path: p, headers, host: `${host}:${RELAY_PORT}` }),
        request: (method, p, headers = {}) => socketRequest(sock, { method, path: p, headers,
                                                                    host: `${host}:${RELAY_PORT}` }),
        describe: () => `--- medrelay ${exited ? `exited (${JSON.stringify(exited)})` : 'running'}; ` +
                        `last lines of ${logPath}:\n${tailFile(logPath, 40)}\n---`,
        stopped: false,
    };
    const operator = srv.token({ room: '*', role: 'operator', name: 'impaired-metrics' });
    srv.metricsText = async () => {
        const r = await srv.get('/metrics', { Authorization: `Bearer ${operator}` });
        if (r.status !== 200)
            throw new h.TestFailure(`GET /metrics answered ${r.status}: ${r.body.slice(0, 200)}`);
        return r.body;
    };
    /* An /api/ request as the operator of every room; resolves { status, json, body }. */
    srv.api = async (method, p) => {
        const r = await srv.request(method, p, { Authorization: `Bearer ${operator}` });
        let json = null;
        try {
            json = JSON.parse(r.body);
        } catch (_) { /* not JSON: the caller reports status and body */ }
        return { status: r.status, json, body: r.body };
    };
    /* SIGTERM, 5 s, SIGKILL; a crash or a sanitizer report fails the test. */
    srv.stop = async () => {
        if (srv.stopped)
            return;
        srv.stopped = true;
        const diedEarly = exited;
        if (!exited) {
            proc.kill('SIGTERM');
            const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
            await exitPromise;
            clearTimeout(timer);
        }
        fs.rmSync(tmp, { recursive: true, force: true });
        if (diedEarly)
            throw new h.TestFailure(`medrelay died during the test (${JSON.stringify(diedEarly)})`);
        if (/ERROR: (Address|Leak|Thread)Sanitizer|runtime error:/.test(fs.readFileSync(logPath, 'utf8')))
            throw new h.TestFailure("medrelay's log holds a sanitizer report");
        if (!(exited.code === 0 || exited.signal === 'SIGTERM'))
            throw new h.TestFailure(`medrelay stopped badly after SIGTERM: ${JSON.stringify(exited)}`);
        t.log('medrelay stopped');
    };
    t.onCleanup('medrelay', () => srv.stop().catch((e) => console.error(`medrelay: ${e.message}`)));
    t.addFailureInfo(() => srv.describe());

    /* Polls /healthz; a server that died stops the wait at once. */
    await h.waitFor('medrelay to answer GET /healthz in the server namespace', async () => {
        if (exited)
            return 'exited';
        const r = await srv.get('/healthz');
        return r.status === 200;
    }, { timeoutMs: readyTimeoutMs, intervalMs: 100 }).catch((e) => {
        throw new h.SetupError(`${e.message}\n${tailFile(logPath, 30)}`);
    });
    if (exited)
        throw new h.SetupError(`medrelay exited during start-up (${JSON.stringify(exited)}):\n` +
                               tailFile(logPath, 30));
    t.log(`medrelay ready at ${srv.url} (pid ${proc.pid})`);
    return srv;
}

/* tests/interop/pages served from the server namespace; resolves { url }. */
async function pagesIn(t, bed) {
    const { info } = await startChild(t, bed, bed.ns.server, 'page server', ['serve', bed.addr.server]);
    t.log(`pages at ${info.url}`);
    return { url: info.url };
}

function loadPlaywright() {
    try {
        return require('playwright-core');
    } catch (e) {
        throw new h.SetupError(`playwright-core is not installed; run \`npm ci --prefix tests/interop\` (${e.code})`);
    }
}

/*
 * Chromium inside the namespace of role ('clinic' or 'expert'). origin is
 * the pages' origin, treated as secure so getUserMedia works over plain
 * HTTP on a bed address. Returns { version, newPage(name), consoleTail(name),
 * close() }; page consoles go to <role>-<name>.console.log.
 */
async function chromiumIn(t, bed, role, { origin, extraArgs = [] } = {}) {
    if (!fs.existsSync(CHROMIUM))
        throw new h.SetupError(`${CHROMIUM} not found: apt-get install chromium (or set MEDRELAY_CHROMIUM)`);
    const { chromium } = loadPlaywright();
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), `medrelay-chromium-${role}-`));
    /* Candidates on the bed address only (no loopback: it is another host's in each
     * namespace), also on a page that asked for no camera (no mDNS names). */
    const flags = CHROMIUM_FLAGS.filter((f) => f !== '--allow-loopback-in-peer-connection');
    const args = [...flags, `--unsafely-treat-insecure-origin-as-secure=${origin}`,
                  '--disable-features=WebRtcHideLocalIpsWithMdns', ...extraArgs];
    let context;
    try {
        context = await chromium.launchPersistentContext(userDataDir, {
            executablePath: bed.wrapper(bed.ns[role], CHROMIUM), headless: true, args,
            viewport: { width: 800, height: 600 }, timeout: 30000,
        });
    } catch (e) {
        fs.rmSync(userDataDir, { recursive: true, force: true });
        throw new h.SetupError(`could not launch ${CHROMIUM} in ${bed.ns[role]}: ${e.message}`);
    }
    const version = context.browser() ? context.browser().version() : '?';
    t.log(`chromium ${version} launched in ${bed.ns[role]} (${role})`);
    const consoles = new Map();
    let closed = false;
    const api = {
        version,
        async newPage(name) {
            const blank = context.pages().find((p) => p.url() === 'about:blank' && !p.usedByTest);
            const page = blank || await context.newPage();
            page.usedByTest = true;
            const lines = [];
            consoles.set(name, lines);
            const file = path.join(t.dir, `${role}-${name}.console.log`);
            const add = (line) => {
                const s = `${new Date().toISOString()} ${line}`;
                lines.push(s);
                fs.appendFileSync(file, s + '\n');
            };
            page.on('console', (m) => add(`[${m.type()}] ${m.text()}`));
            page.on('pageerror', (e) => add(`[pageerror] ${e.message}`));
            page.on('crash', () => add('[crash] the page crashed'));
            return page;
        },
        consoleTail: (name, n = 20) => (consoles.get(name) || []).slice(-n).join('\n'),
        async close() {
            if (closed)
                return;
            closed = true;
            try {
                await context.close();
            } finally {
                fs.rmSync(userDataDir, { recursive: true, force: true });
            }
        },
    };
    t.onCleanup(`chromium (${role})`, () => api.close());
    return api;
}

module.exports = { bedFor, relayIn, pagesIn, chromiumIn, socketRequest };
