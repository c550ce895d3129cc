#!/bin/sh
# Builds libsrtp2 on OpenSSL from Debian's own source package, into OUT
# (the CMake configure step passes build/third_party/libsrtp-openssl):
#
#   OUT/include/srtp2/*.h   headers
#   OUT/lib/libsrtp2.a      static, position-independent: linked into medrelay
#   OUT/lib/libsrtp2.so.1   shared, same ABI as Debian's libsrtp2-1, for other
#                           programs (e.g. Janus) through LD_LIBRARY_PATH
#   OUT/stamp               written last: the build is complete
#
# Why: Debian's libsrtp2 is built on NSS, which makes srtp_protect about five
# times slower for AES_CM_128_HMAC_SHA1_80, the cipher browsers negotiate
# (../shared/TESTING.md). The same source with --enable-openssl is not.
#
# The source comes through apt without touching the system's apt setup: a
# deb-src entry made from the machine's own /etc/apt/sources.list.d/debian.sources
# (its URIs, Suites, Components and Signed-By, so no mirror is named here) goes
# into a private folder with its own lists and cache. apt checks the files
# against the signed Sources index, as for any package.
#
# Does nothing when OUT/stamp matches this recipe. Prints one line to stderr
# when it builds; exits non-zero with the reason on stderr (the full log in
# OUT/build.log) when it cannot, and the caller falls back to the system
# library. A failure is remembered in OUT/failed and not retried on every
# configure; remove OUT to try again.
set -eu

out=${1:?usage: libsrtp-openssl.sh OUT_DIR}
# Bump when the way the library is built changes, to rebuild existing trees.
recipe="1 --enable-openssl --disable-pcap"

mkdir -p "$out"
out=$(cd "$out" && pwd)

# Two configures of the same tree (engineers share working copies) must not
# build into one folder at once.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$out.lock"
    flock 9
fi

if [ -f "$out/stamp" ] && [ "$(sed -n 's/^recipe=//p' "$out/stamp")" = "$recipe" ] &&
    [ -f "$out/lib/libsrtp2.a" ] && [ -f "$out/lib/libsrtp2.so.1" ]; then
    exit 0
fi
if [ -f "$out/failed" ]; then
    echo "an earlier attempt failed: $(cat "$out/failed") (remove $out to retry)" >&2
    exit 1
fi

log="$out/build.log"
fail() {
    echo "$1" >"$out/failed"
    echo "$1 (log: $log)" >&2
    exit 1
}

start=$(date +%s)
rm -rf "$out/stamp" "$out/apt" "$out/work" "$out/include" "$out/lib"
mkdir -p "$out/apt/sources" "$out/apt/lists/partial" "$out/apt/cache/archives/partial" "$out/work"
: >"$log"

# deb-src stanzas from the machine's deb822 source list (Debian 12's
# default); from a one-line sources.list on machines upgraded from older
# releases.
src_list="$out/apt/sources/medrelay-src.sources"
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    awk '
        function flush() {
            if (uris != "" && suites != "") {
                print "Types: deb-src"
                print "URIs: " uris
                print "Suites: " suites
                print "Components: " (comps != "" ? comps : "main")
                if (signed != "") print "Signed-By: " signed
                print ""
            }
            uris = suites = comps = signed = ""
        }
        /^[ \t]*$/ { flush(); next }
        /^#/ { next }
        tolower($1) == "uris:" { sub(/^[^:]*:[ \t]*/, ""); uris = $0 }
        tolower($1) == "suites:" { sub(/^[^:]*:[ \t]*/, ""); suites = $0 }
        tolower($1) == "components:" { sub(/^[^:]*:[ \t]*/, ""); comps = $0 }
        tolower($1) == "signed-by:" { sub(/^[^:]*:[ \t]*/, ""); signed = $0 }
        END { flush() }
    ' /etc/apt/sources.list.d/debian.sources >"$src_list"
elif [ -r /etc/apt/sources.list ]; then
    src_list="$out/apt/sources/medrelay-src.list"
    sed -n 's/^[ \t]*deb[ \t]/deb-src /p' /etc/apt/sources.list >"$src_list"
fi
[ -s "$src_list" ] || fail "no Debian source list found in /etc/apt to fetch libsrtp2's source from"

# A bounded time: a machine without a network must fall back, not hang.
apt_src() {
    timeout 120 apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$out/apt/sources" \
        -o Dir::State::Lists="$out/apt/lists" -o Dir::Cache="$out/apt/cache" \
        -o APT::Sandbox::User="$(id -un)" -o Acquire::Retries=0 \
        -o Acquire::http::Timeout=20 -o Acquire::https::Timeout=20 "$@"
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found"
command -v dpkg-source >/dev/null 2>&1 || fail "dpkg-source not found (package dpkg-dev)"

apt_src update >>"$log" 2>&1 || fail "apt-get update of the deb-src index failed"
(cd "$out/work" && apt_src source --download-only libsrtp2) >>"$log" 2>&1 ||
    fail "apt-get source libsrtp2 failed"
dsc=$(ls "$out"/work/libsrtp2_*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || fail "apt-get source libsrtp2 left no .dsc"
version=$(sed -n 's/^Version: //p' "$dsc")

# --no-check: the uploader's key is not on the machine; apt has already
# checked these files against the signed index.
dpkg-source --no-check -x "$dsc" "$out/work/src" >>"$log" 2>&1 || fail "dpkg-source -x failed"

# libsrtp's own optimisation flags (-O4 -funroll-loops, -fPIC) apply only
# when CFLAGS is empty: do not let the caller's flags (a sanitizer build's)
# in.
(
    cd "$out/work/src"
    unset CFLAGS CPPFLAGS LDFLAGS
    ./configure --enable-openssl --disable-pcap --prefix="$out" &&
        make -j "$(nproc 2>/dev/null || echo 2)" libsrtp2.a shared_library &&
        make install
) >>"$log" 2>&1 || fail "building libsrtp2 $version on OpenSSL failed"

grep -q '^#define OPENSSL 1' "$out/work/src/crypto/include/config.h" ||
    fail "libsrtp2's configure did not enable OpenSSL"
[ -f "$out/lib/libsrtp2.a" ] && [ -f "$out/lib/libsrtp2.so.1" ] ||
    fail "libsrtp2 $version built, but not installed into $out/lib"

rm -rf "$out/work/src" "$out/apt/cache" "$out/apt/lists"
printf 'recipe=%s\nversion=%s\n' "$recipe" "$version" >"$out/stamp"
echo "libsrtp2 $version built on OpenSSL in $(($(date +%s) - start)) s: $out" >&2
