#!/usr/bin/env python3
"""Hand-written aiohttp.web reference gateway of the serve benchmark.

GET /agg/{id} calls three upstream URLs at once with one shared
ClientSession and asyncio.gather, parses their JSON answers and answers
{"a": path, "b": path, "c": path}. ?slow=1 makes the third call take 2s
instead of 10ms.

    python3 aiohttp_gateway.py --port 8082 --upstream http://127.0.0.1:8090
"""

import argparse
import asyncio

import aiohttp
from aiohttp import web

SESSION = "session"  # a plain key: aiohttp.web.AppKey is 3.9+, Debian 12 has 3.8


async def fetch(session, url):
    async with session.get(url) as resp:
        resp.raise_for_status()
        return await resp.json()


async def agg(request):
    session = request.app[SESSION]
    base = request.app["upstream"]
    id_ = request.match_info["id"]
    c_latency = "2s" if request.query.get("slow") == "1" else "10ms"
    try:
        a, b, c = await asyncio.gather(
            fetch(session, f"{base}/a/{id_}?latency=10ms&echo=1"),
            fetch(session, f"{base}/b/{id_}?latency=10ms&echo=1"),
            fetch(session, f"{base}/c/{id_}?latency={c_latency}&echo=1"),
        )
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
        return web.Response(status=502, text=str(e))
    return web.json_response({"a": a["path"], "b": b["path"], "c": c["path"]})


async def session_ctx(app):
    # Unlimited pool (limit=0): the fan-out of 64 inbound connections needs
    # about 192 upstream connections, more than the default limit of 100.
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    app[SESSION] = aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    )
    yield
    await app[SESSION].close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8082)
    p.add_argument("--upstream", default="http://127.0.0.1:8090")
    args = p.parse_args()
    app = web.Application()
    app["upstream"] = args.upstream.rstrip("/")
    app.cleanup_ctx.append(session_ctx)
    app.router.add_get("/agg/{id}", agg)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
