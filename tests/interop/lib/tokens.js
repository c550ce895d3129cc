'use strict';
/*
 * Tokens for tests.
 *   mintToken(...)  runs `medrelay token` (the real CLI, so it is tested too)
 */
const { execFileSync } = require('child_process');
const { SetupError } = require('./harness');

const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/*
 * MEDRELAY_JWT_SECRET=<secret> <bin> token [--config F] --room R --role X
 *   [--name SUB] [--ttl S]; returns the token (stdout, trimmed).
 */
function mintToken({ bin, secret, configPath, room, role, name, ttl }) {
    const args = ['token'];
    if (configPath)
        args.push('--config', configPath);
    args.push('--room', room, '--role', role);
    if (name !== undefined)
        args.push('--name', name);
    if (ttl !== undefined)
        args.push('--ttl', String(ttl));
    let out;
    try {
        out = execFileSync(bin, args, {
            env: { ...process.env, MEDRELAY_JWT_SECRET: secret },
            timeout: 10000,
            stdio: ['ignore', 'pipe', 'pipe'],
        });
    } catch (e) {
        const stderr = e.stderr ? e.stderr.toString().trim() : '';
        throw new SetupError(`\`medrelay ${args.join(' ')}\` failed (${e.status !== undefined ? 'status ' + e.status : e.message})` +
                             (stderr ? `: ${stderr}` : ''));
    }
    const token = out.toString().trim();
    if (!JWT_RE.test(token))
        throw new SetupError(`\`medrelay ${args.join(' ')}\` printed something that is not a JWT: ${JSON.stringify(token.slice(0, 200))}`);
    return token;
}

module.exports = { mintToken, JWT_RE };
