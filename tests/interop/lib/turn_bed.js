'use strict';
/*
 * TURN on the impaired-network bed (netbed.js, issue 16): a fourth
 * namespace for coturn on the bed's bridge, coturn's own `turnserver`
 * started there with a config file of the test's, medrelay with a [turn]
 * section, and a clinic firewall that lets the clinic reach only coturn's
 * TCP port and medrelay's HTTP port.
 *
 *   const bed = await bedFor(t);                            // netbed_stack.js
 *   const turn = await turnNamespace(t, bed);               // 'mr<pid>-trn', 10.87.0.4
 *   const coturn = await startCoturn(t, bed, turn, { secret });
 *   const srv = await relayWithTurn(t, bed, { urls, secret });
 *   await clinicOnlyTurnTcp(t, bed, { turn, coturn });      // nft in the clinic namespace
 *
 * coturn is configured as docs/turn.md recommends: use-auth-secret with a
 * static-auth-secret, a realm, private peer addresses denied except
 * medrelay's, no multicast peers, no CLI; here without TLS (plain TCP and
 * UDP on 3478) and with its verbose log in the test's artifacts. Its
 * system service is never used (scripts/deps.sh masks it).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const h = require('./harness');
const { tailFile } = require('./server');

const IP = fs.existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : 'ip';
const TURNSERVER = '/usr/bin/turnserver';
const TURN_PORT = 3478;
const RELAY_PORT = 8080;
const TURN_HOST = 4; /* 10.87.0.4: server .1, clinic .2, expert .3 */

function runSync(args) {
    try {
        return execFileSync(IP, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 }).toString();
    } catch (_) {
        return '';
    }
}

function deleteNamespace(name) {
    for (const pid of runSync(['netns', 'pids', name]).split(/\s+/).filter(Boolean)) {
        try {
            process.kill(Number(pid), 'SIGKILL');
        } catch (_) { /* gone */ }
    }
    runSync(['netns', 'delete', name]);
}

/* TURN namespaces of runs that were SIGKILLed (their pid is gone). */
function sweepStale() {
    for (const line of runSync(['netns', 'list']).split('\n')) {
        const m = /^mr(\d+)-trn$/.exec(line.split(' ')[0]);
        if (m && Number(m[1]) !== process.pid) {
            try {
                process.kill(Number(m[1]), 0);
            } catch (e) {
                if (e.code === 'ESRCH')
                    deleteNamespace(m[0]);
            }
        }
    }
}

/* A namespace for coturn on the bed's bridge; deleted at clean-up (before the bed). */
async function turnNamespace(t, bed) {
    sweepStale();
    const ns = bed.ns.bridge.replace(/-br$/, '-trn');
    const addr = bed.addr.server.replace(/\.\d+$/, `.${TURN_HOST}`);
    const remove = () => deleteNamespace(ns);
    const unhook = h.onExitKill(remove);
    t.onCleanup('turn namespace', () => {
        remove();
        unhook();
    });
    try {
        await bed.ip(['netns', 'add', ns]);
        await bed.exec(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1',
                                      'net.ipv6.conf.default.disable_ipv6=1']);
        await bed.ip(['-n', bed.ns.bridge, 'link', 'add', 'b-trn', 'type', 'veth', 'peer', 'name', 'eth0',
                      'netns', ns]);
        await bed.ip(['-n', bed.ns.bridge, 'link', 'set', 'b-trn', 'master', 'br0', 'up']);
        await bed.ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
        await bed.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        await bed.ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    } catch (e) {
        throw new h.SetupError(`could not build the TURN namespace ${ns}: ${e.message}`);
    }
    t.log(`turn namespace ${ns}, coturn at ${addr}`);
    return { ns, addr };
}

/* coturn's config for the bed, in the style docs/turn.md recommends. */
function coturnConfig({ addr, peer, secret, realm, logFile, dir }) {
    return [
        '# Written by tests/interop/lib/turn_bed.js for one test run (see docs/turn.md).',
        `listening-ip=${addr}`, `relay-ip=${addr}`, `listening-port=${TURN_PORT}`,
        'min-port=49160', 'max-port=49400',
        'use-auth-secret', `static-auth-secret=${secret}`, `realm=${realm}`, 'fingerprint',
        /* Private peers denied, medrelay's address allowed (allowed-peer-ip wins). */
        'no-multicast-peers', /* loopback peers: refused unless allow-loopback-peers */
        'denied-peer-ip=10.0.0.0-10.255.255.255', 'denied-peer-ip=172.16.0.0-172.31.255.255',
        'denied-peer-ip=192.168.0.0-192.168.255.255', `allowed-peer-ip=${peer}`,
        'no-tls', 'no-dtls', 'no-cli', 'no-rfc5780', 'no-stun-backward-compatibility',
        'verbose', 'simple-log', `log-file=${logFile}`,
        `userdb=${path.join(dir, 'turndb')}`, `pidfile=${path.join(dir, 'turnserver.pid')}`, '',
    ].join('\n');
}

/*
 * turnserver in the TURN namespace, on <addr>:3478 (UDP and TCP), its log
 * in <artifacts>/turnserver.log. Resolves { addr, port, realm, logPath,
 * log() (the text so far) } once it listens on TCP.
 */
async function startCoturn(t, bed, turn, { secret, realm = 'medrelay.test', timeoutMs = 10000 }) {
    if (!fs.existsSync(TURNSERVER))
        throw new h.SetupError(`${TURNSERVER} is missing: run scripts/deps.sh test (installs coturn)`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medrelay-coturn-'));
    const logPath = path.join(t.dir, 'turnserver.log');
    const conf = path.join(dir, 'turnserver.conf');
    fs.writeFileSync(conf, coturnConfig({ addr: turn.addr, peer: bed.addr.server, secret, realm,
                                          logFile: logPath, dir }), { mode: 0o600 });
    const out = fs.openSync(path.join(t.dir, 'turnserver.stdout.log'), 'w');
    const proc = bed.spawn(turn.ns, TURNSERVER, ['-c', conf], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    t.onCleanup('coturn', () => {
        proc.kill('SIGTERM');
        fs.rmSync(dir, { recursive: true, force: true });
    });
    const api = { addr: turn.addr, port: TURN_PORT, realm, logPath,
                  log: () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '') };
    t.addFailureInfo(() => `--- coturn log (last lines of ${logPath}):\n${tailFile(logPath, 30)}`);
    const listening = async () => proc.exitCode !== null ||
        (await bed.exec(turn.ns, 'ss', ['-ltn'])).includes(`${turn.addr}:${TURN_PORT}`);
    await h.waitFor('coturn to listen on TCP', listening, { timeoutMs, intervalMs: 100 }).catch((e) => {
        throw new h.SetupError(`${e.message}\n${tailFile(logPath, 20)}`);
    });
    if (proc.exitCode !== null)
        throw new h.SetupError(`turnserver exited (${proc.exitCode}):\n${tailFile(logPath, 20)}`);
    t.log(`coturn ${execFileSync(TURNSERVER, ['--version']).toString().trim()} listening on ` +
          `${turn.addr}:${TURN_PORT} (udp, tcp), realm ${realm}`);
    return api;
}

/*
 * The clinic behind a strict firewall: in its namespace, every UDP packet
 * and every TCP connection is dropped except TCP to coturn's port and to
 * medrelay's HTTP port (signalling); so no UDP at all, and no ICE-TCP to
 * medrelay's media ports. On the output hook: the clinic's sockets see
 * EPERM, as behind a host firewall. Counters tell what was tried.
 * Resolves { counters() } ({ turnTcp, http, dropped } packet counts).
 */
async function clinicOnlyTurnTcp(t, bed, { coturn, relayPort = RELAY_PORT }) {
    const script = [
        'table inet mrturn {',
        '  chain out {',
        '    type filter hook output priority 0; policy accept;',
        '    oifname "lo" accept',
        `    ip daddr ${coturn.addr} tcp dport ${coturn.port} counter accept comment "turn-tcp"`,
        `    ip daddr ${bed.addr.server} tcp dport ${relayPort} counter accept comment "http"`,
        '    meta l4proto { udp, tcp } counter drop comment "dropped"',
        '  }',
        '}', ''].join('\n');
    const file = path.join(bed.tmpDir, 'clinic-turn-only.nft');
    fs.writeFileSync(file, script);
    await bed.exec(bed.ns.clinic, 'nft', ['-f', file]);
    t.log(`clinic firewall: only TCP to coturn ${coturn.addr}:${coturn.port} and medrelay ` +
          `${bed.addr.server}:${relayPort}; all UDP and other TCP dropped`);
    const counters = async () => {
        const text = await bed.exec(bed.ns.clinic, 'nft', ['list', 'table', 'inet', 'mrturn']);
        const out = {};
        for (const m of text.matchAll(/packets (\d+) bytes \d+ (?:accept|drop) comment "([\w-]+)"/g))
            out[m[2]] = Number(m[1]);
        return { turnTcp: out['turn-tcp'], http: out.http, dropped: out.dropped };
    };
    t.addFailureInfo(async () => `--- clinic firewall counters: ${JSON.stringify(await counters())}`);
    return { counters };
}

module.exports = { turnNamespace, startCoturn, clinicOnlyTurnTcp, coturnConfig, TURN_PORT, RELAY_PORT };
