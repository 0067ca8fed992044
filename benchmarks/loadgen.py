"""A small asyncio HTTP/1.1 load generator, run as its own process.

Each virtual client takes the next path from a file, GETs the form there (cookie, CSRF token and the
form's other hidden fields), then POSTs the answers with those fields, as a browser does, and times the
POST: the submit path. It stops after `--duration` seconds and writes
requests/s, latency percentiles and error counts as JSON.

    python -m benchmarks.loadgen --port 8123 --paths paths.txt --concurrency 50 --duration 15 --out r.json
"""

import argparse
import asyncio
import html
import json
import re
import time
from urllib.parse import urlencode

HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
COOKIE = re.compile(rb"[Ss]et-[Cc]ookie: (csrftoken=[^;]+)")


def hidden_fields(page: str) -> dict:
    """The hidden fields of a page's form (the CSRF token among them), which a browser posts back."""
    return {name: html.unescape(value) for name, value in HIDDEN_INPUT.findall(page)}


class Connection:
    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, bytes, bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            head += f"Content-Length: {len(body)}\r\n\r\n"
            try:
                self.writer.write(head.encode() + body)
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError
                raw_headers = await self.reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"[Cc]ontent-[Ll]ength: (\d+)", raw_headers).group(1))
                content = await self.reader.readexactly(length)
                if re.search(rb"[Cc]onnection: close", raw_headers):
                    self.close()
                return int(status_line.split()[1]), raw_headers, content
            except (ConnectionError, asyncio.IncompleteReadError, AttributeError):
                self.close()
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def client(port, paths, form, deadline, stats):
    connection = Connection(port)
    while time.monotonic() < deadline:
        try:
            path = next(paths)
        except StopIteration:
            break
        try:
            status, headers, content = await connection.request("GET", path, {})
            cookie = COOKIE.search(headers)
            fields = hidden_fields(content.decode())
            if status != 200 or not cookie or "csrfmiddlewaretoken" not in fields:
                stats["errors"] += 1
                continue
            body = urlencode({**fields, **form}).encode()
            started = time.perf_counter()
            status, _, _ = await connection.request(
                "POST",
                path,
                {
                    "Cookie": cookie.group(1).decode(),
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Referer": f"http://127.0.0.1:{port}{path}",
                },
                body,
            )
            stats["latencies"].append((time.perf_counter() - started) * 1000)
            if status in (200, 302, 303):
                stats["accepted"] += 1
            else:
                stats["errors"] += 1
                stats.setdefault("statuses", {}).setdefault(str(status), 0)
                stats["statuses"][str(status)] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, AttributeError):
            stats["errors"] += 1
            connection.close()
    connection.close()


async def main_async(args):
    with open(args.paths) as f:
        paths = iter([line.strip() for line in f if line.strip()])
    form = json.loads(args.form)
    stats = {"latencies": [], "accepted": 0, "errors": 0}
    started = time.monotonic()
    deadline = started + args.duration
    await asyncio.gather(*(client(args.port, paths, form, deadline, stats) for _ in range(args.concurrency)))
    elapsed = time.monotonic() - started
    latencies = sorted(stats["latencies"])

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else float("nan")

    return {
        "concurrency": args.concurrency,
        "seconds": elapsed,
        "submits": len(latencies),
        "accepted": stats["accepted"],
        "errors": stats["errors"],
        "statuses": stats.get("statuses", {}),
        "rps": len(latencies) / elapsed,
        "p50": pct(50),
        "p95": pct(95),
        "p99": pct(99),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", required=True)
    parser.add_argument("--form", default="{}")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
