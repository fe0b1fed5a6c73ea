#!/usr/bin/env bash
# The Debian package, built and used as a user would get it:
#   1. cpack -G DEB on this build tree (into a temporary directory);
#   2. its control fields, and Depends satisfied by this machine's installed packages;
#   3. installed with `dpkg --root` into an empty throw-away root (as root; otherwise
#      unpacked with dpkg-deb -x), and every file it holds is one of the expected FHS paths;
#   4. the man pages render without warnings and name every option of --help and every
#      key of the example configuration; the bash completions parse and offer every
#      option; the systemd unit verifies and keeps its hardening;
#   5. the installed ccrex compiles hello.c with the installed ccrexd (found next to it,
#      no CCREX_AGENT_BIN): the object is gcc's byte for byte, a second compile is a hit in
#      `ccrex -s`, the masquerade link in /usr/lib/ccrex works, and the example
#      configuration is accepted as it is and uncommented;
#   6. dpkg --purge removes every file.
# Exit 125 (skipped) without dpkg-deb, dpkg-shlibdeps or gcc.
#
# Environment: CCREX_BUILD_DIR (the build tree), CCREX_CPACK (cpack), CCREX_PACKAGE_VERSION.
set -euo pipefail

fail() {
  echo "FAILED: $*" >&2
  exit 1
}
skip() {
  echo "skipped: $*"
  exit 125
}

BUILD=${CCREX_BUILD_DIR:?}
CPACK=${CCREX_CPACK:-cpack}
VERSION=${CCREX_PACKAGE_VERSION:?}
for tool in dpkg-deb dpkg-shlibdeps gcc; do
  command -v "$tool" >/dev/null || skip "$tool not found"
done

# Only this test's settings: nothing from the caller's CCREX_*/RECC_* or config files, and
# no CCREX_AGENT_BIN: the installed ccrex must find the installed agent by itself.
for var in $(compgen -e | grep -E '^(CCREX_|RECC_)'); do
  unset "$var"
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ccrex-package.XXXXXX")
ROOT=$WORK/root
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_CACHE_HOME=$WORK/home/.cache
export CCREX_AGENT_DIR=$WORK/agent CCREX_DIR=$WORK/ccrex-dir
unset XDG_RUNTIME_DIR
mkdir -p "$HOME"

cleanup() {
  local status=$?
  [[ -x $ROOT/usr/bin/ccrex ]] && "$ROOT/usr/bin/ccrex" --stop-agent >/dev/null 2>&1
  if [[ $status -eq 0 ]]; then
    rm -rf "$WORK"
  else
    echo "work directory kept: $WORK" >&2
  fi
}
trap cleanup EXIT

echo "== cpack -G DEB"
"$CPACK" --config "$BUILD/CPackConfig.cmake" -G DEB -B "$WORK/out" >"$WORK/cpack.log" 2>&1 \
  || { cat "$WORK/cpack.log" >&2; fail "cpack failed"; }
debs=("$WORK"/out/*.deb)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || fail "expected one .deb, got: ${debs[*]}"
deb=${debs[0]}
arch=$(dpkg --print-architecture)
[[ $(basename "$deb") == "ccrex_${VERSION}-1_${arch}.deb" ]] || fail "file name $(basename "$deb")"

echo "== control fields"
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == ccrex ]] || fail "Package: $(field Package)"
[[ $(field Version) == "${VERSION}-1" ]] || fail "Version: $(field Version)"
[[ $(field Architecture) == "$arch" ]] || fail "Architecture: $(field Architecture)"
[[ $(field Maintainer) == *'<'*'@'*'>' ]] || fail "Maintainer: $(field Maintainer)"
[[ $(field Section) == devel ]] || fail "Section: $(field Section)"
[[ $(field Description) == *"Remote Execution API"* ]] || fail "Description: $(field Description)"
depends=$(field Depends)
echo "Depends: $depends"
# dpkg-shlibdeps found the libraries: libc at least, and OpenSSL for the agent and server.
[[ $depends == *libc6* && $depends == *libssl3* ]] || fail "Depends lacks libc6 or libssl3"
# gRPC is in the agent and the server themselves when they link its archives
# (CCREX_STATIC_DEPS), a dependency of the package otherwise.
if grep -q '^CCREX_STATIC_DEPS:BOOL=ON$' "$BUILD/CMakeCache.txt"; then
  [[ $depends != *libgrpc* && $depends != *libprotobuf* ]] || fail "Depends names gRPC or protobuf"
else
  [[ $depends == *libgrpc++* ]] || fail "Depends lacks libgrpc++"
fi

# Every Depends clause is satisfied by a package installed here (a Debian 12 machine that
# built ccrex), read from dpkg's database without taking its lock.
satisfied() { # satisfied "name (op version)": installed, and at that version
  local spec=$1 name op ver status installed
  name=${spec%% *}
  name=${name%%:*}
  status=$(dpkg-query -W -f='${Status}|${Version}' "$name" 2>/dev/null) || return 1
  [[ $status == "install ok installed|"* ]] || return 1
  installed=${status#*|}
  if [[ $spec =~ \((<<|<=|=|>=|>>)\ ([^\)]+)\) ]]; then
    op=${BASH_REMATCH[1]}
    ver=${BASH_REMATCH[2]}
    case $op in
    '<<') op=lt ;; '<=') op=le ;; '=') op=eq ;; '>=') op=ge ;; '>>') op=gt ;;
    esac
    dpkg --compare-versions "$installed" "$op" "$ver" || return 1
  fi
}
IFS=',' read -ra clauses <<<"$depends"
for clause in "${clauses[@]}"; do
  ok=0
  IFS='|' read -ra alternatives <<<"$clause"
  for alt in "${alternatives[@]}"; do
    alt=$(echo "$alt" | sed 's/^ *//; s/ *$//')
    if satisfied "$alt"; then
      ok=1
      break
    fi
  done
  [[ $ok == 1 ]] || fail "dependency not satisfied on this machine: $clause"
done

echo "== install into a throw-away root"
mkdir -p "$ROOT"
if [[ $(id -u) -eq 0 ]]; then
  mkdir -p "$ROOT"/var/lib/dpkg/{info,updates,triggers}
  touch "$ROOT"/var/lib/dpkg/{status,available}
  # The root holds nothing else, so dependencies are forced; they are checked above.
  dpkg --root="$ROOT" --force-depends -i "$deb" >"$WORK/dpkg.log" 2>&1 \
    || { cat "$WORK/dpkg.log" >&2; fail "dpkg -i failed"; }
  [[ $(dpkg --root="$ROOT" -s ccrex | grep '^Status:') == "Status: install ok installed" ]] \
    || fail "ccrex is not installed in the throw-away root"
else
  echo "(not root: unpacking with dpkg-deb -x instead of dpkg --root -i)"
  dpkg-deb -x "$deb" "$ROOT"
fi

echo "== files"
expected=(
  usr/bin/ccrex usr/bin/ccrex-action-init usr/bin/ccrex-server usr/bin/ccrexd
  usr/lib/ccrex/c++ usr/lib/ccrex/cc usr/lib/ccrex/clang usr/lib/ccrex/clang++
  usr/lib/ccrex/g++ usr/lib/ccrex/gcc
  usr/lib/systemd/system/ccrex-server.service
  usr/share/bash-completion/completions/ccrex
  usr/share/bash-completion/completions/ccrex-server
  usr/share/doc/ccrex/examples/ccrex-server.default
  usr/share/doc/ccrex/examples/ccrex.conf
  usr/share/lintian/overrides/ccrex
  usr/share/man/man1/ccrex.1.gz usr/share/man/man1/ccrexd.1.gz
  usr/share/man/man8/ccrex-server.8.gz
)
actual=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -v '/$' | sed 's|^\./||' | LC_ALL=C sort)
want=$(printf '%s\n' "${expected[@]}" | LC_ALL=C sort)
[[ $actual == "$want" ]] || fail "package files differ from the expected layout:
$(diff <(echo "$want") <(echo "$actual") || true)"
for f in "${expected[@]}"; do
  [[ -e $ROOT/$f ]] || fail "$f missing in the installed root"
done
for program in ccrex ccrexd ccrex-server ccrex-action-init; do
  [[ -x $ROOT/usr/bin/$program && ! -L $ROOT/usr/bin/$program ]] \
    || fail "usr/bin/$program is not an executable file"
done
for link in "$ROOT"/usr/lib/ccrex/*; do
  [[ -L $link && $(readlink "$link") == ../../bin/ccrex ]] \
    || fail "$link is not a link to ../../bin/ccrex"
done
[[ $("$ROOT/usr/bin/ccrex" --version) == "ccrex version $VERSION" ]] || fail "ccrex --version"
"$ROOT/usr/bin/ccrex-server" --version | grep -qF "$VERSION" || fail "ccrex-server --version"

# Options as --help lists them: every word starting with "--" (and ccrex's short ones).
help_options() {
  "$@" --help | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[ ,]//' | sort -u
}
client_options=$(help_options "$ROOT/usr/bin/ccrex")
server_options=$(help_options "$ROOT/usr/bin/ccrex-server")
# --print-stats is not in the short help; the man page and completion must have it.
client_options=$(printf '%s\n--print-stats\n' "$client_options" | sort -u)
[[ $client_options == *--show-stats* && $server_options == *--listen* ]] \
  || fail "could not read the options from --help"

echo "== man pages"
man=$ROOT/usr/share/man
[[ $(zcat "$man/man1/ccrexd.1.gz") == ".so man1/ccrex.1" ]] || fail "ccrexd.1"
for page in man1/ccrex.1 man8/ccrex-server.8; do
  zcat "$man/$page.gz" | grep -q "^\.TH .* \"ccrex $VERSION\"" \
    || fail "$page does not name version $VERSION in .TH"
done
if command -v man >/dev/null; then
  for page in man1/ccrex.1 man8/ccrex-server.8; do
    text=$(LC_ALL=C MANWIDTH=100 man --warnings -l "$man/$page.gz" 2>"$WORK/man.err") \
      || fail "man -l $page failed: $(cat "$WORK/man.err")"
    [[ ! -s $WORK/man.err ]] || fail "man -l $page warns: $(cat "$WORK/man.err")"
    [[ $text == *NAME*SYNOPSIS*DESCRIPTION*OPTIONS* ]] || fail "$page lacks a section"
    options=$client_options
    [[ $page == man8/* ]] && options=$server_options
    for o in $options; do
      grep -qE -- "(^|[^a-z-])$o([^a-z-]|$)" <<<"$text" || fail "$page does not document $o"
    done
  done
  # Every configuration key of the example file is in ccrex(1).
  text=$(LC_ALL=C MANWIDTH=100 man -l "$man/man1/ccrex.1.gz" 2>/dev/null)
  for key in $(grep -oE '^#[a-z_]+ =' "$ROOT/usr/share/doc/ccrex/examples/ccrex.conf" \
    | tr -d '#= '); do
    grep -qw -- "$key" <<<"$text" || fail "ccrex(1) does not document the key $key"
  done
else
  echo "(man not installed: rendering not checked)"
fi

echo "== bash completion"
completions=$ROOT/usr/share/bash-completion/completions
bash -n "$completions/ccrex" || fail "completions/ccrex does not parse"
bash -n "$completions/ccrex-server" || fail "completions/ccrex-server does not parse"
offered=$(bash -c 'source "$1"; COMP_WORDS=(ccrex -); COMP_CWORD=1; _ccrex
  printf "%s\n" "${COMPREPLY[@]}"' _ "$completions/ccrex")
for o in $client_options; do
  grep -qx -- "$o" <<<"$offered" || fail "completion of ccrex does not offer $o"
done
offered=$(bash -c 'source "$1"; COMP_WORDS=(ccrex gcc -); COMP_CWORD=2; _ccrex
  printf "%s\n" "${COMPREPLY[@]}"; COMP_WORDS=(ccrex gc); COMP_CWORD=1; _ccrex
  printf "%s\n" "${COMPREPLY[@]}"' _ "$completions/ccrex")
grep -qx gcc <<<"$offered" || fail "completion of ccrex does not offer compilers"
offered=$(bash -c 'source "$1"; COMP_WORDS=(ccrex-server -); COMP_CWORD=1; _ccrex_server
  printf "%s\n" "${COMPREPLY[@]}"' _ "$completions/ccrex-server")
for o in $server_options; do
  grep -qx -- "$o" <<<"$offered" || fail "completion of ccrex-server does not offer $o"
done

echo "== systemd unit"
unit=$ROOT/usr/lib/systemd/system/ccrex-server.service
# shellcheck disable=SC2016 # the unit's own $CCREX_SERVER_OPTS, expanded by systemd
grep -qx 'ExecStart=/usr/bin/ccrex-server --cache-dir /var/lib/ccrex-server $CCREX_SERVER_OPTS' \
  "$unit" || fail "ExecStart does not run /usr/bin/ccrex-server: $(grep ExecStart "$unit")"
grep -q '^Environment="CCREX_SERVER_OPTS=--listen 127.0.0.1:8980"$' "$unit" \
  || fail "the unit does not listen on loopback by default"
for setting in DynamicUser=yes StateDirectory=ccrex-server ProtectSystem=strict \
  NoNewPrivileges=yes 'RestrictNamespaces=user pid mnt ipc uts net cgroup'; do
  grep -qx "$setting" "$unit" || fail "the unit lacks $setting"
done
# The options of the example environment file are ccrex-server's own.
(
  # shellcheck disable=SC1091
  source "$ROOT/usr/share/doc/ccrex/examples/ccrex-server.default"
  for o in $CCREX_SERVER_OPTS; do
    [[ $o != --* ]] || grep -qx -- "$o" <<<"$server_options" || fail "unknown option $o"
  done
)
if command -v systemd-analyze >/dev/null; then
  # Verified as installed, with ExecStart pointing into the throw-away root and its man
  # page found there. Any message (an unknown key is only a warning) fails.
  mkdir -p "$WORK/unit"
  sed "s|^ExecStart=/usr/bin/|ExecStart=$ROOT/usr/bin/|" "$unit" >"$WORK/unit/ccrex-server.service"
  MANPATH=$ROOT/usr/share/man systemd-analyze verify "$WORK/unit/ccrex-server.service" \
    >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log" >&2; fail "systemd-analyze verify"; }
  [[ ! -s $WORK/verify.log ]] || fail "systemd-analyze verify: $(cat "$WORK/verify.log")"
  # Exposure 2.4 of 10 when written; fail if hardening is lost.
  if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    systemd-analyze security --offline=true --threshold=30 "$WORK/unit/ccrex-server.service" \
      >"$WORK/security.log" 2>&1 \
      || { tail -3 "$WORK/security.log" >&2; fail "the unit's exposure is above 3.0"; }
  fi
else
  echo "(systemd-analyze not installed: the unit is not verified)"
fi

echo "== compile through the installed ccrex"
mkdir -p "$WORK/src"
cd "$WORK/src"
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' >hello.c
gcc -c hello.c -o plain.o
ccrex=$ROOT/usr/bin/ccrex
stat_value() { "$ccrex" --print-stats | awk -F'\t' -v k="$1" '$1 == k { print $2 }'; }
"$ccrex" gcc -c hello.c -o hello.o 2>"$WORK/compile.err" \
  || fail "ccrex gcc failed: $(cat "$WORK/compile.err")"
[[ ! -s $WORK/compile.err ]] || fail "ccrex printed: $(cat "$WORK/compile.err")"
cmp plain.o hello.o || fail "the object differs from gcc's"
agent_pid=$(cat "$CCREX_AGENT_DIR/agent.pid" 2>/dev/null) || fail "no agent started"
[[ $(readlink "/proc/$agent_pid/exe") == "$ROOT/usr/bin/ccrexd" ]] \
  || fail "the agent is $(readlink "/proc/$agent_pid/exe"), not the installed ccrexd"
[[ $(stat_value miss_executed) == 1 ]] || fail "first compile: $("$ccrex" --print-stats)"
rm hello.o
"$ccrex" gcc -c hello.c -o hello.o || fail "second compile failed"
cmp plain.o hello.o || fail "the cached object differs from gcc's"
[[ $(stat_value hit_local) == 1 ]] || fail "second compile is no hit: $("$ccrex" --print-stats)"
"$ccrex" -s | grep -qE '^ *Hits: +1( |$)' || fail "ccrex -s shows no hit: $("$ccrex" -s)"

# Masquerading through /usr/lib/ccrex: `gcc` on PATH is the link, the real gcc is found
# past it. The same command line as before, so a hit.
rm hello.o
PATH=$ROOT/usr/lib/ccrex:$PATH gcc -c hello.c -o hello.o || fail "masquerade compile"
cmp plain.o hello.o || fail "the masquerade object differs from gcc's"
[[ $(stat_value hit_local) == 2 ]] || fail "masquerade compile is no hit: $("$ccrex" --print-stats)"

# The example configuration: accepted as installed (all comments), and with every
# setting uncommented.
mkdir -p "$XDG_CONFIG_HOME/ccrex"
example=$ROOT/usr/share/doc/ccrex/examples/ccrex.conf
cp "$example" "$XDG_CONFIG_HOME/ccrex/ccrex.conf"
"$ccrex" gcc -c hello.c -o hello.o || fail "compile with the example configuration"
[[ $(stat_value hit_local) == 3 ]] || fail "example configuration: $("$ccrex" --print-stats)"
sed -E 's/^#([a-z_]+ =)/\1/' "$example" >"$XDG_CONFIG_HOME/ccrex/ccrex.conf"
grep -qE '^[a-z_]+ =' "$XDG_CONFIG_HOME/ccrex/ccrex.conf" || fail "no setting to uncomment"
"$ccrex" --show-config >"$WORK/config.out" 2>&1 \
  || fail "the uncommented example is refused: $(cat "$WORK/config.out")"
grep -q "ccrex/ccrex.conf:" "$WORK/config.out" || fail "--show-config ignores the example file"
"$ccrex" --stop-agent >/dev/null

if [[ $(id -u) -eq 0 ]]; then
  echo "== purge"
  dpkg --root="$ROOT" --purge ccrex >"$WORK/dpkg.log" 2>&1 \
    || { cat "$WORK/dpkg.log" >&2; fail "dpkg --purge failed"; }
  left=$(find "$ROOT" -path "$ROOT/var/lib/dpkg" -prune -o ! -type d -print)
  [[ -z $left ]] || fail "left after purge: $left"
fi
echo "package: ok ($(basename "$deb"), $(du -k "$deb" | cut -f1) KiB)"
