#!/usr/bin/env python3
"""Print a Bazel --experimental_remote_grpc_log file as text.

The log is a stream of length-delimited remote_logging.LogEntry messages (one per gRPC call:
method name, request, response, status). Each entry is decoded with `protoc --decode`
against the .proto files of Debian's bazel-bootstrap-source package, so no Python protobuf
module is needed.

Usage: decode_grpc_log.py [--errors] LOG [PROTO_ROOT]
--errors prints only the calls that ended with a non-OK status, leaving out the
NOT_FOUND answers of ActionCache/GetActionResult (ordinary cache misses).
PROTO_ROOT defaults to /usr/src/bazel-bootstrap.
"""

import subprocess
import sys


def read_varint(data, pos):
    """Return (value, next position) of the base-128 varint at data[pos]."""
    value = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def entries(data):
    """Yield the serialized messages of a length-delimited stream."""
    pos = 0
    while pos < len(data):
        size, pos = read_varint(data, pos)
        if pos + size > len(data):
            raise ValueError("truncated entry at offset %d" % pos)
        yield data[pos:pos + size]
        pos += size


def failed(text):
    """Whether a decoded LogEntry carries a non-OK status other than a cache miss."""
    text = "\n" + text
    if "\nstatus {\n  code: " not in text:  # OK has no `code` field
        return False
    miss = "\nstatus {\n  code: 5\n" in text and "ActionCache/GetActionResult" in text
    return not miss


def main(argv):
    errors_only = len(argv) > 1 and argv[1] == "--errors"
    if errors_only:
        argv = argv[:1] + argv[2:]
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    root = argv[2] if len(argv) > 2 else "/usr/src/bazel-bootstrap"
    includes = [
        "-I" + root,
        "-I" + root + "/third_party/remoteapis",
        "-I" + root + "/third_party/googleapis",
        "-I/usr/include",
    ]
    with open(argv[1], "rb") as f:
        data = f.read()
    for index, blob in enumerate(entries(data)):
        result = subprocess.run(
            ["protoc"] + includes +
            ["--decode=remote_logging.LogEntry", "src/main/protobuf/remote_execution_log.proto"],
            input=blob, capture_output=True, check=False)
        text = result.stdout.decode("utf-8", "replace")
        if errors_only and result.returncode == 0 and not failed(text):
            continue
        print("==== entry %d" % index)
        sys.stdout.write(text)
        if result.returncode != 0:
            sys.stdout.write(result.stderr.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
