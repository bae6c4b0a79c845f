"""Child processes the tests start (odr dev, odr serve, coturn)."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Ask the process to stop (SIGTERM: a graceful shutdown is part of what is tested), and kill
    it if it has not stopped within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
