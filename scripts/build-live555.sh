#!/usr/bin/env bash
# Build live555 from its public source (carried by the PyPI source package liblivemedia, live555 2024.06.26) and a
# small on-demand H.264 server (tests/interop/live555_server.cpp) into a cache, once. Idempotent: when the server
# binary is there and newer than its source, it does nothing and touches no network. Never a downloaded binary:
# the sdist is fetched with pip (--no-binary) and compiled here with the system's g++.
# Usage: scripts/build-live555.sh [CACHE_DIR]   (default .make/cache/live555)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${1:-$ROOT/.make/cache/live555}
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3
SDIST_VERSION=1.0.5
SERVER_SRC=$ROOT/tests/interop/live555_server.cpp
BIN=$CACHE/camgrid-live555-server
if [ -x "$BIN" ] && [ "$BIN" -nt "$SERVER_SRC" ]; then
  exit 0
fi
for tool in g++ gcc; do
  command -v $tool >/dev/null || { echo "live555: $tool is needed to build the interop server (apt-get install g++)" >&2; exit 1; }
done
mkdir -p "$CACHE"
SRC=$CACHE/liblivemedia-$SDIST_VERSION
if [ ! -d "$SRC/liveMedia" ]; then
  TARBALL=$CACHE/liblivemedia-$SDIST_VERSION.tar.gz
  if [ ! -s "$TARBALL" ]; then
    echo "live555: fetching the source package liblivemedia==$SDIST_VERSION (sdist, no binary)"
    "$PY" -m pip download -q --no-binary :all: --no-deps "liblivemedia==$SDIST_VERSION" -d "$CACHE"
  fi
  tar -xzf "$TARBALL" -C "$CACHE"
fi
OBJ=$CACHE/obj
mkdir -p "$OBJ"
INC=(-I"$SRC/UsageEnvironment/include" -I"$SRC/groupsock/include" -I"$SRC/liveMedia/include" -I"$SRC/BasicUsageEnvironment/include")
FLAGS=(-O1 -w -DSOCKLEN_T=socklen_t -DNO_OPENSSL=1 -DNO_STD_LIB=1 -D_LARGEFILE_SOURCE=1 -D_FILE_OFFSET_BITS=64 -fPIC)
export SRC OBJ
export INC_FLAGS="${INC[*]} ${FLAGS[*]}"
compile() {  # one source file into obj/, skipped when its object is newer
  local f=$1 o
  o=$OBJ/$(echo "${f#"$SRC"/}" | tr '/' '_').o
  [ "$o" -nt "$f" ] && return 0
  case "$f" in
    *.c) gcc $INC_FLAGS -c "$f" -o "$o.tmp" ;;
    *) g++ -std=c++20 $INC_FLAGS -c "$f" -o "$o.tmp" ;;
  esac
  mv "$o.tmp" "$o"
}
export -f compile
echo "live555: compiling $(find "$SRC"/{UsageEnvironment,BasicUsageEnvironment,groupsock,liveMedia} -maxdepth 1 \( -name '*.cpp' -o -name '*.c' \) | wc -l) files (once, into $CACHE)"
find "$SRC"/{UsageEnvironment,BasicUsageEnvironment,groupsock,liveMedia} -maxdepth 1 \( -name '*.cpp' -o -name '*.c' \) -print0 \
  | xargs -0 -n 4 -P "$(nproc)" bash -c 'for f in "$@"; do compile "$f" || exit 255; done' _
g++ -std=c++20 $INC_FLAGS "$SERVER_SRC" "$OBJ"/*.o -o "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "live555: built $BIN"
