'use strict';
/*
 * The skeleton every interop test runs in: a cleanup stack that runs on
 * every exit path (success, failure, exception, signal, watchdog), a
 * global watchdog, an artifact folder per test, and small assertion and
 * polling helpers.
 *
 *   const h = require('./lib/harness');
 *   h.main('my_test', async (t) => { ... t.onCleanup(...) ... }, { watchdogMs: 90000 });
 *
 * A test passes when its function resolves; anything thrown fails it with
 * the error's message (and, for TestFailure, without a stack trace).
 * Exit codes: 0 pass, 1 fail, 2 set-up problem (missing binary, ...),
 * 3 watchdog.
 */
const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const INTEROP_DIR = path.resolve(__dirname, '..');

/* A failed expectation: reported as a message, no stack trace. */
class TestFailure extends Error {
    constructor(message) {
        super(message);
        this.name = 'TestFailure';
    }
}

/* A problem with the test environment rather than with the server. */
class SetupError extends Error {
    constructor(message) {
        super(message);
        this.name = 'SetupError';
    }
}

const t0 = Date.now();

function log(...args) {
    const s = ((Date.now() - t0) / 1000).toFixed(2).padStart(6);
    console.log(`[${s}s]`, ...args);
}

function assert(cond, message) {
    if (!cond)
        throw new TestFailure(message);
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/*
 * Polls fn() every intervalMs until it returns a truthy value, which is
 * returned. On timeout throws TestFailure("timed out after N ms waiting for
 * <what>"), with describeLast(lastValue) appended when given, so the failure
 * says what was seen last.
 */
async function waitFor(what, fn, { timeoutMs = 10000, intervalMs = 100, describeLast } = {}) {
    const deadline = Date.now() + timeoutMs;
    let last;
    let lastErr;
    for (;;) {
        try {
            last = await fn();
            lastErr = undefined;
            if (last)
                return last;
        } catch (e) {
            lastErr = e;
        }
        if (Date.now() >= deadline)
            break;
        await sleep(intervalMs);
    }
    let msg = `timed out after ${timeoutMs} ms waiting for ${what}`;
    if (lastErr)
        msg += `; last error: ${lastErr.message || lastErr}`;
    if (describeLast)
        msg += `; last seen: ${describeLast(last)}`;
    throw new TestFailure(msg);
}

/* tests/artifacts/interop/<name>/ (or $MEDRELAY_ARTIFACT_DIR/<name>/), emptied. */
function artifactDir(name) {
    const base = process.env.MEDRELAY_ARTIFACT_DIR || path.join(REPO_ROOT, 'tests', 'artifacts', 'interop');
    const dir = path.join(base, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

/* MEDRELAY_BIN, or build/medrelay; checked to exist and be executable. */
function serverBinary() {
    /* Absolute, because the server runs with its temporary folder as cwd. */
    const bin = path.resolve(process.env.MEDRELAY_BIN || path.join(REPO_ROOT, 'build', 'medrelay'));
    try {
        fs.accessSync(bin, fs.constants.X_OK);
    } catch (e) {
        throw new SetupError(`server binary ${bin} is missing or not executable (${e.code}); ` +
                             'set MEDRELAY_BIN to the medrelay binary (CTest does this)');
    }
    if (!fs.statSync(bin).isFile())
        throw new SetupError(`server binary ${bin} is not a file; set MEDRELAY_BIN`);
    return bin;
}

class Cleanups {
    constructor() {
        this.stack = [];
    }
    push(name, fn) {
        this.stack.push({ name, fn });
    }
    /* Runs the cleanups in reverse order, each bounded by timeoutMs. */
    async run(timeoutMs = 10000) {
        while (this.stack.length) {
            const { name, fn } = this.stack.pop();
            let timer;
            try {
                await Promise.race([
                    Promise.resolve().then(fn),
                    new Promise((_, reject) => {
                        timer = setTimeout(() => reject(new Error(`cleanup "${name}" took over ${timeoutMs} ms`)),
                                           timeoutMs);
                    }),
                ]);
            } catch (e) {
                console.error(`cleanup "${name}" failed: ${e.message || e}`);
            } finally {
                clearTimeout(timer);
            }
        }
    }
}

/* Synchronous last-resort kills for child processes, run from process 'exit'. */
const exitKills = new Set();
process.on('exit', () => {
    for (const fn of exitKills) {
        try {
            fn();
        } catch (_) { /* best effort */ }
    }
});

function onExitKill(fn) {
    exitKills.add(fn);
    return () => exitKills.delete(fn);
}

/*
 * Runs one test. fn receives t = { name, dir, onCleanup(name, fn), log,
 * addFailureInfo(fn) }; functions given to addFailureInfo are called on
 * failure to print diagnostics (server log tail, page console, ...).
 */
function main(name, fn, { watchdogMs = 90000 } = {}) {
    /* MEDRELAY_TEST_WATCHDOG_MS overrides (to try the watchdog, or for a slow machine). */
    watchdogMs = Number(process.env.MEDRELAY_TEST_WATCHDOG_MS) || watchdogMs;
    const cleanups = new Cleanups();
    const failureInfo = [];
    let finished = false;

    const finish = async (code, message) => {
        if (finished)
            return;
        finished = true;
        clearTimeout(watchdog);
        if (code !== 0) {
            console.error(`\nFAIL ${name}: ${message}`);
            for (const info of failureInfo) {
                try {
                    const text = await info();
                    if (text)
                        console.error(text);
                } catch (e) {
                    console.error(`(diagnostics failed: ${e.message})`);
                }
            }
        }
        await cleanups.run();
        if (code === 0)
            console.log(`PASS ${name}`);
        else
            console.error(`FAIL ${name}`);
        process.exit(code);
    };

    const watchdog = setTimeout(() => {
        finish(3, `watchdog: the test did not finish within ${watchdogMs} ms`);
        /* If even cleanup hangs, leave anyway; 'exit' handlers still kill children. */
        setTimeout(() => {
            console.error('cleanup did not finish; exiting');
            process.exit(3);
        }, 15000).unref();
    }, watchdogMs);

    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
        process.on(sig, () => {
            finish(1, `interrupted by ${sig}`);
        });
    }
    process.on('unhandledRejection', (e) => finish(1, `unhandled rejection: ${(e && e.stack) || e}`));
    process.on('uncaughtException', (e) => finish(1, `uncaught exception: ${(e && e.stack) || e}`));

    const dir = artifactDir(name);
    const t = {
        name,
        dir,
        log,
        onCleanup: (what, f) => cleanups.push(what, f),
        addFailureInfo: (f) => failureInfo.push(f),
    };
    log(`${name}: artifacts in ${path.relative(process.cwd(), dir) || dir}`);
    Promise.resolve()
        .then(() => fn(t))
        .then(() => finish(0),
              (e) => {
                  if (e instanceof TestFailure)
                      return finish(1, e.message);
                  if (e instanceof SetupError)
                      return finish(2, `set-up: ${e.message}`);
                  return finish(1, (e && e.stack) || String(e));
              });
}

module.exports = {
    REPO_ROOT,
    INTEROP_DIR,
    TestFailure,
    SetupError,
    log,
    assert,
    sleep,
    waitFor,
    artifactDir,
    serverBinary,
    onExitKill,
    main,
};
