#!/bin/sh
# Installs the Debian packages medrelay needs: `deps.sh build` for building,
# `deps.sh test` also for the test suite (Chromium, aiortc, Node packages),
# `deps.sh bench` for `make bench` and `make bench-compare` (network
# namespaces, plots, Janus).
# As root it runs apt-get; otherwise it prints the exact command and stops.
set -eu
cd "$(dirname "$0")/.."

BUILD_PKGS="cmake make gcc pkg-config libc6-dev dpkg-dev libglib2.0-dev libnice-dev liburing-dev libsrtp2-dev \
libwebsockets-dev libwebsockets-evlib-glib libssl-dev libjansson-dev \
libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base \
gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
# iproute2 and nftables: the impaired-network tests (tests/interop/lib/netbed.js)
# build network namespaces and drop packets with nft; a fresh machine has no nft.
TEST_PKGS="chromium python3 python3-aiortc nodejs npm gstreamer1.0-tools \
gstreamer1.0-plugins-base-apps ffmpeg python3-websocket fonts-noto-cjk \
python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-bad-1.0 gstreamer1.0-nice \
iproute2 nftables coturn"

BENCH_PKGS="iproute2 curl gnuplot-nox python3 janus"
# `deps.sh fuzz` for `make fuzz`: clang, and compiler-rt with libFuzzer's
# runtime (only recommended by clang, so not there with --no-install-recommends).
FUZZ_PKGS="clang libclang-rt-dev"

want="$BUILD_PKGS"
[ "${1:-build}" = test ] && want="$BUILD_PKGS $TEST_PKGS"
[ "${1:-build}" = bench ] && want="$BUILD_PKGS $BENCH_PKGS"
[ "${1:-build}" = fuzz ] && want="$BUILD_PKGS $FUZZ_PKGS"

missing=""
for p in $want; do
    # Node may come from outside Debian (it does on these machines): accept
    # any node and npm on PATH instead of the packages.
    case "$p" in
        nodejs) command -v node >/dev/null 2>&1 && continue ;;
        npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "medrelay needs these Debian packages; install them with:" >&2
        echo "  sudo apt-get install -y$missing" >&2
        exit 1
    fi
    echo "Installing Debian packages:$missing"
    case " $missing " in
        # coturn: the TURN tests (tests/interop/turn_*) start their own
        # turnserver in a network namespace. Debian's package would enable
        # and start a system-wide coturn.service on every interface: mask
        # it first (an administrator's mask, which the package's postinst
        # leaves alone; without systemd the init script needs
        # TURNSERVER_ENABLED=1 in /etc/default/coturn, which stays unset).
        *" coturn "*)
            if [ ! -e /etc/systemd/system/coturn.service ]; then
                mkdir -p /etc/systemd/system
                ln -s /dev/null /etc/systemd/system/coturn.service
            fi ;;
    esac
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ "${1:-build}" = test ]; then
    # Browser tests drive Debian's Chromium with playwright-core (never a
    # downloaded browser) and serve it whip-whep, a third-party WHIP/WHEP
    # client under test. package-lock.json pins the versions.
    if [ ! -d tests/interop/node_modules/playwright-core ] || \
       [ ! -d tests/interop/node_modules/whip-whep ]; then
        echo "Installing Node packages for the browser tests"
        npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
    fi
fi
