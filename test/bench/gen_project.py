#!/usr/bin/env python3
"""Generate a C++ project for the benchmark: TUS translation units sharing a header graph
of project headers (in several directories, including each other) plus standard library
headers, and a build.ninja whose compile rule is prefixed by $launcher."""
import os
import random
import sys

STD = ["vector", "string", "map", "unordered_map", "memory", "algorithm", "functional",
       "iostream", "sstream", "optional", "variant", "set", "deque", "chrono", "thread",
       "mutex", "tuple", "array", "numeric", "regex"]


def main(out, tus=200, headers=300, dirs=10, seed=42):
    rnd = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    names = [f"lib{i % dirs}/h{i}.h" for i in range(headers)]
    for i, name in enumerate(names):
        path = os.path.join(out, "include", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        deps = rnd.sample(names[:i], min(i, 3)) if i else []
        stds = rnd.sample(STD, 2)
        with open(path, "w") as f:
            f.write("#pragma once\n")
            f.writelines(f"#include <{s}>\n" for s in stds)
            f.writelines(f'#include "{d}"\n' for d in deps)
            f.write(f"namespace p{i} {{ inline int value(int x) {{ return x * {i + 1}; }}\n"
                    f"struct S{i} {{ std::vector<int> v; int get() const {{ return "
                    f"static_cast<int>(v.size()) + {i}; }} }}; }}\n")
    for t in range(tus):
        incs = rnd.sample(names, 20)
        with open(os.path.join(out, f"tu{t}.cpp"), "w") as f:
            f.writelines(f'#include "{h}"\n' for h in incs)
            f.write(f"int tu{t}(int x) {{ int s = 0;\n")
            for h in incs[:5]:
                n = names.index(h)
                f.write(f"  s += p{n}::value(x) + p{n}::S{n}{{}}.get();\n")
            f.write("  return s; }\n")
    with open(os.path.join(out, "build.ninja"), "w") as f:
        f.write("launcher =\ncxx = g++\n")
        f.write("rule cc\n  command = $launcher $cxx -O1 -Iinclude -c $in -o $out\n")
        for t in range(tus):
            f.write(f"build obj/tu{t}.o: cc tu{t}.cpp\n")


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:]))
