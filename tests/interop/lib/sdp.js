'use strict';
/*
 * Just enough SDP reading for test assertions and reports.
 *
 *   const v = mediaSection(sdp, 'video');
 *   v.payloads   [96, 97, ...] in m-line order
 *   v.codecs     [{ pt, name, clock, fmtp }] in m-line order
 *   v.ssrcs      [ssrc, ...] from a=ssrc lines (distinct, in order)
 *   v.direction  'sendonly' | 'recvonly' | ...
 */

/* The first m-section of that kind, or null. */
function mediaSection(sdp, kind) {
    const lines = String(sdp || '').split(/\r?\n/);
    let cur = null;
    for (const line of lines) {
        if (line.startsWith('m=')) {
            if (cur)
                break;
            const parts = line.slice(2).split(' ');
            if (parts[0] !== kind)
                continue;
            cur = { kind, port: Number(parts[1]), payloads: parts.slice(3).map(Number), lines: [] };
            continue;
        }
        if (cur)
            cur.lines.push(line);
    }
    if (!cur)
        return null;
    const rtpmap = new Map();
    const fmtp = new Map();
    const ssrcs = [];
    let direction = 'sendrecv';
    for (const l of cur.lines) {
        let m;
        if ((m = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)/.exec(l)))
            rtpmap.set(Number(m[1]), { name: m[2], clock: Number(m[3]) });
        else if ((m = /^a=fmtp:(\d+) (.*)$/.exec(l)))
            fmtp.set(Number(m[1]), m[2].trim());
        else if ((m = /^a=ssrc:(\d+) /.exec(l)) && !ssrcs.includes(Number(m[1])))
            ssrcs.push(Number(m[1]));
        else if ((m = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(l)))
            direction = m[1];
    }
    cur.codecs = cur.payloads.map((pt) => ({
        pt,
        name: (rtpmap.get(pt) || {}).name || '',
        clock: (rtpmap.get(pt) || {}).clock || 0,
        fmtp: fmtp.get(pt) || '',
    }));
    cur.ssrcs = ssrcs;
    cur.direction = direction;
    return cur;
}

/* The value of one fmtp parameter ('' when absent). */
function fmtpParam(fmtp, name) {
    for (const kv of String(fmtp || '').split(';')) {
        const [k, v] = kv.split('=');
        if (k && k.trim().toLowerCase() === name.toLowerCase())
            return (v || '').trim();
    }
    return '';
}

module.exports = { mediaSection, fmtpParam };
