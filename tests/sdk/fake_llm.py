"""A fake OpenAI-compatible server: canned chat completions with usage, on loopback."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.ids = itertools.count(1)
        self.runner: web.AppRunner | None = None

    async def chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        n = next(self.ids)
        prompt = " ".join(str(m.get("content")) for m in body.get("messages", []))
        return web.json_response({
            "id": f"chatcmpl-{n}", "object": "chat.completion", "created": 1700000000, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": f"answer to: {prompt[:40]}"}}],
            "usage": {"prompt_tokens": 1000 + len(prompt), "completion_tokens": 80,
                      "total_tokens": 1080 + len(prompt)}})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
