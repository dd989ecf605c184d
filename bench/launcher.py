"""A small process that starts the benchmark's subprocesses and reports their own rusage.

Linux keeps a process's peak resident set across fork and exec, so a child started by
the benchmark itself (hundreds of MB once pandas and the demo are loaded) would report
at least the benchmark's size. `bench/commands.py` starts this launcher first, while
the benchmark is still small, and has it start every timed process: one JSON request a
line on stdin ({"argv", "cwd"}), one JSON answer a line on stdout ({"seconds", "rss_kb",
"rc", "err"}). Standard library only.
"""

import json
import os
import subprocess
import sys
import time

for line in sys.stdin:
    req = json.loads(line)
    start = time.perf_counter()
    proc = subprocess.Popen(
        req["argv"], cwd=req["cwd"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    proc.stderr.close()
    answer = {
        "seconds": took,
        "rss_kb": usage.ru_maxrss,
        "rc": os.waitstatus_to_exitcode(status),
        "err": err.decode(errors="replace")[-2000:],
    }
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
