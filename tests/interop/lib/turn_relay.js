'use strict';
/*
 * medrelay in the bed's server namespace with a [turn] section (issue 16):
 * netbed_stack.js's relayIn() with coturn's secret in a [turn] secret_file.
 *
 *   const srv = await relayWithTurn(t, bed, { urls: [...], turnSecret, ttl });
 *   srv.url, srv.token({ room, role, name, ttl }), srv.request(method, path, headers),
 *   srv.logText(), await srv.stop()
 */
const fs = require('fs');
const path = require('path');
const { relayIn } = require('./netbed_stack');

function turnSection(tmp, { urls, turnSecret, ttl }) {
    const secretFile = path.join(tmp, 'turn-secret');
    fs.writeFileSync(secretFile, `${turnSecret}\n`, { mode: 0o600 });
    return `[turn]\nurls = ${urls.join(', ')}\nsecret_file = ${secretFile}\nttl = ${ttl}\n`;
}

async function relayWithTurn(t, bed, { urls, turnSecret, ttl = 3600, readyTimeoutMs = 15000 }) {
    const srv = await relayIn(t, bed, {
        readyTimeoutMs, extraConfig: (tmp) => turnSection(tmp, { urls, turnSecret, ttl }),
    });
    t.log(`medrelay has [turn] ${urls.join(', ')}`);
    return srv;
}

module.exports = { relayWithTurn };
