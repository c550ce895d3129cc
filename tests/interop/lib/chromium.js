'use strict';
/*
 * Debian's Chromium driven by playwright-core (never `npx playwright
 * install`: it downloads a browser, which fails on these machines).
 *
 *   const browser = await launchChromium({ artifactDir });
 *   const page = await browser.newPage('viewer');   // console → viewer.console.log
 *   await browser.close();
 *
 * Flags are those of /work/shared/TESTING.md. playwright-core adds
 * --headless, --no-sandbox and --user-data-dir itself; we pass a fresh,
 * empty user-data-dir (removed on close) through launchPersistentContext,
 * because launch() refuses --user-data-dir in args.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { SetupError, log } = require('./harness');

const CHROMIUM = process.env.MEDRELAY_CHROMIUM || '/usr/lib/chromium/chromium';

/* TESTING.md's flags, minus --user-data-dir (given separately). */
const CHROMIUM_FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection',
];

/* playwright-core, checked to be the version package.json pins (a stale install fails clearly). */
function loadPlaywright() {
    const wanted = require('../package.json').dependencies['playwright-core'];
    let installed;
    try {
        installed = require('playwright-core/package.json').version;
    } catch (e) {
        throw new SetupError('playwright-core is not installed; run `npm ci --prefix tests/interop` ' +
                             `(${e.code || e.message})`);
    }
    if (installed !== wanted)
        throw new SetupError(`playwright-core ${installed} is installed but package.json pins ${wanted}; ` +
                             'run `npm ci --prefix tests/interop`');
    return require('playwright-core');
}

/*
 * Options: artifactDir (console logs go there), extraArgs (more flags, e.g.
 * --use-file-for-fake-video-capture=...). Returns { context, version,
 * newPage(name), consoleTail(name, n), close() }.
 */
async function launchChromium({ artifactDir, extraArgs = [] } = {}) {
    if (!fs.existsSync(CHROMIUM))
        throw new SetupError(`${CHROMIUM} not found: apt-get install chromium (or set MEDRELAY_CHROMIUM)`);
    const { chromium } = loadPlaywright();
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medrelay-chromium-'));
    let context;
    try {
        context = await chromium.launchPersistentContext(userDataDir, {
            executablePath: CHROMIUM,
            headless: true,
            args: [...CHROMIUM_FLAGS, ...extraArgs],
            viewport: { width: 800, height: 600 },
            timeout: 30000,
        });
    } catch (e) {
        fs.rmSync(userDataDir, { recursive: true, force: true });
        throw new SetupError(`could not launch ${CHROMIUM}: ${e.message}`);
    }
    const browser = context.browser();
    const version = browser ? browser.version() : '?';
    log(`chromium ${version} launched`);

    const consoles = new Map(); /* name → array of lines */
    let firstPageUsed = false;
    let closed = false;

    const api = {
        context,
        version,
        userDataDir,
        /* A new tab whose console and page errors are logged to <name>.console.log. */
        async newPage(name) {
            let page;
            const blank = context.pages()[0];
            if (!firstPageUsed && blank) {
                firstPageUsed = true;
                page = blank;
            } else {
                page = await context.newPage();
            }
            const lines = [];
            consoles.set(name, lines);
            const file = artifactDir ? path.join(artifactDir, `${name}.console.log`) : null;
            const add = (line) => {
                const s = `${new Date().toISOString()} ${line}`;
                lines.push(s);
                if (file)
                    fs.appendFileSync(file, s + '\n');
            };
            page.on('console', (m) => add(`[${m.type()}] ${m.text()}`));
            page.on('pageerror', (e) => add(`[pageerror] ${e.message}`));
            page.on('requestfailed', (r) => add(`[requestfailed] ${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`));
            page.on('crash', () => add('[crash] the page crashed'));
            return page;
        },
        consoleTail(name, n = 30) {
            const lines = consoles.get(name) || [];
            return lines.slice(-n).join('\n');
        },
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
    return api;
}

module.exports = { launchChromium, CHROMIUM, CHROMIUM_FLAGS };
