"""What Ray's JobSubmissionClient does to run a job and follow its log.

    python3 ray_sdk_tail.py URL TOKEN ENTRYPOINT

Submits ENTRYPOINT with POST /api/jobs/, polls GET /api/jobs/{id} until it
leaves PENDING, then opens the log tail exactly as Ray's
JobSubmissionClient.tail_job_logs does (aiohttp's session.ws_connect) and
reads text frames until the server closes.  Prints one line "frame: TEXT"
per frame (newlines escaped), then "closed" and the job's final status as
"status: S".  Any exception (aiohttp's WSServerHandshakeError included) is
printed as "error: TYPE: MESSAGE" with exit status 1.
"""

import asyncio
import json
import sys

import aiohttp


async def submit(session, url, entrypoint):
    async with session.post(f"{url}/api/jobs/", json={"entrypoint": entrypoint}) as r:
        body = await r.text()
        if r.status != 200:
            raise RuntimeError(f"submit answered {r.status}: {body}")
        return json.loads(body)["submission_id"]


async def status(session, url, sid):
    async with session.get(f"{url}/api/jobs/{sid}") as r:
        return json.loads(await r.text())["status"]


async def tail(session, url, sid):
    # Ray's tail_job_logs: ws_connect, then receive until CLOSED.
    ws = await session.ws_connect(f"{url}/api/jobs/{sid}/logs/tail")
    while True:
        msg = await ws.receive()
        if msg.type == aiohttp.WSMsgType.TEXT:
            print("frame: " + msg.data.replace("\n", "\\n"), flush=True)
        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE):
            print("closed", flush=True)
            return
        elif msg.type == aiohttp.WSMsgType.ERROR:
            raise RuntimeError(f"websocket error: {ws.exception()}")


async def main(url, token, entrypoint):
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        sid = await submit(session, url, entrypoint)
        while await status(session, url, sid) == "PENDING":
            await asyncio.sleep(0.1)
        await tail(session, url, sid)
        print("status: " + await status(session, url, sid), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: ray_sdk_tail.py URL TOKEN ENTRYPOINT", file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(main(*sys.argv[1:]))
    except Exception as e:  # one line for the Tcl suite to compare
        print(f"error: {type(e).__name__}: {e}", flush=True)
        sys.exit(1)
