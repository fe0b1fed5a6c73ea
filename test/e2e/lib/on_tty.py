#!/usr/bin/env python3
"""Run a command with its stderr on a new pseudo-terminal.

    on_tty.py OUT -- COMMAND [ARGS...]

Writes every byte the command wrote to the terminal into OUT and exits with the command's
status. stdout stays where it was, so only stderr looks like a terminal to the command.
"""
import os
import pty
import select
import subprocess
import sys


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: on_tty.py OUT -- COMMAND [ARGS...]")
    out_path, command = sys.argv[1], sys.argv[3:]
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    data = b""
    # Read until the command has exited and the terminal is drained. A process the command
    # left behind (an agent it started) may keep the terminal open, so an end of file
    # cannot be waited for.
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every holder of the terminal's other side has closed it
            break
        if not chunk:
            break
        data += chunk
    status = proc.wait()
    os.close(master)
    with open(out_path, "wb") as f:
        f.write(data)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
