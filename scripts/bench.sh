#!/bin/bash
# Runs medrelay-bench against a freshly started server (`make bench`,
# `make bench-compare`).
#
#   scripts/bench.sh [--target medrelay|janus] [--janus-srtp system|openssl]
#                    [--janus-loops N] [--loopback] [--sweep N,N,...] [--out DIR]
#                    [--clients MODE,MODE,...] [--pub-loss PCT,PCT,...]
#                    [-- medrelay-bench options]
#
# By default the server and the benchmark run in two network namespaces
# joined by a veth pair (server 10.77.0.1, peers 10.77.0.2), the path
# ../shared/TESTING.md prescribes for Janus, which will not use loopback; so
# both servers are measured over the same kind of link. --loopback runs both
# on 127.0.0.1 instead (no root needed; medrelay only). The namespaces, the
# server and its scratch folder are removed on exit, also on failure or
# Ctrl-C.
#
# --target medrelay (default) starts build/medrelay (or $MEDRELAY_BIN) with
# a token secret for this run only and recording off. --target janus starts
# Debian's Janus 1.1.2: the VideoRoom plugin and the WebSocket transport
# only, ICE on the veth only, no session timeout. --janus-srtp openssl runs it
# on the libsrtp2 the build made on OpenSSL (LD_LIBRARY_PATH), as medrelay
# uses, instead of Debian's on NSS; the reports are labelled veth-srtp-openssl.
# --janus-loops N gives Janus N event loops (event_loops, its option for
# spreading handles over threads; default: one thread per handle's loop),
# labelled -loopsN.
#
# --sweep runs one measurement per subscriber count (and per round, with
# --rounds R among the options), each against a server started for it, and
# writes DIR/bench-<target>-<label>.csv, plotted (gnuplot) into the .png
# beside it.
# --clients runs each of medrelay-bench's --client modes in turn (e.g.
# synthetic,real: the peers as before, and as the browsers measured by
# tests/bench/clients), alternating within each round so that a drift of
# the machine touches both; the CSV's client column tells them apart.
# --pub-loss runs each publisher-leg loss in turn (e.g. 0,2: the publishers
# drop 0 %, then 2 % of their RTP at random, which the server repairs with
# NACK and RTX; medrelay-bench --pub-loss), alternating within each round
# and client mode, each on a server of its own; the label (reports, CSV,
# plot) gets -publoss<PCT>.
# Other options go to medrelay-bench (see --help there), e.g.
#   scripts/bench.sh -- --subs 50 --seconds 20
#   scripts/bench.sh -- --subs 20 --sub-transport tcp   (subscribers over
#   ICE-TCP only; the label, reports, CSV series and plot line get -subtcp)
#   scripts/bench.sh -- --subs 200 --layers 3   (publishers send three
#   simulcast layers; the label etc. get -layers3)
#   scripts/bench.sh --sweep 10,50,100,200 --target janus
# Environment: BUILD_DIR [build], BENCH_ARGS (more medrelay-bench options),
# MEDRELAY_LOG_LEVEL [warn], MEDRELAY_IO_URING (true or false: the
# server's [media] io_uring; unset: its default), MEDRELAY_ICE_TCP (true or
# false: the server's [media] ice_tcp; unset: its default), JANUS_DEBUG_LEVEL
# [3].
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD_DIR=${BUILD_DIR:-build}
BIN=${MEDRELAY_BIN:-$BUILD_DIR/medrelay}
BENCH=$BUILD_DIR/tests/bench/medrelay-bench

mode=veth
target=medrelay
janus_srtp=system
janus_loops=0
sweep=""
clients=""
pub_loss=""
out=tests/artifacts/bench
while [ $# -gt 0 ]; do
    case "$1" in
        --loopback) mode=loopback ;;
        --veth) mode=veth ;;
        --target) target=$2; shift ;;
        --janus-srtp) janus_srtp=$2; shift ;;
        --janus-loops) janus_loops=$2; shift ;;
        --sweep) sweep=$2; shift ;;
        --out) out=$2; shift ;;
        --) shift; break ;;
        --clients) clients=$2; shift ;;
        --pub-loss) pub_loss=$2; shift ;;
        -h|--help) sed -n '2,50p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) break ;;
    esac
    shift
done
case "$target" in
    medrelay) [ -x "$BIN" ] || { echo "bench.sh: $BIN is missing: run make first" >&2; exit 1; } ;;
    janus)
        [ "$mode" = veth ] || { echo "bench.sh: Janus will not use loopback for ICE: veth only" >&2; exit 1; }
        command -v janus >/dev/null || { echo "bench.sh: no janus (scripts/deps.sh bench installs it)" >&2; exit 1; }
        janus_env=()
        if [ "$janus_srtp" = openssl ]; then
            lib=$SRC/$BUILD_DIR/third_party/libsrtp-openssl/lib
            [ -e "$lib/libsrtp2.so.1" ] || { echo "bench.sh: no $lib/libsrtp2.so.1 (the build makes it)" >&2; exit 1; }
            janus_env=(env "LD_LIBRARY_PATH=$lib")
        elif [ "$janus_srtp" != system ]; then
            echo "bench.sh: --janus-srtp system or openssl" >&2; exit 1
        fi ;;
    *) echo "bench.sh: unknown target $target" >&2; exit 1 ;;
esac
[ -x "$BENCH" ] || { echo "bench.sh: $BENCH is missing: run make first" >&2; exit 1; }
for l in ${pub_loss//,/ }; do
    [[ $l =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bench.sh: --pub-loss takes percentages: $pub_loss" >&2; exit 1; }
done
mkdir -p "$out"

# --- Clean-up, whatever happens ---------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/medrelay-bench-XXXXXX")
ns_srv="mrb-srv-$$"
ns_cli="mrb-cli-$$"
server_pid=""
label=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    if [ "$mode" = veth ]; then
        ip netns del "$ns_srv" 2>/dev/null || true
        ip netns del "$ns_cli" 2>/dev/null || true
    fi
    [ -f "$tmp/server.log" ] && cp "$tmp/server.log" "$out/$target-${label:-$mode}.log"
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
# Runs a check until it succeeds (the server listens), the server exits, or
# ten seconds pass.
wait_ready() {
    for _ in $(seq 100); do
        "$@" 2>/dev/null && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench.sh: $target did not start; its log:" >&2
    tail -n 30 "$tmp/server.log" >&2 || true
    exit 1
}

# medrelay: a token secret for this run only, recording off (the benchmark
# measures forwarding), admission limits off; tokens for room '*'.
start_medrelay() {
    MEDRELAY_JWT_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    export MEDRELAY_JWT_SECRET
    {
        echo "# Written by scripts/bench.sh for one benchmark run."
        echo "[server]"
        echo "web_root = $SRC/signaling/web"
        echo "audit_log = $tmp/audit.log"
        echo "[recording]"
        echo "policy = never"
        echo "[rooms]"
        echo "max_sessions = 0"
        echo "room_viewers = 0"
        echo "[log]"
        echo "level = ${MEDRELAY_LOG_LEVEL:-warn}"
        echo "[media]"
        if [ -n "${MEDRELAY_IO_URING:-}" ]; then
            echo "io_uring = $MEDRELAY_IO_URING"
        fi
        if [ -n "${MEDRELAY_ICE_TCP:-}" ]; then
            echo "ice_tcp = $MEDRELAY_ICE_TCP"
        fi
    } >"$tmp/medrelay.conf"
    local role tokens=()
    for role in clinic viewer operator; do
        tokens+=("$("$BIN" token --config "$tmp/medrelay.conf" --room '*' --role "$role" \
                     --name "bench-$role" --ttl 86400)")
    done
    "${in_srv[@]}" "$BIN" --config "$tmp/medrelay.conf" --listen "$srv_ip:$port" \
        --media-ip "$srv_ip" --record-dir "$tmp/rec" >>"$tmp/server.log" 2>&1 &
    server_pid=$!
    wait_ready "${in_cli[@]}" curl -fsS -m 1 -o /dev/null "http://$srv_ip:$port/healthz"
    target_args=(--target medrelay --url "http://$srv_ip:$port" --pub-token "${tokens[0]}"
                 --sub-token "${tokens[1]}" --metrics-token "${tokens[2]}")
}

# Janus with a configuration folder of its own: only the VideoRoom plugin
# and the WebSocket transport (other plugins bind ports of their own), ICE
# on the veth only, sessions that never time out (the benchmark sends no
# keep-alives), warnings only.
start_janus() {
    local j=$tmp/janus lib
    rm -rf "$j"
    lib=$(dirname "$(dirname "$(find /usr/lib -name libjanus_videoroom.so -print -quit)")")
    mkdir -p "$j/etc" "$j/plugins" "$j/transports" "$j/events" "$j/loggers"
    ln -s "$lib/plugins/libjanus_videoroom.so" "$j/plugins/"
    ln -s "$lib/transports/libjanus_websockets.so" "$j/transports/"
    {
        echo "general: {"
        echo "    configs_folder = \"$j/etc\""
        echo "    plugins_folder = \"$j/plugins\""
        echo "    transports_folder = \"$j/transports\""
        echo "    events_folder = \"$j/events\""
        echo "    loggers_folder = \"$j/loggers\""
        echo "    debug_level = ${JANUS_DEBUG_LEVEL:-3}"
        echo "    session_timeout = 0"
        [ "$janus_loops" -gt 0 ] && echo "    event_loops = $janus_loops"
        echo "}"
        echo "media: { rtp_port_range = \"20000-40000\" }"
        echo "nat: { ice_enforce_list = \"mrb-srv\" }"
    } >"$j/etc/janus.jcfg"
    {
        echo "general: { json = \"compact\", ws = true, ws_port = $port, ws_ip = \"$srv_ip\", wss = false }"
        echo "admin: { admin_ws = false, admin_wss = false }"
    } >"$j/etc/janus.transport.websockets.jcfg"
    echo "general: { }" >"$j/etc/janus.plugin.videoroom.jcfg"
    "${in_srv[@]}" "${janus_env[@]}" janus -C "$j/etc/janus.jcfg" -F "$j/etc" >>"$tmp/server.log" 2>&1 &
    server_pid=$!
    wait_ready "${in_srv[@]}" sh -c "ss -Hltn 'sport = :$port' | grep -q ."
    target_args=(--target janus --url "ws://$srv_ip:$port")
}

start_server() {
    case "$target" in
        medrelay) start_medrelay ;;
        janus) port=8188; start_janus ;;
    esac
    echo "bench.sh: $target (pid $server_pid) on $srv_ip:$port over $mode; peers on $cli_ip" >&2
}

# --- The benchmark ------------------------------------------------------------
label=$mode
[ "$target" = janus ] && [ "$janus_srtp" = openssl ] && label=$mode-srtp-openssl
[ "$target" = janus ] && [ "$janus_loops" -gt 0 ] && label=$label-loops$janus_loops
# A run's label: with --pub-loss, the loss too, so that each has its own
# report, and its own series in the CSV and plot.
run_label() {
    echo "$label${1:+-publoss$1}"
}
# One run of medrelay-bench against a server started for it; its status.
#   run_bench LOSS [medrelay-bench options]   (LOSS "": no --pub-loss)
run_bench() {
    local loss=$1 rl
    shift
    rl=$(run_label "$loss")
    start_server
    local args=("${target_args[@]}" --pid "$server_pid" --local-ip "$cli_ip" --label "$rl")
    [ -z "$loss" ] || args+=(--pub-loss "$loss")
    local st
    set +e
    "${in_cli[@]}" "$BENCH" "${args[@]}" "$@" "${bench_opts[@]}" |
        tee -a "$out/bench-$target-$rl.txt"
    st=${PIPESTATUS[0]}
    set -e
    kill -0 "$server_pid" 2>/dev/null || { echo "bench.sh: $target died during the run" >&2; st=1; }
    stop_server
    return "$st"
}

# The options for medrelay-bench: BENCH_ARGS, then the command line's. A
# sweep takes its rounds out of them: each round runs on a server of its own.
# shellcheck disable=SC2086
set -- ${BENCH_ARGS:-} "$@"
rounds=1
bench_opts=()
while [ $# -gt 0 ]; do
    if [ -n "$sweep" ] && [ "$1" = --rounds ] && [ $# -ge 2 ]; then
        rounds=$2
        shift 2
        continue
    fi
    bench_opts+=("$1")
    shift
done
# Subscribers over ICE-TCP (medrelay-bench --sub-transport tcp): reports,
# CSV series and plot lines of their own.
for ((i = 0; i + 1 < ${#bench_opts[@]}; i++)); do
    if [ "${bench_opts[i]}" = --sub-transport ] && [ "${bench_opts[i + 1]}" = tcp ]; then
        label=$label-subtcp
    fi
    # Simulcast publishers (--layers 2 or 3): the same.
    if [ "${bench_opts[i]}" = --layers ] && [ "${bench_opts[i + 1]}" != 1 ]; then
        label=$label-layers${bench_opts[i + 1]}
    fi
done
# The client modes and losses to run in turn; one empty value each when
# not given (medrelay-bench's defaults).
IFS=, read -r -a modes <<<"$clients"
IFS=, read -r -a losses <<<"$pub_loss"
[ ${#modes[@]} -gt 0 ] || modes=("")
[ ${#losses[@]} -gt 0 ] || losses=("")
for l in "${losses[@]}"; do
    rm -f "$out/bench-$target-$(run_label "$l").txt"
done
status=0
if [ -n "$sweep" ]; then
    # A fresh server for every run: a server keeps the memory earlier runs
    # freed (in each worker's heap), which hid the RSS a run needs (or, when
    # counted from the first run, charged a run with its predecessors'), and
    # no run inherits another's rooms, timers or warm caches.
    csv="$out/bench-$target-$label.csv"
    rm -f "$csv"
    for n in ${sweep//,/ }; do
        for r in $(seq "$rounds"); do
            for c in "${modes[@]}"; do
                for l in "${losses[@]}"; do
                    run_bench "$l" --subs "$n" --rounds 1 --first-round "$r" --csv "$csv" \
                        ${c:+--client "$c"} || status=1
                done
            done
        done
    done
else
    for c in "${modes[@]}"; do
        for l in "${losses[@]}"; do
            run_bench "$l" ${c:+--client "$c"} || status=1
        done
    done
fi

if [ -n "$sweep" ] && [ "$status" -eq 0 ]; then
    if command -v gnuplot >/dev/null 2>&1; then
        gnuplot -e "csv='$csv'; png='${csv%.csv}.png'" tests/bench/plot.gp &&
            echo "bench.sh: plot in ${csv%.csv}.png" >&2
    else
        echo "bench.sh: no gnuplot (scripts/deps.sh bench installs it): no plot" >&2
    fi
fi
exit "$status"
