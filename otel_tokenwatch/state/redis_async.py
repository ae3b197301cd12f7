"""One Redis connection on the event loop, for the round trip each release of trees makes.

The blocking connection (redis_store.py) holds the event loop for the whole round trip: over Redis a
tree released alone took ~0.45 ms more than in memory, about half of it waiting for the reply
(bench/latency_scaling.py, bench/HISTORY.md runs 17-19), and a replica over Redis fell behind at a
load it kept up with in memory. On this connection the loop goes on receiving while Redis answers.

It is the least of a client: hiredis packs the command and parses the reply (the parser redis-py
uses); the socket is asyncio's. Not redis.asyncio: its command path (retries, response callbacks,
hooks) is what the blocking path already steps around for its one script (RedisStore._script), and
this connection only ever sends that script. Commands go one at a time (a lock), replies in order.
A timeout or a broken connection closes it (a reply may be half read); the next call connects again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis


class ReplyError(Exception):
    """An error reply from Redis (hiredis's own type, raised)."""


class AsyncRedisConnection:
    def __init__(self, host: str, port: int, username: str | None = None, password: str | None = None,
                 db: int = 0, timeout: float = 1.0) -> None:
        self._host, self._port = host, port
        self._hello: list[tuple[Any, ...]] = []
        if password is not None:
            self._hello.append(("AUTH", username, password) if username else ("AUTH", password))
        if db:
            self._hello.append(("SELECT", db))
        self._timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._parser = hiredis.Reader()
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def call(self, *args: Any) -> Any:
        """One command's reply; an error reply raised as ReplyError; a transport failure as OSError
        or TimeoutError (the connection closed)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new loop (its lock and socket were the old loop's)
            self.close()
            self._loop, self._lock = loop, asyncio.Lock()
        assert self._lock is not None
        async with self._lock:
            try:
                async with asyncio.timeout(self._timeout):
                    if self._writer is None:
                        await self._connect()
                    return await self._call(args)
            except BaseException:  # a reply may be half read: never reuse the connection
                self.close()
                raise

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        self._parser = hiredis.Reader()
        for cmd in self._hello:
            try:
                await self._call(cmd)
            except ReplyError as e:  # a wrong password, say: the store's breaker takes it as Redis out
                raise ConnectionError(f"Redis refused {cmd[0]}: {e}") from e

    async def _call(self, args: tuple[Any, ...]) -> Any:
        assert self._writer is not None and self._reader is not None
        self._writer.write(hiredis.pack_command(args))
        parser = self._parser
        got = parser.gets()
        while got is False:
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionResetError("Redis closed the connection")
            parser.feed(data)
            got = parser.gets()
        if isinstance(got, hiredis.ReplyError):
            raise ReplyError(str(got))
        return got

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except RuntimeError:  # its event loop already closed (the socket went with it)
                pass
        self._reader = self._writer = None
