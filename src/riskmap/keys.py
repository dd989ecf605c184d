"""The secret key that seals the audit trail, checkpoints and backups, kept OUT of the database.

A hash chain anyone can recompute proves nothing against someone who can rewrite the table
(a database administrator drops the append-only triggers, edits an event and re-chains
everything after it). So every event's hash is an HMAC-SHA256 under a key the database
never holds; checkpoints (`riskmap audit checkpoint`) and backups are signed with it too.

Where the key is, first found wins:

1. `RISKMAP_AUDIT_KEY`: the key itself (at least 32 characters; use
   `python -c "import secrets; print(secrets.token_hex(32))"`). Several keys separated by
   commas, oldest first, when keys have been rotated: the last one seals, all verify.
2. `RISKMAP_AUDIT_KEY_FILE`: a key file (below).
3. `audit.key` beside the SQLite database file (`./data/audit.key` for the default
   database, and for PostgreSQL), created on first use with a warning. So `make run` and
   `make test` work on a fresh machine; an installation that matters sets 1 or 2.

A key file holds one key a line, `riskmap-audit-key ID HEX`, oldest first; the last seals.
`riskmap audit rotate-key` appends a new key (and records the rotation in the trail);
retired keys stay in the file so that older events and checkpoints still verify. Keep the
file readable only by riskmap (created 0600), and back it up apart from the database:
whoever holds both can forge, and a restore on another machine needs the same file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

ENV_KEY = "RISKMAP_AUDIT_KEY"
ENV_FILE = "RISKMAP_AUDIT_KEY_FILE"
FILE_NAME = "audit.key"
MIN_KEY_CHARS = 32
_MARK = "riskmap-audit-key"


class KeyUnavailable(RuntimeError):
    """The key cannot be read (a damaged key file, a key too short): nothing is sealed."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes

    def seal(self, message: bytes) -> str:
        """HMAC-SHA256 of `message`, hex: 64 characters, like the SHA-256 it replaces."""
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def sealing(self) -> hmac.HMAC:
        """The same HMAC fed in parts (`update`), for a message too big to hold at once:
        its `hexdigest()` is `seal` of the parts joined."""
        return hmac.new(self.secret, digestmod=hashlib.sha256)


@dataclass(frozen=True)
class Keyring:
    """Every key that verifies, oldest first; the last one seals. `where` says whence."""

    keys: tuple[Key, ...]
    where: str
    path: Path | None = None

    @property
    def current(self) -> Key:
        return self.keys[-1]

    def by_id(self, key_id: str) -> Key | None:
        return next((k for k in self.keys if k.id == key_id), None)


def key_id(secret: bytes) -> str:
    """A short public name of a key (a hash of it: names the key, reveals nothing)."""
    return hashlib.sha256(b"riskmap key id:" + secret).hexdigest()[:12]


def _from_text(text: str, where: str) -> tuple[Key, ...]:
    keys = []
    for part in (p.strip() for p in text.split(",")):
        if len(part) < MIN_KEY_CHARS:
            raise KeyUnavailable(f"{where}: a key must have at least {MIN_KEY_CHARS} characters")
        secret = part.encode("utf-8")
        keys.append(Key(key_id(secret), secret))
    return tuple(keys)


def _read_file(path: Path) -> tuple[Key, ...]:
    keys = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        try:
            if len(parts) != 3 or parts[0] != _MARK:
                raise ValueError
            secret = bytes.fromhex(parts[2])
        except ValueError:
            raise KeyUnavailable(f"{path}: line {n} is not `{_MARK} ID HEX`") from None
        if len(secret) < MIN_KEY_CHARS // 2 or key_id(secret) != parts[1]:
            raise KeyUnavailable(f"{path}: line {n}: the key does not match its id")
        keys.append(Key(parts[1], secret))
    if not keys:
        raise KeyUnavailable(f"{path}: no key in the file")
    return tuple(keys)


def _line(secret: bytes) -> str:
    return f"{_MARK} {key_id(secret)} {secret.hex()}\n"


def _append_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(_line(secrets.token_bytes(32)))


def _create(path: Path) -> bool:
    """Write a first key file atomically (False if another process made it first): two
    processes starting together must not each seal with a key of their own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".audit-key.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp: mode 0600
            fh.write(_line(secrets.token_bytes(32)))
        os.link(tmp, path)  # fails if the file exists: the first one made wins
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def default_path(url: URL | str | None) -> Path:
    """`audit.key` beside the SQLite database file; `./data/audit.key` otherwise."""
    from riskmap.store.engine import normalise_url  # the store imports this module

    if url is not None:
        parsed = normalise_url(url) if isinstance(url, str) else url
        db = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if db and db != ":memory:" and not db.startswith("file:"):
            return Path(db).expanduser().resolve().parent / FILE_NAME
    return Path.cwd() / "data" / FILE_NAME


_CACHE: dict[tuple, Keyring] = {}


def keyring(url: URL | str | None = None) -> Keyring:
    """The keys for the database at `url` (see the module's docstring for where)."""
    env = os.environ.get(ENV_KEY, "").strip()
    if env:
        return Keyring(_from_text(env, ENV_KEY), f"${ENV_KEY}")
    named = os.environ.get(ENV_FILE, "").strip()
    path = Path(named).expanduser() if named else default_path(url)
    if not path.exists() and _create(path):
        print(
            f"riskmap: created a new audit key in {path}; keep it safe and apart from the "
            f"database's backups (or set ${ENV_KEY} / ${ENV_FILE})",
            file=sys.stderr,
        )
    stat = path.stat()
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
    ring = _CACHE.get(cache_key)
    if ring is None:
        ring = _CACHE[cache_key] = Keyring(_read_file(path), str(path), path)
    return ring


def rotate(ring: Keyring) -> Keyring:
    """Append a new key to the key file (the old ones stay to verify); returns the new ring."""
    if ring.path is None:
        raise KeyUnavailable(
            f"the key comes from ${ENV_KEY}: rotate it there (append a new key after a comma)"
        )
    _append_new_key(ring.path)
    return Keyring(_read_file(ring.path), str(ring.path), ring.path)
