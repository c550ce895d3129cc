'use strict';
/*
 * The pieces every browser test starts, each registered for clean-up on
 * every exit path of the test (see harness.js):
 *
 *   const srv = await serverFor(t);      // medrelay (server.js), log on failure
 *   const web = await webFor(t);         // the pages, on another origin
 *   const browser = await chromiumFor(t);
 */
const { serverBinary } = require('./harness');
const { startServer } = require('./server');
const { launchChromium } = require('./chromium');
const { startStaticServer } = require('./static');

async function serverFor(t, opts = {}) {
    const srv = await startServer({ bin: serverBinary(), artifactDir: t.dir, ...opts });
    t.onCleanup('medrelay', () => srv.stop().catch((e) => console.error(`medrelay: ${e.message}`)));
    t.addFailureInfo(() => srv.describe());
    return srv;
}

async function webFor(t, opts = {}) {
    const web = await startStaticServer(opts);
    t.onCleanup('static server', () => web.close());
    return web;
}

async function chromiumFor(t, opts = {}) {
    const browser = await launchChromium({ artifactDir: t.dir, ...opts });
    t.onCleanup('chromium', () => browser.close());
    return browser;
}

module.exports = { serverFor, webFor, chromiumFor };
