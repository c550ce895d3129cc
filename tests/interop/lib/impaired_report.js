'use strict';
/*
 * What an impaired-network test measured and checked, printed either way:
 *
 *   const rec = recorder(t, 'impaired_chromium');
 *   rec.window('relay', '5 % clinic uplink', w);   // w from measureWindow()
 *   rec.result('outage', { resumeMs });
 *   rec.check(cond, 'what was expected, with the numbers');
 *   rec.finish();    // table on stdout, files written, throws if a check failed
 *
 * Every check is evaluated and logged before any failure is thrown, so one
 * failed target does not hide the others' numbers. Files:
 * tests/artifacts/impaired/<name>.md (the table, the checks) and
 * <name>.json (every figure), or under $MEDRELAY_ARTIFACT_DIR/impaired/.
 * If the test stops early, the rows measured so far are printed on failure.
 */
const fs = require('fs');
const path = require('path');
const h = require('./harness');
const { markdownTable } = require('./impaired_measure');

function outDir() {
    const base = process.env.MEDRELAY_ARTIFACT_DIR || path.join(h.REPO_ROOT, 'tests', 'artifacts');
    const dir = path.join(base, 'impaired');
    fs.mkdirSync(dir, { recursive: true });
    return dir;
}

/* The recording's holes against the uplink's loss over one span (impaired_measure.holesDelta). */
function holesLine(x) {
    return `uplink lost ${x.uplinkLost} video packets in ${x.seconds} s (from the relay's ${x.uplinkLostFrom}; ` +
           `its receiver reports: ${x.reportedLost} lost; its repair: ${x.recovered} recovered by retransmission + ` +
           `${x.gaveUp} given up): ` +
           `holes without repair would be ~${x.uplinkLost}; recording ${x.recordingId} ` +
           `(${x.sameRecording ? 'same recording throughout' : 'NOT the same recording throughout'}, ` +
           `${x.state}, ${x.segments} segment(s)) got ${x.holesVideo} video holes and ${x.holesAudio} audio holes ` +
           `(audio: ${x.uplinkLostAudio} lost on the uplink, ${x.redRecovered} recorded from RED redundancy)`;
}

/* One line per window for the log: the figures the targets are about. */
function windowLine(pathName, impairment, w) {
    const e = w.expert;
    const c = w.clinic;
    const stall = w.stall.stallFraction === null ? 'n/a' : `${(100 * w.stall.stallFraction).toFixed(1)} %`;
    let line = `${pathName}, ${impairment}: freeze+pause ${(100 * e.freezePauseFraction).toFixed(1)} %` +
               `${e.noFrames ? ' (no frame decoded)' : ''}, stall ${stall} (longest ${w.stall.longestStallMs} ms), ` +
               `${e.fps} frames/s (${e.frame}, worst second ${w.stall.minFramesPerSecond}), ` +
               `freezes ${e.freezeCount}, pauses ${e.pauseCount}; expert NACKs ${e.nackCount}, PLIs ${e.pliCount}, ` +
               `rtx received ${e.retransmittedPacketsReceived}, key frames ${e.keyFramesDecoded}, ` +
               `lost ${e.packetsLost} (${e.lossPct} %), ${e.recvKbps} kbit/s`;
    if (c) {
        line += `; clinic NACKs in ${c.nackCount}, PLIs in ${c.pliCount}, FIRs in ${c.firCount}, ` +
                `rtx sent ${c.retransmittedPacketsSent}, sent ${c.totalSendKbps} kbit/s (video ${c.sendKbps}, ` +
                `target ${c.targetKbps}), limited by ${c.qualityLimitationReason}, RTT ${c.rttMs} ms`;
    }
    if (w.holes)
        line += `\n  ${holesLine(w.holes)}`;
    return line;
}

function recorder(t, name) {
    const rows = [];
    const results = {};
    const checks = [];
    let meta = {};

    const rec = {
        meta(m) {
            meta = { ...meta, ...m };
        },
        window(pathName, impairment, w) {
            rows.push({ path: pathName, impairment, w });
            t.log(windowLine(pathName, impairment, w));
            if (w.relay)
                t.log(`  medrelay /metrics deltas (repair counters): ${JSON.stringify(w.relay)}`);
        },
        result(key, value) {
            results[key] = value;
        },
        check(ok, message) {
            checks.push({ ok: !!ok, message });
            t.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
        },
        table: () => markdownTable(rows),
        write() {
            const dir = outDir();
            const failed = checks.filter((c) => !c.ok);
            const counters = rows.filter((r) => r.w.relay)
                .map((r) => `- ${r.path}, ${r.impairment}: ${JSON.stringify(r.w.relay)}`);
            const md = [`# ${name}`, '', `${JSON.stringify(meta)}`, '', markdownTable(rows), '',
                        ...Object.entries(results).map(([k, v]) => `- ${k}: ${JSON.stringify(v)}`), '',
                        '## medrelay /metrics deltas (counters mentioning nack, rtx, retrans, pli, fir, keyframe)', '',
                        ...counters, '', '## Checks', '',
                        ...checks.map((c) => `- ${c.ok ? 'ok' : 'FAIL'}: ${c.message}`), ''].join('\n');
            fs.writeFileSync(path.join(dir, `${name}.md`), md);
            fs.writeFileSync(path.join(dir, `${name}.json`),
                             JSON.stringify({ test: name, meta, windows: rows, results, checks,
                                              result: failed.length ? 'fail' : 'pass' }, null, 2) + '\n');
            return dir;
        },
        /* Prints the table, writes the files, then throws if any check failed. */
        finish() {
            console.log(`\n${markdownTable(rows)}\n`);
            for (const [k, v] of Object.entries(results))
                console.log(`${k}: ${JSON.stringify(v)}`);
            const dir = rec.write();
            t.log(`table and raw figures in ${dir}/${name}.{md,json}`);
            const failed = checks.filter((c) => !c.ok);
            if (failed.length)
                throw new h.TestFailure(`${failed.length} of ${checks.length} checks failed:\n  ` +
                                        failed.map((c) => c.message).join('\n  '));
        },
    };
    t.addFailureInfo(() => {
        if (!rows.length)
            return '';
        try {
            rec.write();
        } catch (_) { /* best effort */ }
        return `--- measured so far:\n${markdownTable(rows)}`;
    });
    return rec;
}

module.exports = { recorder, holesLine };
