#!/usr/bin/env bash
# Install the Debian 12 packages ccrex needs to build and test. Idempotent: packages
# that are already installed are skipped, and nothing runs when all are present.
#
#   scripts/install-deps.sh           build + test dependencies
#   scripts/install-deps.sh --bench   also the benchmark contenders (ccache, hyperfine) and
#                                     the autotools project of test/bench/autotools_bench.sh
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libssl-dev libre2-dev libgtest-dev libgmock-dev
  libcpp-httplib-dev       # ccrex-server's status port (HTTP), as in ccache
  libzstd-dev              # zstd: compressed stores and transfers, as in ccache and REAPI
  bazel-bootstrap-source   # official REAPI and googleapis .proto files
  clang clang-format       # second compiler family for the end-to-end tests; formatting
  bazel-bootstrap          # third-party REAPI client for the interop test
  buildstream              # BuildStream 1.6.8: Remote Asset client for the interop test
  bear                     # compilation databases recorded through ccrex (e2e client)
  chromium                 # loads ccrex-server's status page in a hostile test (optional)
  make python3
  dpkg-dev                 # dpkg-shlibdeps: the Depends of the Debian package (cpack -G DEB)
  openssl                  # throwaway TLS certificates for the hostile and e2e secure tests
  libclang-rt-14-dev       # libFuzzer and the sanitizer runtimes for test/fuzz (clang 14)
  bubblewrap busybox-static  # the action sandbox (bwrap); a tiny root file system for its tests
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(ccache hyperfine time gnulib autoconf automake libtool)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# bazel-bootstrap, buildstream and chromium are optional: the tests that use them skip
# with a message where they cannot be had.
if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  optional=(bazel-bootstrap buildstream bear chromium hyperfine)
  required=()
  for p in "${missing[@]}"; do
    [[ " ${optional[*]} " == *" $p "* ]] || required+=("$p")
  done
  $sudo apt-get install -y -qq --no-install-recommends "${required[@]}" >/dev/null
fi
