'use strict';
/*
 * Starts and stops the real medrelay binary for a test.
 *
 *   const srv = await startServer({ bin, artifactDir });
 *   srv.url            'http://127.0.0.1:<port>'
 *   srv.token({...})   mints a token with the binary (see tokens.js)
 *   await srv.stop()   SIGTERM, wait; throws TestFailure if it crashed
 *
 * The server gets a temporary folder (config file, record dir, cwd, so
 * nothing lands in the repository), a free port found by binding port 0, a
 * fresh random secret in MEDRELAY_JWT_SECRET, and its stdout+stderr in
 * <artifactDir>/medrelay.log. It runs under `setpriv --pdeathsig KILL` when
 * setpriv exists, so it dies with the test even if the test is SIGKILLed
 * (CTest timeout).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const http = require('http');
const crypto = require('crypto');
const { spawn } = require('child_process');
const { REPO_ROOT, TestFailure, SetupError, log, sleep, onExitKill } = require('./harness');
const tokens = require('./tokens');

/* A port that was free a moment ago on host (bind port 0, read it, close). */
function freePort(host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.unref();
        s.on('error', reject);
        s.listen(0, host, () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

/* GET url; resolves { status, headers, body } or rejects; never hangs past timeoutMs. */
function httpGet(url, timeoutMs = 2000) {
    return new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                          body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
        req.on('error', reject);
    });
}

/* The last n lines of a file ('' if it cannot be read). */
function tailFile(file, n = 40) {
    try {
        const lines = fs.readFileSync(file, 'utf8').split('\n');
        if (lines.length && lines[lines.length - 1] === '')
            lines.pop();
        return lines.slice(-n).join('\n');
    } catch (_) {
        return '';
    }
}

function iniText(sections) {
    let out = '# Written by tests/interop/lib/server.js for one test run.\n';
    for (const [section, keys] of Object.entries(sections)) {
        const entries = Object.entries(keys).filter(([, v]) => v !== undefined && v !== null);
        if (!entries.length)
            continue;
        out += `\n[${section}]\n`;
        for (const [k, v] of entries)
            out += `${k} = ${v}\n`;
    }
    return out;
}

const SANITIZER_PATTERNS = [/ERROR: AddressSanitizer/, /ERROR: LeakSanitizer/, /runtime error:/,
                            /ERROR: ThreadSanitizer/];

/*
 * Options:
 *   bin          path of medrelay (required)
 *   artifactDir  where medrelay.log goes (required)
 *   config       { section: { key: value } } merged over the defaults below
 *   env          extra environment
 *   readyTimeoutMs  how long to wait for GET /healthz → 200 (default 15 s)
 */
async function startServer({ bin, artifactDir, config = {}, env = {}, readyTimeoutMs = 15000 }) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medrelay-test-'));
    const recordDir = path.join(tmp, 'recordings');
    fs.mkdirSync(recordDir);
    /* 48 printable bytes: the contract wants at least 32. */
    const secret = crypto.randomBytes(24).toString('hex');
    const port = await freePort();
    const host = '127.0.0.1';

    const webRoot = path.join(REPO_ROOT, 'signaling', 'web');
    const sections = {
        server: { web_root: fs.existsSync(webRoot) ? webRoot : undefined },
        /* Never touch the repository's .medrelay/ secret; the env secret wins anyway. */
        auth: { jwt_secret_file: path.join(tmp, 'jwt-secret') },
        log: { level: process.env.MEDRELAY_TEST_LOG_LEVEL },
    };
    for (const [s, keys] of Object.entries(config))
        sections[s] = { ...(sections[s] || {}), ...keys };
    const configPath = path.join(tmp, 'medrelay.conf');
    fs.writeFileSync(configPath, iniText(sections));

    const logPath = path.join(artifactDir, 'medrelay.log');
    const logFd = fs.openSync(logPath, 'w');
    const args = ['--config', configPath, '--listen', `${host}:${port}`, '--media-ip', host,
                  '--record-dir', recordDir];
    const fullEnv = { ...process.env, MEDRELAY_JWT_SECRET: secret, ...env };
    let cmd = bin;
    let cmdArgs = args;
    if (fs.existsSync('/usr/bin/setpriv')) {
        cmd = '/usr/bin/setpriv';
        cmdArgs = ['--pdeathsig', 'KILL', '--', bin, ...args];
    }
    log(`starting ${bin} ${args.join(' ')}`);
    const proc = spawn(cmd, cmdArgs, { cwd: tmp, env: fullEnv, stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);

    let exited = null; /* { code, signal } once the process is gone */
    let spawnError = null;
    const exitPromise = new Promise((resolve) => {
        proc.on('exit', (code, signal) => {
            exited = { code, signal };
            resolve(exited);
        });
        proc.on('error', (e) => {
            spawnError = e;
            exited = exited || { code: null, signal: null, error: e };
            resolve(exited);
        });
    });
    const removeExitKill = onExitKill(() => {
        if (!exited)
            proc.kill('SIGKILL');
    });

    const url = `http://${host}:${port}`;
    const srv = {
        url,
        host,
        port,
        secret,
        configPath,
        tmpDir: tmp,
        recordDir,
        logPath,
        proc,
        get exited() { return exited; },
        tail: (n = 40) => tailFile(logPath, n),
        /* Mints a token with the binary, for this server's secret. */
        token: (opts) => tokens.mintToken({ bin, secret, configPath, ...opts }),
        stopped: false,
    };

    /* Diagnostics for a failure: the last lines of the server log. */
    srv.describe = () => {
        const state = exited ? `exited (code ${exited.code}, signal ${exited.signal})` : `running (pid ${proc.pid})`;
        return `--- medrelay ${state}; last lines of ${logPath}:\n${srv.tail(40) || '(empty)'}\n---`;
    };

    /*
     * SIGTERM, wait up to graceMs, then SIGKILL. Throws TestFailure when the
     * server had already died, did not stop in time, stopped with a crash
     * signal or non-zero status, or printed a sanitizer report.
     */
    srv.stop = async ({ graceMs = 5000 } = {}) => {
        if (srv.stopped)
            return exited;
        srv.stopped = true;
        const diedEarly = exited;
        let killedHard = false;
        if (!exited) {
            proc.kill('SIGTERM');
            const t = setTimeout(() => {
                if (!exited) {
                    killedHard = true;
                    proc.kill('SIGKILL');
                }
            }, graceMs);
            await exitPromise;
            clearTimeout(t);
        }
        removeExitKill();
        fs.rmSync(tmp, { recursive: true, force: true });
        const logText = (() => {
            try {
                return fs.readFileSync(logPath, 'utf8');
            } catch (_) {
                return '';
            }
        })();
        if (spawnError)
            throw new SetupError(`could not run ${bin}: ${spawnError.message}`);
        if (diedEarly)
            throw new TestFailure(`medrelay died during the test (code ${diedEarly.code}, signal ${diedEarly.signal})`);
        if (killedHard)
            throw new TestFailure(`medrelay did not exit within ${graceMs} ms of SIGTERM (killed)`);
        const san = SANITIZER_PATTERNS.find((re) => re.test(logText));
        if (san)
            throw new TestFailure(`medrelay's log contains a sanitizer report (${san})`);
        const { code, signal } = exited;
        if (!(code === 0 || signal === 'SIGTERM'))
            throw new TestFailure(`medrelay stopped badly after SIGTERM: code ${code}, signal ${signal}`);
        log(`medrelay stopped (code ${code}, signal ${signal})`);
        return exited;
    };

    /* Wait for readiness, or for the process to die trying. */
    const deadline = Date.now() + readyTimeoutMs;
    let lastErr = '';
    for (;;) {
        if (exited) {
            const why = spawnError ? spawnError.message : `code ${exited.code}, signal ${exited.signal}`;
            srv.stopped = true;
            removeExitKill();
            const tail = srv.tail(40);
            fs.rmSync(tmp, { recursive: true, force: true });
            throw new SetupError(`medrelay exited during start-up (${why}); last lines of ${logPath}:\n${tail}`);
        }
        try {
            const r = await httpGet(`${url}/healthz`, 1000);
            if (r.status === 200)
                break;
            lastErr = `status ${r.status}`;
        } catch (e) {
            lastErr = e.message;
        }
        if (Date.now() > deadline) {
            const tail = srv.tail(40);
            try {
                await srv.stop({ graceMs: 2000 });
            } catch (_) { /* reported below */ }
            throw new SetupError(`medrelay did not answer GET /healthz with 200 within ${readyTimeoutMs} ms ` +
                                 `(last: ${lastErr}); last lines of ${logPath}:\n${tail}`);
        }
        await sleep(100);
    }
    log(`medrelay ready at ${url} (pid ${proc.pid})`);
    return srv;
}

module.exports = { startServer, freePort, httpGet, tailFile };
