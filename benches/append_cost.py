#!/usr/bin/env python3
"""What a buffered append costs the kernel, with and without space reserved ahead.

Appends 100-byte lines in 400 KiB write(2) calls (the size of the Writer's consumer's
runs) to a new file in DIR, and prints the system time and the wall time per 100 bytes
for four ways of reserving space with fallocate(FALLOC_FL_KEEP_SIZE), three rounds,
alternated:

  none     no reservation (the file system allocates page by page, as it goes);
  whole    the whole file reserved before the first write;
  chunk8   8 MiB reserved whenever less than 4 MiB is left (what Lethe does);
  chunk32  the same with 32 MiB.

Usage: python3 benches/append_cost.py [MIB [FSYNC_MIB [DIR]]]
  MIB        MiB written per case (default 200);
  FSYNC_MIB  fsync every that many MiB (default 0: never);
  DIR        where the file goes (default: the current directory).

docs/BENCHMARKS.md ("Appends into reserved space") has the figures for ext4, XFS and
tmpfs on the development machine.
"""
import ctypes
import os
import resource
import sys
import time

FALLOC_FL_KEEP_SIZE = 1
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]

CHUNK = (b"x" * 99 + b"\n") * 4096  # 400 KiB of 100-byte lines


def reserve(fd, offset, length):
    if libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length) != 0:
        sys.exit(f"fallocate: {os.strerror(ctypes.get_errno())}")


def run(mode, path, total, fsync_every):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o640)
    reserved = 0
    written = synced = 0
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    while written < total:
        if mode == "whole" and reserved == 0:
            reserved = total + len(CHUNK)
            reserve(fd, 0, reserved)
        elif mode.startswith("chunk"):
            size = int(mode[5:]) << 20
            if written + len(CHUNK) + size // 2 > reserved:
                reserve(fd, reserved, size)
                reserved += size
        written += os.write(fd, CHUNK)
        if fsync_every and written - synced >= fsync_every:
            os.fsync(fd)
            synced = written
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    os.close(fd)
    os.unlink(path)
    per = written / 100
    return (after.ru_stime - before.ru_stime) * 1e9 / per, wall * 1e9 / per


def main():
    total = int(sys.argv[1]) << 20 if len(sys.argv) > 1 else 200 << 20
    fsync_every = int(sys.argv[2]) << 20 if len(sys.argv) > 2 else 0
    directory = sys.argv[3] if len(sys.argv) > 3 else "."
    path = os.path.join(directory, "append_cost.tmp")
    for _ in range(3):
        for mode in ("none", "whole", "chunk8", "chunk32"):
            sys_ns, wall_ns = run(mode, path, total, fsync_every)
            print(f"{mode:8} system {sys_ns:5.1f} ns  wall {wall_ns:6.1f} ns  per 100 bytes")


main()
