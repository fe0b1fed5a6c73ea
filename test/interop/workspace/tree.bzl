"""A rule whose single output is a directory (a tree artifact)."""

def _tree_output_impl(ctx):
    out = ctx.actions.declare_directory(ctx.attr.name)
    ctx.actions.run_shell(
        outputs = [out],
        inputs = [ctx.file.src],
        arguments = [out.path, ctx.file.src.path],
        command = "\n".join([
            "set -eu",
            "mkdir -p \"$1/sub/deeper\"",
            "cp \"$2\" \"$1/copy.c\"",
            "echo one > \"$1/a.txt\"",
            "echo two > \"$1/sub/b.txt\"",
            "printf '#!/bin/sh\\necho three\\n' > \"$1/sub/deeper/run.sh\"",
            "chmod +x \"$1/sub/deeper/run.sh\"",
        ]),
        mnemonic = "MakeTree",
        progress_message = "Making tree %s" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]))]

tree_output = rule(
    implementation = _tree_output_impl,
    attrs = {"src": attr.label(allow_single_file = True, mandatory = True)},
)
