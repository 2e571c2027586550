"""Run a call in a fresh Python process and measure what it costs: extra peak memory and wall time.

``run_bounded(setup, call)`` starts ``python -m tests.memory_probe``; the child runs ``setup`` (imports,
reading the crafted file), takes its resident memory as the baseline, then evaluates ``call`` while a
watchdog samples the resident set every 5 ms. The child stops itself as soon as the call uses more than
``max_extra_mb`` above the baseline or runs longer than ``max_seconds``, so a test of a parser that
would eat gigabytes fails in seconds instead of exhausting the machine. The result says how the call
ended (returned, raised which exception with which ``kind``, or was stopped) and the figures measured.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


@dataclass(frozen=True)
class Probe:
    """How the call ended and what it cost.

    ``outcome`` is ``"returned"``, ``"raised"`` or ``"stopped"`` (the watchdog ended it); ``error`` the
    exception's class name, ``kind`` its ``kind`` attribute (``ImportRejected``), ``message`` its text;
    ``extra_mb`` the peak resident memory above the baseline; ``seconds`` the call's wall time.
    """

    outcome: str
    error: str | None
    kind: str | None
    message: str | None
    extra_mb: float
    seconds: float
    value: str | None = None


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_MB


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_bounded(setup: str, call: str, *, max_extra_mb: float = 300, max_seconds: float = 20,
                env: dict[str, str] | None = None) -> Probe:
    """Evaluate ``call`` after ``setup`` in a child process; see the module docstring."""
    spec = json.dumps({"setup": setup, "call": call, "max_extra_mb": max_extra_mb, "max_seconds": max_seconds})
    child_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "tests.memory_probe"], input=spec, capture_output=True, text=True,
        cwd=ROOT, env=child_env, timeout=max_seconds + 120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise AssertionError(f"the probe printed no result (exit {done.returncode}): {done.stderr[-2000:]}")
    return Probe(**json.loads(lines[-1]))


def _child() -> None:
    spec = json.loads(sys.stdin.read())
    scope: dict = {}
    exec(spec["setup"], scope)  # noqa: S102 - the tests' own code
    base_rss, base_max = _rss_mb(), _maxrss_mb()
    peak = [base_rss]
    started = time.perf_counter()
    lock = threading.Lock()

    def report(**fields) -> None:
        with lock:
            extra = max(peak[0] - base_rss, _maxrss_mb() - base_max, 0.0)
            result = {"error": None, "kind": None, "message": None, "value": None, **fields,
                      "extra_mb": round(extra, 1), "seconds": round(time.perf_counter() - started, 2)}
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()

    def watchdog() -> None:
        while True:
            now = _rss_mb()
            peak[0] = max(peak[0], now)
            elapsed = time.perf_counter() - started
            if now - base_rss > spec["max_extra_mb"] or elapsed > spec["max_seconds"]:
                why = "memory" if now - base_rss > spec["max_extra_mb"] else "time"
                report(outcome="stopped", message=f"stopped by the watchdog ({why})")
                os._exit(0)
            time.sleep(0.005)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        value = eval(spec["call"], scope)  # noqa: S307 - the tests' own code
    except BaseException as exc:  # noqa: BLE001 - the outcome is the result
        report(outcome="raised", error=type(exc).__name__, kind=getattr(exc, "kind", None), message=str(exc)[:500])
    else:
        report(outcome="returned", value=None if value is None else repr(value)[:500])
    os._exit(0)


if __name__ == "__main__":
    _child()
