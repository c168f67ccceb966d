"""The durable spool: one JSON file per accepted alert, on disk (fsync) before the webhook is answered.

    spool = Spool(Path("/var/spool/alert-bridge"), max_records=5000)
    name = spool.put(record)      # <ns-time>-<id>.json, written to a temporary file, fsynced, renamed
    spool.update(name, record)    # the same atomic replace (e.g. context gathered, attempts counted)
    spool.remove(name)            # delivered
    spool.dead(name, reason)      # refused for good by GitHub: kept in failed/ for a person

A write interrupted by a crash leaves at most a ``*.tmp`` file, removed at the next start; a record
is either entirely there or not at all. Names sort by acceptance time, so delivery keeps that order.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["Spool", "SpoolFull"]


class SpoolFull(RuntimeError):
    """The spool holds ``max_records`` undelivered alerts: refuse new ones (Alertmanager retries)."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(self, directory: Path, max_records: int = 5000):
        self.directory = Path(directory)
        self.failed_dir = self.directory / "failed"
        self.max_records = max_records
        self.directory.mkdir(parents=True, exist_ok=True)
        self.failed_dir.mkdir(exist_ok=True)
        self._lock = threading.Lock()
        for leftover in self.directory.glob("*.tmp"):
            leftover.unlink()
        self._names = {p.name for p in self.directory.glob("*.json")}

    def _write(self, path: Path, record: dict[str, Any]) -> None:
        tmp = path.with_name(path.name + ".%s.tmp" % uuid.uuid4().hex[:8])
        data = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(self.directory)

    def put(self, record: dict[str, Any]) -> str:
        with self._lock:
            if len(self._names) >= self.max_records:
                raise SpoolFull("the spool holds %d undelivered alerts (its limit)" % len(self._names))
            name = "%020d-%s.json" % (time.time_ns(), uuid.uuid4().hex[:12])
            self._write(self.directory / name, record)
            self._names.add(name)
            return name

    def update(self, name: str, record: dict[str, Any]) -> None:
        with self._lock:
            if name in self._names:
                self._write(self.directory / name, record)

    def load(self, name: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.directory / name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def remove(self, name: str) -> None:
        with self._lock:
            (self.directory / name).unlink(missing_ok=True)
            _fsync_dir(self.directory)
            self._names.discard(name)

    def dead(self, name: str, reason: str) -> None:
        """Move a record GitHub refused for good to failed/, with the reason."""
        with self._lock:
            record = self.load(name) or {}
            record["failed_reason"] = reason
            (self.failed_dir / name).write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
            (self.directory / name).unlink(missing_ok=True)
            _fsync_dir(self.directory)
            self._names.discard(name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._names)

    def __len__(self) -> int:
        with self._lock:
            return len(self._names)

    def failed(self) -> int:
        return sum(1 for _ in self.failed_dir.glob("*.json"))
