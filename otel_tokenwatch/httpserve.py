"""Starting an aiohttp server on a configured host:port, shared by the OTLP/HTTP receiver and the admin port."""

from __future__ import annotations

import ssl
from typing import Any

from aiohttp import web


async def serve(app: web.Application, endpoint: str, what: str, ssl_context: ssl.SSLContext | None = None,
                **runner_kwargs: Any) -> tuple[web.AppRunner, str]:
    """Bind and start; returns the runner and the bound host:port (``:0`` resolved).

    ``what`` names the config key in the error, so a taken port says which setting to change.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False, **runner_kwargs)
    await runner.setup()
    host, _, port = endpoint.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    site = web.TCPSite(runner, host, int(port), ssl_context=ssl_context, reuse_address=True)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise OSError(f"{what}: cannot listen on {endpoint}: {e.strerror or e}") from None
    sockets = getattr(getattr(site, "_server", None), "sockets", None) or []
    bound = f"{host}:{sockets[0].getsockname()[1]}" if sockets else endpoint
    return runner, bound
