#!/bin/bash
# Runs medrelay-bench against a freshly started build/medrelay (`make bench`).
#
#   scripts/bench.sh [--loopback] [--sweep N,N,...] [--out DIR] [-- medrelay-bench options]
#
# By default the server and the benchmark run in two network namespaces
# joined by a veth pair (server 10.77.0.1, peers 10.77.0.2), the path
# ../shared/TESTING.md prescribes for Janus, which will not use loopback; so
# both servers are measured over the same kind of link. --loopback runs both
# on 127.0.0.1 instead (no root needed). The namespaces, the server and its
# scratch folder are removed on exit, also on failure or Ctrl-C.
#
# --sweep runs one measurement per subscriber count, writes DIR/bench.csv
# and plots CPU per packet and p99 latency against N into DIR/bench.png
# (gnuplot). Other options go to medrelay-bench (see --help there), e.g.
#   scripts/bench.sh -- --subs 50 --seconds 20
#   scripts/bench.sh --sweep 10,50,100,200
# Environment: BUILD_DIR [build], BENCH_ARGS (more medrelay-bench options).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD_DIR=${BUILD_DIR:-build}
BIN=${MEDRELAY_BIN:-$BUILD_DIR/medrelay}
BENCH=$BUILD_DIR/tests/bench/medrelay-bench

mode=veth
sweep=""
out=tests/artifacts/bench
while [ $# -gt 0 ]; do
    case "$1" in
        --loopback) mode=loopback ;;
        --veth) mode=veth ;;
        --sweep) sweep=$2; shift ;;
        --out) out=$2; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) break ;;
    esac
    shift
done
for f in "$BIN" "$BENCH"; do
    [ -x "$f" ] || { echo "bench.sh: $f is missing: run make first" >&2; exit 1; }
done
mkdir -p "$out"

# --- Clean-up, whatever happens ---------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/medrelay-bench-XXXXXX")
ns_srv="mrb-srv-$$"
ns_cli="mrb-cli-$$"
server_pid=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$mode" = veth ]; then
        ip netns del "$ns_srv" 2>/dev/null || true
        ip netns del "$ns_cli" 2>/dev/null || true
    fi
    [ -f "$tmp/medrelay.log" ] && cp "$tmp/medrelay.log" "$out/medrelay.log"
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The link -----------------------------------------------------------------
if [ "$mode" = veth ]; then
    [ "$(id -u)" -eq 0 ] || { echo "bench.sh: network namespaces need root (or use --loopback)" >&2; exit 1; }
    srv_ip=10.77.0.1
    cli_ip=10.77.0.2
    port=8080
    ip netns add "$ns_srv"
    ip netns add "$ns_cli"
    ip link add mrb-srv netns "$ns_srv" type veth peer name mrb-cli netns "$ns_cli"
    ip -n "$ns_srv" addr add "$srv_ip/24" dev mrb-srv
    ip -n "$ns_cli" addr add "$cli_ip/24" dev mrb-cli
    for ns in "$ns_srv" "$ns_cli"; do
        ip -n "$ns" link set lo up
    done
    ip -n "$ns_srv" link set mrb-srv up
    ip -n "$ns_cli" link set mrb-cli up
    in_srv=(ip netns exec "$ns_srv")
    in_cli=(ip netns exec "$ns_cli")
else
    srv_ip=127.0.0.1
    cli_ip=127.0.0.1
    port=$((18000 + $$ % 2000))
    while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
    in_srv=()
    in_cli=()
fi

# --- The server ---------------------------------------------------------------
# A token secret for this run only; recording off (the benchmark measures
# forwarding), admission limits off.
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export MEDRELAY_JWT_SECRET=$secret
cat >"$tmp/medrelay.conf" <<EOF
# Written by scripts/bench.sh for one benchmark run.
[server]
web_root = $SRC/signaling/web
audit_log = $tmp/audit.log

[recording]
policy = never

[rooms]
max_sessions = 0
room_viewers = 0

[log]
level = ${MEDRELAY_LOG_LEVEL:-warn}
EOF
token() {
    "$BIN" token --config "$tmp/medrelay.conf" --room '*' --role "$1" --name "bench-$1" --ttl 86400
}
pub_token=$(token clinic)
sub_token=$(token viewer)
op_token=$(token operator)

"${in_srv[@]}" "$BIN" --config "$tmp/medrelay.conf" --listen "$srv_ip:$port" \
    --media-ip "$srv_ip" --record-dir "$tmp/rec" >"$tmp/medrelay.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 100); do
    if "${in_cli[@]}" curl -fsS -m 1 -o /dev/null "http://$srv_ip:$port/healthz" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "bench.sh: medrelay did not start; its log:" >&2
    tail -n 30 "$tmp/medrelay.log" >&2 || true
    exit 1
fi
echo "bench.sh: medrelay (pid $server_pid) on $srv_ip:$port over $mode; peers on $cli_ip" >&2

# --- The benchmark ------------------------------------------------------------
args=(--url "http://$srv_ip:$port" --pub-token "$pub_token" --sub-token "$sub_token"
      --metrics-token "$op_token" --pid "$server_pid" --local-ip "$cli_ip" --label "$mode")
if [ -n "$sweep" ]; then
    csv="$out/bench-$mode.csv"
    rm -f "$csv"
    args+=(--subs "$sweep" --csv "$csv")
fi
# shellcheck disable=SC2086
"${in_cli[@]}" "$BENCH" "${args[@]}" ${BENCH_ARGS:-} "$@" | tee "$out/bench-$mode.txt"
status=${PIPESTATUS[0]}

if [ -n "$sweep" ] && [ "$status" -eq 0 ]; then
    if command -v gnuplot >/dev/null 2>&1; then
        gnuplot -e "csv='$csv'; png='${csv%.csv}.png'" tests/bench/plot.gp &&
            echo "bench.sh: plot in ${csv%.csv}.png" >&2
    else
        echo "bench.sh: no gnuplot (scripts/deps.sh bench installs it): no plot" >&2
    fi
fi
kill -0 "$server_pid" 2>/dev/null || { echo "bench.sh: medrelay died during the run" >&2; status=1; }
exit "$status"
