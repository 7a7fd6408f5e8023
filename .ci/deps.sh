# Sourced by .ci/test and .ci/demo: install the Debian 12 packages that
# snapalloc builds and tests with (only those missing, so a re-run is fast).
SNAPALLOC_DEPS="build-essential autoconf automake libtool pkg-config
  libunwind-dev libcriterion-dev libdw-dev libelf-dev
  python3 sqlite3 g++ valgrind libc6-dbg git perl clang libclang-rt-14-dev
  libpython3.11-testsuite redis-server redis-tools
  libprotobuf-c-dev protobuf-c-compiler zlib1g-dev golang-1.19-go
  chromium python3-websocket fonts-dejavu-core"
sa_install_deps() {
    missing=""
    for p in $SNAPALLOC_DEPS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
}
# Build in _build/ and install into _inst/ (both inside the checkout).
sa_build() {
    top=$(pwd)
    [ -x configure ] || ./autogen.sh
    mkdir -p _build
    (cd _build && { [ -f Makefile ] || ../configure --prefix="$top/_inst" -q; } && make -j"$(nproc)" && make install >/dev/null)
}
