'use strict';
/*
 * Small helpers run inside a test-bed namespace (netbed.js spawns them with
 * `ip netns exec`), because a namespace's addresses are reachable only from
 * inside the bed:
 *
 *   node netbed_child.js serve HOST [ROOT]
 *       serves ROOT (default tests/interop/pages) on HOST:<free port> with
 *       lib/static.js and prints {"url": ...} on one line
 *   node netbed_child.js forward SOCKET HOST PORT
 *       listens on the Unix socket SOCKET (a path: visible from every
 *       network namespace) and connects each client to HOST:PORT, so the
 *       test in the root namespace can speak HTTP to medrelay; prints
 *       {"socket": ...} when ready
 *
 * Either runs until killed, and exits when its stdin closes (the test died).
 */
const fs = require('fs');
const net = require('net');
const { startStaticServer } = require('./static');

async function serve(host, root) {
    const web = await startStaticServer(root ? { host, root } : { host });
    console.log(JSON.stringify({ url: web.url }));
}

function forward(socket, host, port) {
    fs.rmSync(socket, { force: true });
    const server = net.createServer((client) => {
        const upstream = net.connect({ host, port: Number(port) });
        client.pipe(upstream);
        upstream.pipe(client);
        const end = () => {
            client.destroy();
            upstream.destroy();
        };
        client.on('error', end);
        upstream.on('error', end);
        client.on('close', end);
        upstream.on('close', end);
    });
    server.listen(socket, () => console.log(JSON.stringify({ socket })));
}

const [mode, ...args] = process.argv.slice(2);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
if (mode === 'serve' && args.length >= 1) {
    serve(args[0], args[1]).catch((e) => {
        console.error(e.message);
        process.exit(1);
    });
} else if (mode === 'forward' && args.length === 3) {
    forward(args[0], args[1], args[2]);
} else {
    console.error('usage: netbed_child.js serve HOST [ROOT] | forward SOCKET HOST PORT');
    process.exit(2);
}
