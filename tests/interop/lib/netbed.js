'use strict';
/*
 * An impaired-network test bed: network namespaces for a server, a clinic
 * and an expert, joined through a Linux bridge in a namespace of its own,
 * with the impairments of /work/shared/TESTING.md (this kernel has no
 * netem): random loss with nftables `numgen` on a veth's netdev egress
 * hook, a rate cap with `tbf`, and an outage (a drop rule added, then
 * deleted).
 *
 *   const bed = await netbed.create({ log });
 *   bed.addr.server                 '10.87.0.1' (clinic .2, expert .3)
 *   bed.ns.clinic                   'mr<pid>-cli' (server -srv, expert -exp, bridge -br)
 *   await bed.setLoss('clinic-up', 5)      5 % of UDP the clinic sends
 *   await bed.setLoss('expert-down', 5)    5 % of UDP sent towards the expert
 *   await bed.setRate('clinic-up', '1mbit')
 *   const at = await bed.setOutage('clinic-up', true)   ms since the epoch
 *   await bed.clear()                      every impairment off
 *   await bed.setFilter('clinic-up', ['meta l4proto udp drop'])   a firewall's rules (nft)
 *   bed.spawn(ns, cmd, args)               a child inside a namespace
 *   await bed.destroy()                    idempotent; also runs on exit
 *
 * Why this shape:
 *  - Loss sits on the egress hook of the device that sends, so the sender
 *    never sees it. A drop in the output hook fails sendto() with EPERM and
 *    Chromium just sends again: the loss would not reach the network.
 *  - The bridge lives in a namespace of its own, so the bed adds nothing to
 *    the root namespace (no address, route or firewall interaction) and the
 *    same private addresses can be used by several runs at once.
 *  - Each leaf namespace has a default route on its veth: Chromium without a
 *    camera permission gathers host candidates only on the interface of the
 *    default route. Nothing is reachable past the bridge, so no packet can
 *    leave the bed.
 *  - Loss drops only UDP (the media); HTTP signalling over TCP is left
 *    alone, so a test measures media repair, not request retries. An outage
 *    drops every IPv4 packet but not ARP, so recovery times are those of the
 *    media stacks and not of neighbour resolution.
 *
 * Namespace names carry the test's pid: a run that was SIGKILLed (a CTest
 * timeout) leaves namespaces whose pid is gone, and the next create()
 * deletes them. Needs root, iproute2 and nftables (scripts/deps.sh test).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFile, execFileSync, spawn } = require('child_process');
const { SetupError, onExitKill } = require('./harness');

const IP = fs.existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : 'ip';
const SUBNET = '10.87.0';
const ROLES = { server: 'srv', clinic: 'cli', expert: 'exp' };
const HOST_NUM = { server: 1, clinic: 2, expert: 3 };
const STALE_RE = /^mr(\d+)-(br|srv|cli|exp)$/;

/*
 * Links by name: where the packets of that direction leave a device. "up" is
 * what a host sends (the egress of its own veth, inside its namespace);
 * "down" is what it receives (the egress of the bridge port towards it).
 */
function linkTable(ns) {
    const links = {};
    for (const role of Object.keys(ROLES)) {
        links[`${role}-up`] = { ns: ns[role], dev: 'eth0' };
        links[`${role}-down`] = { ns: ns.bridge, dev: `b-${ROLES[role]}` };
    }
    return links;
}

/* Runs a command; resolves stdout, rejects with the command and its stderr. */
function run(cmd, args, { timeoutMs = 10000 } = {}) {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
            if (err)
                return reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
            resolve(String(stdout));
        });
    });
}

function runSync(cmd, args) {
    try {
        return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 }).toString();
    } catch (_) {
        return '';
    }
}

function pidAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return e.code === 'EPERM';
    }
}

/* Kills what still runs in a namespace (only ours: we made it), then deletes it. */
function deleteNamespaceSync(name) {
    for (const pid of runSync(IP, ['netns', 'pids', name]).split(/\s+/).filter(Boolean)) {
        try {
            process.kill(Number(pid), 'SIGKILL');
        } catch (_) { /* already gone */ }
    }
    runSync(IP, ['netns', 'delete', name]);
}

/* Namespaces (and scratch folders) of earlier runs whose process is gone (SIGKILLed by a timeout). */
function sweepStale(log) {
    const stale = (pid) => pid !== process.pid && !pidAlive(pid);
    for (const line of runSync(IP, ['netns', 'list']).split('\n')) {
        const name = line.split(' ')[0];
        const m = STALE_RE.exec(name);
        if (m && stale(Number(m[1]))) {
            log(`netbed: deleting ${name}, left by a run that is gone`);
            deleteNamespaceSync(name);
        }
    }
    for (const entry of fs.readdirSync(os.tmpdir())) {
        const m = /^mr(\d+)-[A-Za-z0-9]{6}$/.exec(entry);
        if (m && stale(Number(m[1])))
            fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
    }
}

function checkTools() {
    if (typeof process.getuid === 'function' && process.getuid() !== 0)
        throw new SetupError('the impaired-network test bed needs root (network namespaces, nftables, tc)');
    for (const [tool, pkg] of [['nft', 'nftables'], ['tc', 'iproute2'], [IP, 'iproute2']]) {
        try {
            execFileSync(tool, ['-V'], { stdio: 'ignore' });
        } catch (e) {
            if (e.code === 'ENOENT')
                throw new SetupError(`${tool} is missing: run scripts/deps.sh test (installs ${pkg})`);
        }
    }
}

/* The nft script that replaces one device's table with its current rules. */
function nftScript(table, dev, { lossPct, outage }) {
    const rules = [];
    if (outage)
        rules.push('meta protocol ip drop');
    if (lossPct > 0)
        rules.push(`meta l4proto udp numgen random mod 100 < ${lossPct} drop`);
    /* "add" then "delete" makes the delete valid whether or not the table exists. */
    let s = `add table netdev ${table}\ndelete table netdev ${table}\n`;
    if (rules.length) {
        s += `table netdev ${table} {\n  chain eg {\n` +
             `    type filter hook egress device "${dev}" priority 0; policy accept;\n` +
             rules.map((r) => `    ${r}\n`).join('') + '  }\n}\n';
    }
    return s;
}

class NetBed {
    constructor({ prefix, log }) {
        this.log = log;
        this.ns = {
            bridge: `${prefix}-br`,
            server: `${prefix}-${ROLES.server}`,
            clinic: `${prefix}-${ROLES.clinic}`,
            expert: `${prefix}-${ROLES.expert}`,
        };
        this.addr = {};
        for (const role of Object.keys(ROLES))
            this.addr[role] = `${SUBNET}.${HOST_NUM[role]}`;
        this.links = linkTable(this.ns);
        this.state = {}; /* link name → { lossPct, outage, rate } */
        this.children = new Set();
        this.tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
        this.destroyed = false;
        this.removeExitKill = onExitKill(() => this.destroySync());
    }

    async ip(args) {
        return run(IP, args);
    }

    /* Runs cmd inside namespace ns and resolves its stdout. */
    async exec(ns, cmd, args = [], opts) {
        return run(IP, ['netns', 'exec', ns, cmd, ...args], opts);
    }

    async build() {
        for (const name of Object.values(this.ns))
            await this.ip(['netns', 'add', name]);
        const br = this.ns.bridge;
        await this.ip(['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
        await this.ip(['-n', br, 'link', 'set', 'br0', 'up']);
        for (const role of Object.keys(ROLES)) {
            const ns = this.ns[role];
            const port = `b-${ROLES[role]}`;
            /* IPv4 only: no duplicate-address detection or IPv6 candidates. */
            await this.exec(ns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1',
                                           'net.ipv6.conf.default.disable_ipv6=1']);
            await this.ip(['-n', br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
            await this.ip(['-n', br, 'link', 'set', port, 'master', 'br0', 'up']);
            await this.ip(['-n', ns, 'addr', 'add', `${this.addr[role]}/24`, 'dev', 'eth0']);
            await this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
            await this.ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
            await this.ip(['-n', ns, 'route', 'add', 'default', 'dev', 'eth0']);
        }
        this.log(`netbed: namespaces ${Object.values(this.ns).join(', ')}; server ${this.addr.server}, ` +
                 `clinic ${this.addr.clinic}, expert ${this.addr.expert} on ${SUBNET}.0/24`);
    }

    link(name) {
        const l = this.links[name];
        if (!l)
            throw new Error(`netbed: no link "${name}" (known: ${Object.keys(this.links).join(', ')})`);
        if (!this.state[name])
            this.state[name] = { lossPct: 0, outage: false, rate: null };
        return l;
    }

    async applyNft(name) {
        const l = this.link(name);
        const table = `mrimp_${l.dev.replace(/[^A-Za-z0-9]/g, '_')}`;
        const script = nftScript(table, l.dev, this.state[name]);
        const file = path.join(this.tmpDir, `${name}.nft`);
        fs.writeFileSync(file, script);
        await this.exec(l.ns, 'nft', ['-f', file]);
    }

    /* Random loss of pct % (0-100, integer) of the UDP packets on a link; 0 removes it. */
    async setLoss(name, pct) {
        if (!Number.isInteger(pct) || pct < 0 || pct > 100)
            throw new Error(`netbed: loss must be an integer percentage, not ${pct}`);
        this.link(name);
        this.state[name].lossPct = pct;
        await this.applyNft(name);
        this.log(`netbed: ${name} loss ${pct} %`);
    }

    /*
     * Every IPv4 packet on the link dropped (on) or not (off). Resolves the
     * time (ms since the epoch) just before the rule changed, so a recovery
     * time measured from it errs on the long side.
     */
    async setOutage(name, on) {
        this.link(name);
        this.state[name].outage = !!on;
        const before = Date.now();
        await this.applyNft(name);
        this.log(`netbed: ${name} outage ${on ? 'on' : 'off'} (nft took ${Date.now() - before} ms)`);
        return before;
    }

    /* A tbf rate cap such as '1mbit' on the link's device; null removes it. */
    async setRate(name, rate, { burst = '32kb', latency = '50ms' } = {}) {
        const l = this.link(name);
        if (rate)
            await this.exec(l.ns, 'tc', ['qdisc', 'replace', 'dev', l.dev, 'root', 'tbf', 'rate', rate,
                                         'burst', burst, 'latency', latency]);
        else if (this.state[name].rate)
            await this.exec(l.ns, 'tc', ['qdisc', 'del', 'dev', l.dev, 'root']);
        this.state[name].rate = rate || null;
        this.log(`netbed: ${name} rate ${rate ? `${rate} (tbf burst ${burst} latency ${latency})` : 'uncapped'}`);
    }

    /*
     * A firewall on a link: nft rules (statements of a netdev egress chain,
     * e.g. 'meta l4proto udp drop') in a table of their own, kept through
     * clear(); [] removes them. Packets are dropped silently, as by a
     * hospital firewall, never refused to the sender.
     */
    async setFilter(name, rules) {
        const l = this.link(name);
        const table = `mrblk_${l.dev.replace(/[^A-Za-z0-9]/g, '_')}`;
        let script = `add table netdev ${table}\ndelete table netdev ${table}\n`;
        if (rules.length) {
            script += `table netdev ${table} {\n  chain eg {\n` +
                      `    type filter hook egress device "${l.dev}" priority -10; policy accept;\n` +
                      rules.map((r) => `    ${r}\n`).join('') + '  }\n}\n';
        }
        const file = path.join(this.tmpDir, `${name}.filter.nft`);
        fs.writeFileSync(file, script);
        await this.exec(l.ns, 'nft', ['-f', file]);
        this.state[name].filter = rules.slice();
        this.log(`netbed: ${name} filter ${rules.length ? rules.join('; ') : 'off'}`);
    }

    /* Every impairment off. */
    async clear() {
        for (const name of Object.keys(this.state)) {
            const s = this.state[name];
            if (s.lossPct || s.outage) {
                s.lossPct = 0;
                s.outage = false;
                await this.applyNft(name);
            }
            if (s.rate)
                await this.setRate(name, null);
        }
    }

    /* What is on each link now, e.g. { 'clinic-up': 'loss 5 %' }, for logs. */
    describe() {
        const out = {};
        for (const [name, s] of Object.entries(this.state)) {
            const parts = [];
            if (s.lossPct)
                parts.push(`loss ${s.lossPct} %`);
            if (s.outage)
                parts.push('outage');
            if (s.rate)
                parts.push(`rate ${s.rate}`);
            if (s.filter && s.filter.length)
                parts.push(`filter ${s.filter.join('; ')}`);
            if (parts.length)
                out[name] = parts.join(', ');
        }
        return out;
    }

    /* The installed rules and qdiscs, for diagnostics. */
    async dump() {
        const out = [];
        for (const [name, l] of Object.entries(this.links)) {
            if (!this.state[name])
                continue;
            const rules = await this.exec(l.ns, 'nft', ['list', 'ruleset']).catch((e) => e.message);
            const qd = await this.exec(l.ns, 'tc', ['-s', 'qdisc', 'show', 'dev', l.dev]).catch((e) => e.message);
            out.push(`--- ${name} (${l.ns} ${l.dev})\n${rules.trim()}\n${qd.trim()}`);
        }
        return out.join('\n');
    }

    /*
     * Spawns cmd inside namespace ns (through `ip netns exec`, which execs:
     * the child's pid is the command's). With setpriv the child gets SIGKILL
     * when the test dies. Killed at destroy() if still running.
     */
    spawn(ns, cmd, args = [], opts = {}) {
        let file = IP;
        let argv = ['netns', 'exec', ns, cmd, ...args];
        if (fs.existsSync('/usr/bin/setpriv')) {
            argv = ['--pdeathsig', 'KILL', '--', IP, ...argv];
            file = '/usr/bin/setpriv';
        }
        const child = spawn(file, argv, opts);
        this.children.add(child);
        child.on('exit', () => this.children.delete(child));
        return child;
    }

    /* A script that runs `cmd` in namespace ns, for tools that take an executable path (playwright). */
    wrapper(ns, cmd) {
        const file = path.join(this.tmpDir, `${ns}-${path.basename(cmd)}.sh`);
        fs.writeFileSync(file, `#!/bin/sh\nexec ${IP} netns exec ${ns} ${cmd} "$@"\n`, { mode: 0o755 });
        return file;
    }

    async destroy() {
        this.destroySync();
    }

    /* Synchronous, so it also runs from process 'exit'. */
    destroySync() {
        if (this.destroyed)
            return;
        this.destroyed = true;
        for (const child of this.children) {
            try {
                child.kill('SIGKILL');
            } catch (_) { /* gone */ }
        }
        for (const name of [this.ns.clinic, this.ns.expert, this.ns.server, this.ns.bridge])
            deleteNamespaceSync(name);
        fs.rmSync(this.tmpDir, { recursive: true, force: true });
        this.removeExitKill();
        const left = runSync(IP, ['netns', 'list']).split('\n')
            .filter((l) => Object.values(this.ns).includes(l.split(' ')[0]));
        if (left.length)
            console.error(`netbed: namespaces still there after teardown: ${left.join(', ')}`);
        else if (this.log)
            this.log('netbed: namespaces deleted');
    }
}

/*
 * Builds the bed; on any failure deletes what was made and throws. Options:
 * log (a function), prefix (default mr<pid>).
 */
async function create({ log = () => {}, prefix = `mr${process.pid}` } = {}) {
    checkTools();
    sweepStale(log);
    const bed = new NetBed({ prefix, log });
    try {
        await bed.build();
    } catch (e) {
        bed.destroySync();
        throw new SetupError(`netbed: could not build the namespaces: ${e.message}`);
    }
    return bed;
}

module.exports = { create, SUBNET, nftScript };
