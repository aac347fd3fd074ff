"""Cache of judge replies, keyed by a hash of (backend id, prompt).

Only successful replies are stored (a failure is retried next time). Entries live in
memory and, when ``path`` is given, in a SQLite file that survives restarts and can
be shared by processes on one machine.
"""

from __future__ import annotations

import hashlib
import threading

__all__ = ["JudgementCache", "cache_key"]


def cache_key(backend_id: str, prompt: str) -> str:
    """SHA-256 of the backend id and the prompt.

    Examples
    --------
    >>> cache_key("callable:x", "hi") == cache_key("callable:x", "hi")
    True
    >>> cache_key("callable:x", "hi") == cache_key("callable:y", "hi")
    False
    """
    digest = hashlib.sha256()
    digest.update(backend_id.encode("utf-8"))
    digest.update(b"\0")
    digest.update(prompt.encode("utf-8"))
    return digest.hexdigest()


class JudgementCache:
    """In-memory (and optionally on-disk SQLite) store of judge replies.

    Parameters
    ----------
    path : str or os.PathLike, optional
        SQLite file; created when missing. ``None`` keeps the cache in memory only.

    Examples
    --------
    >>> cache = JudgementCache()
    >>> cache.get("b", "p") is None
    True
    >>> cache.put("b", "p", "Score: 3"); cache.get("b", "p"), len(cache)
    ('Score: 3', 1)
    """

    def __init__(self, path=None):
        self.path = path
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()
        self._connection = None

    def _db(self):
        if self.path is None:
            return None
        if self._connection is None:
            import sqlite3

            self._connection = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS judgements (key TEXT PRIMARY KEY, reply TEXT NOT NULL)"
            )
            self._connection.commit()
        return self._connection

    def get(self, backend_id: str, prompt: str) -> str | None:
        """Return the stored reply, or ``None``."""
        key = cache_key(backend_id, prompt)
        with self._lock:
            if key in self._memory:
                return self._memory[key]
            db = self._db()
            if db is None:
                return None
            row = db.execute("SELECT reply FROM judgements WHERE key = ?", (key,)).fetchone()
            if row is not None:
                self._memory[key] = row[0]
            return None if row is None else row[0]

    def put(self, backend_id: str, prompt: str, reply: str) -> None:
        """Store a reply.

        Parameters
        ----------
        backend_id : str
            Identifies the judge backend (model and settings); part of the key.
        prompt : str
            The judge prompt; part of the key.
        reply : str
            The backend's reply, kept in memory and, with a path, in SQLite.
        """
        key = cache_key(backend_id, prompt)
        with self._lock:
            self._memory[key] = reply
            db = self._db()
            if db is not None:
                db.execute(
                    "INSERT OR REPLACE INTO judgements (key, reply) VALUES (?, ?)", (key, reply)
                )
                db.commit()

    def __len__(self) -> int:
        with self._lock:
            db = self._db()
            if db is None:
                return len(self._memory)
            return db.execute("SELECT COUNT(*) FROM judgements").fetchone()[0]

    def close(self) -> None:
        """Close the SQLite connection (the in-memory entries stay)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __getstate__(self):
        return {"path": self.path, "_memory": dict(self._memory)}

    def __setstate__(self, state):
        self.__init__(state["path"])
        self._memory.update(state["_memory"])
