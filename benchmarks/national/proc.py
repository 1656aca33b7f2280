"""Child processes with their own peak memory.

``os.wait4`` returns the child's rusage: ru_maxrss (KiB) is the peak of the largest single process among the
child and the descendants it waited for, exact but not summed, and counting the time before ``exec``: a
child forked from this process starts with this process's resident pages, so a small command run from a
large benchmark process reports the benchmark's size. It is used only when it exceeds what this process held
at the start. A stage whose work runs in worker processes at the same time (a pool writing PDFs) needs the
sum, so a thread also samples the child's process tree every 0.1 s (``TreePeak``): the summed RSS (pages
shared between processes count once per process) and the child's own high-water mark since ``exec``
(``VmHWM``, exact between samples). The peak recorded is the largest of these.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parents[1]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment plus ``benchmarks/`` on PYTHONPATH, so that ``python -m national.x`` works."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH_DIR), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def _status_kib(pid: int | str, field: str = "VmRSS") -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:  # gone since it was listed
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc/<pid>/task/<tid>/children``)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for tid in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{tid}/children", encoding="ascii") as children:
                    todo += [int(c) for c in children.read().split()]
        except OSError:
            pass
    return found


class TreePeak:
    """The largest summed RSS of a process tree, sampled on a thread until ``stop``."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self.parent_kib = _status_kib("self")  # what a forked child starts with (see the module's docstring)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            summed = sum(_status_kib(p) for p in _tree(self.pid))
            self.peak_kib = max(self.peak_kib, summed, _status_kib(self.pid, "VmHWM"))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def reap(proc: subprocess.Popen[str], what: str, tree: TreePeak) -> float:
    """Wait for ``proc``; its peak RSS in MiB (see the module's docstring). RuntimeError when it failed."""
    _, status, usage = os.wait4(proc.pid, 0)
    sampled = tree.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{what}: exit code {proc.returncode} (its stderr is above)")
    own_kib = usage.ru_maxrss if usage.ru_maxrss > tree.parent_kib * 1.02 or not sampled else 0
    return max(own_kib / 1024, sampled)


@dataclass
class Command:
    """One finished command: wall seconds (perf_counter around start to exit) and peak RSS."""

    args: list[str]
    seconds: float
    peak_mib: float


def run(args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Command:
    """Run a command to its end (stdout discarded, stderr shown), timed from start to exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(args), cwd=cwd, env=env or child_env(), stdout=subprocess.DEVNULL, text=True)
    peak = reap(proc, " ".join(args), TreePeak(proc.pid))
    return Command(list(args), time.perf_counter() - start, peak)


def python_module(module: str, *args: str, cwd: Path) -> Command:
    return run([sys.executable, "-m", module, *args], cwd=cwd)


@dataclass
class Stage:
    """A ``national.stage`` child: started (its setup runs) on construction, timed part on ``go``."""

    name: str
    data: Path
    work: Path
    setup_mib: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    peak_mib: float | None = None

    def __post_init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "national.stage", self.name, str(self.data), str(self.work)],
            cwd=self.work,
            env=child_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.tree = TreePeak(self.proc.pid)
        line = self._line()
        if not line.startswith("ready "):
            self.finish()
            raise RuntimeError(f"stage {self.name}: no ready line ({line!r})")
        self.setup_mib = float(line.split()[1])

    def _line(self) -> str:
        stdout: IO[str] | None = self.proc.stdout
        assert stdout is not None
        return stdout.readline()

    def go(self) -> None:
        """The timed part: tell the child to run its stage and wait until it says it is done."""
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write("go\n")
        stdin.flush()
        line = self._line()
        if not line.startswith("done "):
            self.finish()
            raise RuntimeError(f"stage {self.name}: failed ({line!r})")
        self.info = json.loads(line[5:])

    def finish(self) -> float:
        """Close the pipes, wait for the child to exit; its peak RSS in MiB."""
        if self.peak_mib is None:
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe is not None:
                    pipe.close()
            self.peak_mib = 0.0  # reaped once only, even when reap raises
            self.peak_mib = reap(self.proc, f"stage {self.name}", self.tree)
        return self.peak_mib
