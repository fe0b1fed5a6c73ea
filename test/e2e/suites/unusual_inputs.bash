# Files the compiler reads besides the source and its #includes, and what makes an object
# depend on more than its inputs: assembly sources and the assembler's .include/.incbin,
# #pragma GCC dependency, ".." after a symlink, trigraphs and digraphs, precompiled headers,
# __DATE__/__TIME__/__TIMESTAMP__, the compiler's environment, and outputs that are not
# regular files. Each case runs through ccrex (embedded server) and with the plain compiler
# and compares exit code, stdout, stderr and the object; a compile that has to run locally
# must say why in a counter.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_unusual_inputs_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
  command -v mkfifo >/dev/null || echo "mkfifo not found"
}

SUITE_unusual_inputs_SETUP() {
  isolate_test
  unset SOURCE_DATE_EPOCH GCC_COMPARE_DEBUG GCC_EXEC_PREFIX COMPILER_PATH CPATH C_INCLUDE_PATH
}

# same_as_plain CC ARGS...: `CC ARGS... -o plain.o` and `ccrex CC ARGS... -o out.o` end
# with the same exit code, stdout and stderr, and write the same object (or none).
same_as_plain() {
  rm -f plain.o out.o
  "$@" -o plain.o >plain_stdout.txt 2>plain_stderr.txt
  local plain_status=$?
  expect_exit $plain_status "$CCREX" "$@" -o out.o
  expect_same_file stdout.txt plain_stdout.txt
  cmp -s stderr.txt plain_stderr.txt \
    || test_failed "stderr differs: ccrex: $(cat stderr.txt) plain: $(cat plain_stderr.txt)"
  if [[ -f plain.o ]]; then
    expect_same_file out.o plain.o
  else
    expect_missing out.o
  fi
}

# changed_and_same CC ARGS...: like same_as_plain, after a change that must change the
# plain object (the previous one is kept as previous.o).
changed_and_same() {
  cp plain.o previous.o
  same_as_plain "$@"
  cmp -s plain.o previous.o && test_failed "the change did not change the plain object"
  return 0
}

SUITE_unusual_inputs() {
  local cc
  for cc in gcc clang; do
    TEST "$cc: plain assembly (.s) is compiled remotely with its source"
    printf '\t.globl answer\n\t.data\nanswer:\t.long 42\n' >x.s
    same_as_plain $cc -c x.s
    same_as_plain $cc -c x.s
    expect_stats miss_executed=1 hit_local=1
    printf '\t.globl answer\n\t.data\nanswer:\t.long 43\n' >x.s
    changed_and_same $cc -c x.s
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: -x assembler on a file without the extension"
    printf '\t.data\nvalue:\t.long 7\n' >code.asm
    same_as_plain $cc -x assembler -c code.asm
    expect_stats miss_executed=1

    TEST "$cc: preprocessed assembly (.S) with #include and .include"
    mkdir inc
    printf '#define VALUE 5\n' >inc/defs.h
    printf '\t.long 11\n' >table.inc
    printf '#include "defs.h"\n\t.data\n\t.long VALUE\n\t.include "table.inc"\n' >x.S
    same_as_plain $cc -Iinc -c x.S
    printf '\t.long 12\n' >table.inc
    changed_and_same $cc -Iinc -c x.S
    printf '#define VALUE 6\n' >inc/defs.h
    changed_and_same $cc -Iinc -c x.S
    expect_stats miss_executed=3

    TEST "$cc: .include and .incbin found through -I and -Wa,-I"
    mkdir inc wa
    printf '\t.long 1\n' >inc/first.inc
    printf 'BLOB' >wa/blob.bin
    printf '\t.data\n\t.include "first.inc"\n\t.incbin "blob.bin"\n' >x.s
    same_as_plain $cc -Iinc -Wa,-Iwa -c x.s
    printf 'BLOB2' >wa/blob.bin
    changed_and_same $cc -Iinc -Wa,-Iwa -c x.s
    # A file of the same name in the working directory comes first.
    printf '\t.long 2\n' >first.inc
    changed_and_same $cc -Iinc -Wa,-Iwa -c x.s
    expect_stats miss_executed=3

    TEST "$cc: asm(\".incbin\") in C reads a data file"
    mkdir data
    printf 'payload-1' >data/blob.bin
    cat >res.c <<'SRC'
__asm__(".section .rodata\n.globl blob\nblob:\n.incbin \"blob.bin\"\n.byte 0\n.previous");
extern const char blob[];
const char* get(void) { return blob; }
SRC
    same_as_plain $cc -Idata -c res.c
    same_as_plain $cc -Idata -c res.c
    printf 'payload-22' >data/blob.bin
    changed_and_same $cc -Idata -c res.c
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: an .incbin whose file is named by a macro runs locally"
    printf 'data' >blob.bin
    printf '#define BLOB "blob.bin"\n__asm__(".section .rodata\\n.incbin \\"" BLOB "\\"");\n' >m.c
    same_as_plain $cc -c m.c
    expect_stats local_asm_include=1

    TEST "$cc: #pragma GCC dependency runs locally (it compares file times)"
    printf 'grammar' >parse.y
    printf '#pragma GCC dependency "parse.y"\nint parsed;\n' >gen.c
    touch -d '2020-01-01' gen.c
    same_as_plain $cc -c gen.c
    expect_contains stderr.txt "parse.y"
    expect_stats local_pragma_dependency=1

    TEST "$cc: \"..\" after a symlink to a directory follows the kernel"
    mkdir -p a/b
    printf '#define WHERE 1\n' >a/h.h
    printf '#define WHERE 2\n' >h.h
    ln -s a/b sym
    printf '#include "sym/../h.h"\nint where(void) { return WHERE; }\n' >x.c
    same_as_plain $cc -c x.c
    printf '#include <h.h>\nint where(void) { return WHERE; }\n' >y.c
    same_as_plain $cc -Isym/.. -c y.c
    expect_stats local_symlink_dotdot=2

    TEST "$cc: \"..\" after a directory that holds no input"
    mkdir sub inc other
    printf '#define WHERE 1\n' >inc/h.h
    printf '#define WHERE 2\n' >other/h.h
    printf '#include <h.h>\nint where(void) { return WHERE; }\n' >x.c
    # Without sub/ on the remote side, sub/../inc would be skipped and other/h.h read.
    same_as_plain $cc -Isub/../inc -Iother -c x.c
    expect_stats local_dotdot_directory=1
    # A directory that holds an input is there.
    printf '#define SUB 1\n' >sub/s.h
    printf '#include "sub/s.h"\n#include <h.h>\nint where(void) { return WHERE + SUB; }\n' >y.c
    same_as_plain $cc -Isub/../inc -Iother -c y.c
    expect_stats local_dotdot_directory=1 miss_executed=1

    TEST "$cc: trigraphs as the standard in effect defines them"
    printf '#define TRI 3\n' >tri.h
    printf '??=include "tri.h"\nint tri(void) { return TRI; }\n' >t.c
    same_as_plain $cc -std=c99 -c t.c
    expect_stats miss_executed=1 depend_compiler=1
    printf '#define TRI 4\n' >tri.h
    changed_and_same $cc -std=c99 -c t.c
    # GNU modes ignore trigraphs: the line is an error there, with and without ccrex.
    same_as_plain $cc -std=gnu99 -w -c t.c
    # Digraphs are always on.
    printf '#define DI 5\n' >di.h
    printf '%%:include "di.h"\nint di(void) <%% return DI; %%>\n' >d.c
    same_as_plain $cc -c d.c
    printf '#define DI 6\n' >di.h
    changed_and_same $cc -c d.c

    TEST "$cc: __DATE__ and __TIME__ are not served from the cache"
    printf 'const char* stamp(void) { return __DATE__ " " __TIME__; }\n' >time.c
    expect_exit 0 "$CCREX" $cc -c time.c -o first.o
    sleep 1.1
    expect_exit 0 "$CCREX" $cc -c time.c -o second.o
    cmp -s first.o second.o && test_failed "the second compile reused the first one's time"
    expect_stats local_time_macros=2

    TEST "$cc: __TIMESTAMP__ follows the source's modification time"
    printf 'const char* when(void) { return __TIMESTAMP__; }\n' >stamp.c
    touch -d '2021-03-04 05:06:07' stamp.c
    same_as_plain $cc -c stamp.c
    touch -d '2022-03-04 05:06:07' stamp.c
    changed_and_same $cc -c stamp.c
    expect_stats local_time_macros=2
  done

  TEST "SOURCE_DATE_EPOCH pins __DATE__ and __TIME__ for gcc, not for clang 14"
  printf 'const char* stamp(void) { return __DATE__ " " __TIME__; }\n' >time.c
  export SOURCE_DATE_EPOCH=1600000000
  same_as_plain gcc -c time.c
  same_as_plain gcc -c time.c
  expect_stats miss_executed=1 hit_local=1
  export SOURCE_DATE_EPOCH=1700000000
  changed_and_same gcc -c time.c
  # clang honours the variable from version 16 on; ccrex does not know the version.
  expect_exit 0 "$CCREX" clang -c time.c -o out.o
  expect_stats miss_executed=2 hit_local=1 local_time_macros=1
  unset SOURCE_DATE_EPOCH

  TEST "gcc: a precompiled header next to the header is what gcc reads"
  printf '#define PCH_VALUE 1\n' >all.h
  gcc -x c-header all.h -o all.h.gch || test_failed "cannot build the PCH"
  # The header changes after the PCH was built: gcc still takes the PCH.
  printf '#define PCH_VALUE 2\n' >all.h
  printf '#include "all.h"\nint value(void) { return PCH_VALUE; }\n' >p.c
  same_as_plain gcc -c p.c
  same_as_plain gcc -include all.h -c p.c
  expect_stats local_precompiled_header=2

  TEST "gcc: a precompiled header in an earlier directory, without the header"
  mkdir pch src
  printf '#define PCH_VALUE 1\n' >src/all.h
  gcc -x c-header src/all.h -o pch/all.h.gch || test_failed "cannot build the PCH"
  printf '#define PCH_VALUE 3\n' >src/all.h
  printf '#include <all.h>\nint value(void) { return PCH_VALUE; }\n' >src/p.c
  same_as_plain gcc -Ipch -Isrc -c src/p.c
  expect_stats local_precompiled_header=1

  TEST "clang: -include picks up a .pch"
  printf '#define PCH_VALUE 1\n' >all.h
  clang -x c-header all.h -o all.h.pch || test_failed "cannot build the PCH"
  printf 'int value(void) { return PCH_VALUE; }\n' >p.c
  same_as_plain clang -include all.h -c p.c
  expect_stats local_precompiled_header=1

  TEST "environment: each variable is forwarded and keyed, or makes the compile local"
  printf 'int f(void) { return 1; }\n' >e.c
  GCC_COMPARE_DEBUG=1 same_as_plain gcc -c e.c
  GCC_EXEC_PREFIX=/usr/lib/gcc/ same_as_plain gcc -c e.c
  COMPILER_PATH=/usr/bin same_as_plain gcc -c e.c
  CCC_OVERRIDE_OPTIONS=+-DX=1 same_as_plain clang -c e.c
  expect_stats local_compiler_env=4
  # The include path variables are searched by the scanner and part of the key.
  mkdir one two
  printf '#define ENV_DIR 1\n' >one/env.h
  printf '#define ENV_DIR 2\n' >two/env.h
  printf '#include <env.h>\nint f(void) { return ENV_DIR; }\n' >e.c
  CPATH=one same_as_plain gcc -c e.c
  CPATH=two changed_and_same gcc -c e.c
  C_INCLUDE_PATH=one changed_and_same gcc -c e.c
  expect_stats local_compiler_env=4 miss_executed=3

  TEST "outputs that are not regular files are left to the compiler"
  printf 'int f(void) { return 1; }\n' >o.c
  # A FIFO: the assembler cannot seek in it, with or without ccrex; the FIFO stays.
  # (The readers give up after a while, so that a run that never opens the FIFO fails.)
  mkfifo pipe.o
  timeout 20 cat pipe.o >/dev/null &
  local reader=$!
  gcc -c o.c -o pipe.o 2>plain_stderr.txt
  local plain_status=$?
  wait $reader
  timeout 20 cat pipe.o >/dev/null &
  reader=$!
  expect_exit $plain_status "$CCREX" gcc -c o.c -o pipe.o
  [[ -p pipe.o ]] || test_failed "the FIFO was replaced"
  wait $reader
  # A symlink to a device: the compiler writes through it.
  ln -s /dev/null null.o
  expect_exit 0 "$CCREX" gcc -c o.c -o null.o
  [[ -L null.o ]] || test_failed "the symlink to /dev/null was replaced"
  # A directory: the compiler fails on it.
  mkdir dir.o
  gcc -c o.c -o dir.o 2>plain_stderr.txt
  plain_status=$?
  expect_exit $plain_status "$CCREX" gcc -c o.c -o dir.o
  expect_contains stderr.txt "dir.o"
  [[ -d dir.o ]] || test_failed "the directory was replaced"
  # The dependency file counts too.
  gcc -c o.c -MD -MF /dev/null -o plain.o
  expect_exit 0 "$CCREX" gcc -c o.c -MD -MF /dev/null -o out.o
  expect_same_file out.o plain.o
  expect_stats local_output_not_regular=4

  TEST "-fopt-info=FILE appends to the file, as gcc does"
  printf 'int s(int* a) { int t = 0; for (int i = 0; i < 64; ++i) t += a[i]; return t; }\n' >v.c
  printf 'old report\n' >plain.txt
  printf 'old report\n' >via.txt
  gcc -O3 -fopt-info-vec-all=plain.txt -c v.c -o plain.o
  expect_exit 0 "$CCREX" gcc -O3 -fopt-info-vec-all=via.txt -c v.c -o out.o
  expect_same_file out.o plain.o
  [[ $(head -n 1 via.txt) == "old report" ]] || test_failed "the report was not appended"
  [[ $(wc -l <via.txt) == "$(wc -l <plain.txt)" ]] || test_failed "the reports differ in length"
  expect_stats local_too_hard_option=1
}
