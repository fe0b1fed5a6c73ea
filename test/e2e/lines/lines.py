#!/usr/bin/env python3
"""Compile-line differential driver for the e2e suite `lines`.

Every row of the line tables (lines/*.txt) is a shell command run in a fresh copy of a small
fixture tree, once per compiler family (gcc, clang): first with the plain compilers, then
through ccrex twice (cold: nothing stored for it yet; warm: the same line again, served
from the store where ccrex can). The three runs happen at the same absolute path (each
tree is moved aside before the next is made), so diagnostics and debug information that
name the directory must be byte-identical. Compared: exit status, stdout, stderr, and every
file under the run directory (path, type, permission bits, content or symlink target).

Table rows: `ID [{TAG,...}] COMMAND`; a row `%families gcc` makes the rows after it that
name no family run with gcc only (the default is both). COMMAND is run by /bin/sh in `$RUN/w` (the fixture
checkout; `$RUN` may hold more, e.g. a second checkout) with $CC and $CXX set to the
compilers (`ccrex gcc` ... in the ccrex runs) and $PLAIN_CC/$PLAIN_CXX always plain. Tags:
  gcc, clang   run with these families only
  fails        the plain run must exit non-zero (otherwise it must exit 0)
  known        a known difference: reported, not counted as a failure
The shell functions `keep_stat_edit FILE SED-EXPR` (an edit that keeps size, mtime and
inode) and `replace_keep_stat FILE SED-EXPR` (sed -i: a new inode, same size and mtime) are
defined for every line.

With --keep the trees stay under --work (renamed plain, cold, warm) for inspection; with
--only ID,... only those lines run. Exit status: 0 when every line agrees, 1 otherwise.
"""

import argparse
import concurrent.futures
import difflib
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time

FIXED_MTIME = 1577880000  # 2020-01-01 12:00 UTC: far outside any "recently changed" window

# The fixture tree: path -> text, ("link", target) or ("dir",).
FIXTURE = {
    "include/util.h": "#ifndef UTIL_H\n#define UTIL_H\nint util_add(int a, int b);\n"
    "#define UTIL_SCALE 3\n#endif\n",
    "include/once.h": "#pragma once\nstruct once_type { int v; };\n",
    "include/opt.h": "#define OPT_VALUE 17\n",
    "include/pch.h": "#define PCH_VALUE 41\nstatic inline int pch_fn(int x) { return x + PCH_VALUE; }\n",
    "include/sub/deep.h": "#include \"../util.h\"\n#define DEEP 2\n",
    "include/asmdefs.h": "#define ASM_VALUE 99\n",
    "include/linux/kconfig.h": "#define CONFIG_FOO 1\n#define IS_ENABLED(x) (x)\n",
    "include/version.h": "#define VERSION_STRING \"1.2.3\"\n",
    "inc1/shadow.h": "#define SHADOW 1\n",
    "inc2/shadow.h": "#define SHADOW 2\n",
    "my inc/space.h": "#define SPACE_VALUE 7\n",
    "sysinc/sys.h": "static int sys_unused_fn(void) { int unused_in_system_header; return 0; }\n",
    "other/util.h": "#error other/util.h must not be found\n",
    "src/main.c": "#include <stdio.h>\n#include \"util.h\"\n"
    "int util_add(int a, int b) { return a + b; }\n"
    "int main(void) {\n  printf(\"%d %s\\n\", util_add(1, UTIL_SCALE), __FILE__);\n  return 0;\n}\n",
    "src/plain.c": "int plain_value(int x) { return x * 2 + 1; }\n",
    "src/warn.c": "int warn_fn(int x) {\n  int unused_variable;\n  if (x = 3) return 1;\n  return 0;\n}\n",
    "src/err.c": "int err_fn(void) { return undeclared_name; }\n",
    "src/missing_hdr.c": "#include \"does_not_exist.h\"\nint x;\n",
    "src/deep.c": "#include \"sub/deep.h\"\nint deep(void) { return DEEP + UTIL_SCALE; }\n",
    "src/once.c": "#include \"once.h\"\n#include \"once.h\"\nint once_fn(struct once_type* t) { return t->v; }\n",
    "src/computed.c": "#define STR(x) #x\n#define XSTR(x) STR(x)\n#define HDR util.h\n"
    "#include XSTR(HDR)\nint computed(void) { return UTIL_SCALE; }\n",
    "src/hasinc.c": "#if __has_include(\"opt.h\")\n#include \"opt.h\"\n#else\n#define OPT_VALUE 0\n#endif\n"
    "#if __has_include(<no_such_header_here.h>)\n#error found a header that is not there\n#endif\n"
    "int hasinc(void) { return OPT_VALUE; }\n",
    "src/shadow.c": "#include <shadow.h>\nint shadow(void) { return SHADOW; }\n",
    "src/space.c": "#include <space.h>\nint space(void) { return SPACE_VALUE; }\n",
    "src/sys.c": "#include <sys.h>\nint sys_fn(void) { return 1; }\n",
    "src/kernel.c": "int kfn(void) { return IS_ENABLED(CONFIG_FOO); }\n",
    "src/pch.c": "#include \"pch.h\"\nint use_pch(int v) { return pch_fn(v); }\n",
    "src/time.c": "#ifdef __TIME__\nint has_time = 1;\n#endif\n",
    "src/stamp.c": "const char* stamp(void) { return __TIMESTAMP__; }\n",
    "src/date.c": "const char* date(void) { return __DATE__ \" \" __TIME__; }\n",
    "src/vec.c": "void vec(float* restrict a, const float* restrict b, int n) {\n"
    "  for (int i = 0; i < n; ++i) a[i] += b[i] * 2.0f;\n}\n",
    "src/edit.c": "int edit_value(void) { return 1111; }\n",
    "src/edit_hdr.c": "#include \"edit.h\"\nint edit_hdr(void) { return EDIT; }\n",
    "include/edit.h": "#define EDIT 2222\n",
    "src/cxx.cpp": "#include <cstdio>\n#include \"util.h\"\nnamespace {\nstruct S { int v = UTIL_SCALE; };\n}\n"
    "template <typename T> T twice(T v) { return v + v; }\n"
    "int cxx_fn() { S s; std::printf(\"%d\\n\", twice(s.v)); return s.v; }\n",
    "src/cxx_err.cc": "struct A {};\nint f() { A a; return a.missing; }\n",
    "src/cxx_warn.cc": "int g(int x) { int unused; return x; }\n",
    "src/lang.txt": "int from_text_file(void) { return 5; }\n",
    "src/asm.s": "\t.text\n\t.globl asm_fn\nasm_fn:\n\tmovl $42, %eax\n\tret\n",
    "src/pre.S": "#include \"asmdefs.h\"\n\t.data\n\t.globl pre_value\npre_value:\n\t.long ASM_VALUE\n",
    "src/inc.s": "\t.data\n\t.include \"table.inc\"\n",
    "src/table.inc": "\t.long 1, 2, 3\n",
    "src/bad.s": "\t.text\n\tnot_an_instruction %eax\n",
    "src/code.asm": "\t.data\nasm_value:\t.long 7\n",
    "src/blob.bin": "BLOBDATA",
    "src/incbin.c": "__asm__(\".section .rodata\\n.globl blob\\nblob:\\n.incbin \\\"blob.bin\\\"\\n"
    ".byte 0\\n.previous\");\nextern const char blob[];\nconst char* get_blob(void) { return blob; }\n",
    "src/rootinc.c": "#include <include/opt.h>\nint rootinc(void) { return OPT_VALUE; }\n",
    "src/deeplink.c": "#include \"deep.h\"\nint deep_link(void) { return DEEP + UTIL_SCALE; }\n",
    "src/dotdot.c": "#include \"../links/up/../util.h\"\nint dotdot(void) { return UTIL_SCALE; }\n",
    "src/lib/leaf.c": "#include \"../../include/util.h\"\nint leaf(void) { return UTIL_SCALE; }\n",
    "build": ("dir",),
    ".deps": ("dir",),
    "CMakeFiles/app.dir/src": ("dir",),
    "obj": ("dir",),
    # A symlinked source directory and include directory, and ".." through a symlink:
    # links/up/.. is links/ physically, which holds a util.h of its own.
    "linksrc": ("link", "src"),
    "linkinc": ("link", "include/sub"),
    "links/util.h": "#define UTIL_SCALE 4\nint util_add(int a, int b);\n",
    "links/up": ("link", "../include/sub"),
}


def salt_for(path, salt):
    ext = os.path.splitext(path)[1]
    if ext in (".c", ".cc", ".cpp", ".h", ".S"):
        return "/* %s */\n" % salt
    if ext in (".s", ".inc", ".asm"):
        return "# %s\n" % salt
    return ""


def make_fixture(root, salt):
    """Write the fixture under root; salt makes every line's sources differ (a cold miss)."""
    os.makedirs(root)
    links = []
    for path, content in sorted(FIXTURE.items()):
        full = os.path.join(root, path)
        if isinstance(content, tuple):
            if content[0] == "dir":
                os.makedirs(full, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(full), exist_ok=True)
                links.append(full)
                os.symlink(content[1], full)
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(content + salt_for(path, salt))
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    os.utime(root, (FIXED_MTIME, FIXED_MTIME))


def snapshot(root):
    """Every entry under root: relative path -> (type, mode, content digest or link target)."""
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                result[rel] = ("link", 0, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                result[rel] = ("dir", mode, "")
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    result[rel] = ("file", mode, hashlib.sha256(f.read()).hexdigest())
            else:
                result[rel] = ("other", mode, "%o" % stat.S_IFMT(st.st_mode))
    return result


PRELUDE = r"""
keep_stat_edit() {
  _f=$1; _t=$(stat -c %Y "$_f"); _s=$(stat -c %s "$_f")
  sed "$2" "$_f" >"$_f.edit.tmp" && dd if="$_f.edit.tmp" of="$_f" conv=notrunc status=none && rm -f "$_f.edit.tmp"
  [ "$(stat -c %s "$_f")" = "$_s" ] || { echo "keep_stat_edit: size of $_f changed" >&2; exit 97; }
  touch -d "@$_t" "$_f"
}
replace_keep_stat() {
  _f=$1; _t=$(stat -c %Y "$_f"); _s=$(stat -c %s "$_f")
  sed -i "$2" "$_f"
  [ "$(stat -c %s "$_f")" = "$_s" ] || { echo "replace_keep_stat: size of $_f changed" >&2; exit 97; }
  touch -d "@$_t" "$_f"
}
"""


class Line:
    def __init__(self, table, number, ident, tags, command, families):
        self.table = table
        self.number = number
        self.ident = ident
        self.tags = tags
        self.command = command
        # The compiler families the line runs with: its gcc/clang tags, else the table's.
        self.families = ({"gcc", "clang"} & tags) or families


def read_tables(paths):
    lines = []
    seen = set()
    for path in paths:
        families = {"gcc", "clang"}
        with open(path) as f:
            for number, raw in enumerate(f, 1):
                text = raw.strip()
                if not text or text.startswith("#"):
                    continue
                if text.startswith("%families "):
                    families = set(text.split()[1:])
                    continue
                ident, _, rest = text.partition(" ")
                rest = rest.strip()
                tags = set()
                if rest.startswith("{"):
                    tag_text, _, rest = rest[1:].partition("}")
                    tags = {t.strip() for t in tag_text.split(",") if t.strip()}
                    rest = rest.strip()
                unknown = tags - {"gcc", "clang", "fails", "known"}
                if unknown or not rest or ident in seen:
                    sys.exit("%s:%d: bad row (unknown tag, no command or duplicate id)" % (path, number))
                seen.add(ident)
                lines.append(Line(os.path.basename(path), number, ident, tags, rest, families))
    return lines


FAMILIES = {"gcc": ("gcc", "g++"), "clang": ("clang", "clang++")}


class Job:
    def __init__(self, line, family, work):
        self.line = line
        self.family = family
        self.name = "%s/%s" % (line.ident, family)
        self.dir = os.path.join(work, "%s-%s" % (line.ident, family))
        self.results = {}


def run_phase(job, phase, ccrex, env_base, timeout, keep):
    run = os.path.join(job.dir, "run")
    make_fixture(os.path.join(run, "w"), job.line.ident)
    cc, cxx = FAMILIES[job.family]
    env = dict(env_base)
    env["PLAIN_CC"], env["PLAIN_CXX"] = cc, cxx
    if phase == "plain":
        env["CC"], env["CXX"] = cc, cxx
    else:
        env["CC"], env["CXX"] = "%s %s" % (ccrex, cc), "%s %s" % (ccrex, cxx)
    env["RUN"] = run
    try:
        proc = subprocess.run(
            ["/bin/sh", "-c", PRELUDE + job.line.command],
            cwd=os.path.join(run, "w"),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
        )
        status, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        status, out, err = "timeout", b"", b""
    job.results[phase] = (status, out, err, snapshot(run))
    if keep:
        os.rename(run, os.path.join(job.dir, phase))
    else:
        shutil.rmtree(run)


def describe_difference(job, phase):
    want = job.results["plain"]
    got = job.results[phase]
    problems = []
    if want[0] != got[0]:
        problems.append("exit status: plain %s, %s %s" % (want[0], phase, got[0]))
    for index, stream in ((1, "stdout"), (2, "stderr")):
        if want[index] != got[index]:
            diff = difflib.unified_diff(
                want[index].decode(errors="replace").splitlines(),
                got[index].decode(errors="replace").splitlines(),
                "plain " + stream,
                phase + " " + stream,
                lineterm="",
            )
            problems.append("%s differs:\n      %s" % (stream, "\n      ".join(list(diff)[:40])))
    files_want, files_got = want[3], got[3]
    for path in sorted(set(files_want) | set(files_got)):
        a, b = files_want.get(path), files_got.get(path)
        if a == b:
            continue
        if a is None:
            problems.append("%s: only after the %s run %s" % (path, phase, b[:2]))
        elif b is None:
            problems.append("%s: missing after the %s run (plain: %s)" % (path, phase, a[:2]))
        else:
            problems.append("%s: plain %s, %s %s" % (path, a, phase, b))
    return problems


def ccrex_stats(ccrex, env):
    out = subprocess.run([ccrex, "--print-stats"], env=env, stdout=subprocess.PIPE, check=True)
    stats = {}
    for row in out.stdout.decode().splitlines():
        name, _, value = row.partition("\t")
        if value.strip().isdigit() and not name.startswith("store_bytes_"):
            stats[name] = int(value)
    return stats


def stats_delta(before, after):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ccrex", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--families", default="gcc,clang")
    parser.add_argument("--only", default="", help="comma-separated line ids")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the trees of every run")
    parser.add_argument("tables", nargs="+")
    args = parser.parse_args()

    lines = read_tables(args.tables)
    only = {x for x in args.only.split(",") if x}
    families = [f for f in args.families.split(",") if f]
    jobs = []
    for line in lines:
        if only and line.ident not in only:
            continue
        for family in families:
            if family in line.families:
                jobs.append(Job(line, family, args.work))

    env = {k: v for k, v in os.environ.items()}
    for var in ("GCC_COLORS", "SOURCE_DATE_EPOCH", "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH",
                "DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES", "GCC_EXEC_PREFIX", "COMPILER_PATH",
                "GCC_COMPARE_DEBUG", "COLUMNS", "TERM"):
        env.pop(var, None)
    env["LC_ALL"] = "C"

    started = time.time()
    counters = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for phase in ("plain", "cold", "warm"):
            before = ccrex_stats(args.ccrex, env)
            t0 = time.time()
            list(pool.map(lambda j: run_phase(j, phase, args.ccrex, env, args.timeout, args.keep), jobs))
            counters[phase] = (time.time() - t0, stats_delta(before, ccrex_stats(args.ccrex, env)))

    failed, known, bad_rows = [], [], []
    for job in jobs:
        status = job.results["plain"][0]
        if ("fails" in job.line.tags) != (status != 0):
            bad_rows.append("%s (%s:%d): the plain run exited %s%s:\n      %s" % (
                job.name, job.line.table, job.line.number, status,
                " but the row is tagged fails" if "fails" in job.line.tags else "",
                job.results["plain"][2].decode(errors="replace").replace("\n", "\n      ")))
        problems = []
        for phase in ("cold", "warm"):
            problems += ["%s: %s" % (phase, p) for p in describe_difference(job, phase)]
        if problems:
            entry = "%s (%s:%d): %s\n    %s" % (job.name, job.line.table, job.line.number,
                                                job.line.command, "\n    ".join(problems))
            (known if "known" in job.line.tags else failed).append(entry)
        elif "known" in job.line.tags:
            failed.append("%s (%s:%d): tagged known but now agrees; remove the tag" % (
                job.name, job.line.table, job.line.number))

    for phase, (seconds, delta) in counters.items():
        print("%-5s %6.1f s  %s" % (phase, seconds, " ".join("%s=%d" % kv for kv in sorted(delta.items()))))
    print("%d lines, %d runs of each phase, %.1f s" % (len({j.line.ident for j in jobs}), len(jobs),
                                                       time.time() - started))
    for entry in known:
        print("KNOWN DIFFERENCE " + entry)
    for entry in bad_rows:
        print("BAD ROW " + entry)
    for entry in failed:
        print("DIFFERS " + entry)
    if failed or bad_rows:
        return 1
    if not counters["warm"][1].get("hit_local", 0):
        print("no warm run was served from the store")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
