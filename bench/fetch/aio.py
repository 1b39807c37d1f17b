"""aio.py: the asyncio + aiohttp peer of bench/fetch/run.sh.

Written the classic tutorial way on purpose: read every URL into a list,
create a task for each one, bound them with asyncio.Semaphore(N) around
session.get, and asyncio.gather the lot. That is how most asyncio fetchers
are written, and its cost (a task and a coroutine per URL, all alive from the
start) is what the benchmark shows.

One departure from the tutorials: the session's connector gets limit=N.
aiohttp's default connector allows 100 connections, which would cap
concurrency 1000 at 100 and measure a default rather than the approach.

    /usr/bin/python3 aio.py N URLFILE

Prints the number of 2xx responses; exits 1 if any request failed.
"""

import asyncio
import sys

import aiohttp


async def fetch(session, sem, url):
    async with sem:
        try:
            async with session.get(url) as resp:
                await resp.read()
                return 200 <= resp.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False


async def main(n, path):
    with open(path) as f:
        urls = [line.strip() for line in f if line.strip()]
    sem = asyncio.Semaphore(n)
    connector = aiohttp.TCPConnector(limit=n)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(fetch(session, sem, u)) for u in urls]
        results = await asyncio.gather(*tasks)
    ok = sum(results)
    print(ok)
    return 0 if ok == len(urls) else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: aio.py N URLFILE", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(int(sys.argv[1]), sys.argv[2])))
