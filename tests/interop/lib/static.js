'use strict';
/*
 * A tiny static file server for tests/interop/pages/ on its own port, so
 * the pages' origin (http://127.0.0.1:<this port>) differs from medrelay's
 * and every WHIP/WHEP request from a page is a CORS request with a
 * preflight (Authorization and Content-Type: application/sdp are not
 * "simple" headers).
 */
const fs = require('fs');
const path = require('path');
const http = require('http');
const { INTEROP_DIR } = require('./harness');

const TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json',
    '.png': 'image/png',
    '.svg': 'image/svg+xml',
    '.ico': 'image/x-icon',
};

/*
 * Resolves { url, port, close() }; root defaults to tests/interop/pages.
 * mounts maps URL prefixes to other folders, e.g. { '/vendor/whip-whep/':
 * <node_modules/whip-whep> }, so a page can load a library's browser build
 * from the same origin (no internet at run time).
 */
function startStaticServer({ root = path.join(INTEROP_DIR, 'pages'), host = '127.0.0.1', mounts = {} } = {}) {
    const mountList = Object.entries(mounts).map(([prefix, dir]) => [prefix, path.resolve(dir)]);
    const server = http.createServer((req, res) => {
        const send = (status, body, type = 'text/plain; charset=utf-8') => {
            res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
            res.end(body);
        };
        if (req.method !== 'GET' && req.method !== 'HEAD')
            return send(405, 'method not allowed\n');
        let pathname;
        try {
            pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
        } catch (_) {
            return send(400, 'bad path\n');
        }
        if (pathname === '/')
            pathname = '/index.html';
        let rootAbs = path.resolve(root);
        const mount = mountList.find(([prefix]) => pathname.startsWith(prefix));
        if (mount) {
            rootAbs = mount[1];
            pathname = '/' + pathname.slice(mount[0].length);
        }
        const file = path.resolve(rootAbs, '.' + pathname);
        if (file !== rootAbs && !file.startsWith(rootAbs + path.sep))
            return send(403, 'forbidden\n');
        fs.readFile(file, (err, data) => {
            if (err)
                return send(404, 'not found\n');
            send(200, req.method === 'HEAD' ? undefined : data,
                 TYPES[path.extname(file)] || 'application/octet-stream');
        });
    });
    return new Promise((resolve, reject) => {
        server.on('error', reject);
        server.listen(0, host, () => {
            const { port } = server.address();
            resolve({
                url: `http://${host}:${port}`,
                port,
                close: () => new Promise((r) => {
                    server.closeAllConnections();
                    server.close(() => r());
                }),
            });
        });
    });
}

module.exports = { startStaticServer };
