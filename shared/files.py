"""Files only the service's own user may read: key files, SQLite databases, the embedded event log.

Created private from their first byte (mode 0600, directories 0700) rather than chmod-ed after
the fact, so there is no moment at which another local user could open them. A database file
that already exists with a wider mode is narrowed when a service opens it; SQLite creates a
database's ``-wal`` and ``-shm`` files with the mode of the database file, so they follow.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """``path`` and its missing parents, each created 0700; directories that exist are left alone
    (a data directory the operator made keeps the mode they chose)."""
    path = Path(path)
    missing: list[Path] = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)  # the umask only narrows; make the mode exact
    return missing[0] if missing else path


def private_file(path: Path) -> Path:
    """An empty 0600 file at ``path`` if there is none; an existing file readable by others is
    narrowed to 0600 (e.g. a database created by an older version)."""
    path = Path(path)
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a temporary file renamed over it), 0600 throughout."""
    path = Path(path)
    private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as out:
        os.fchmod(fd, FILE_MODE)  # a stale temporary file keeps its old mode otherwise
        out.write(text)
    os.replace(tmp, path)
