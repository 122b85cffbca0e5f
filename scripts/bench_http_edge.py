"""The HTTP edge under an oversized header, and uvicorn's two HTTP parsers compared.

For each server configuration (stock httptools, stock h11, h11 with a 64 KB head bound, and ours:
httptools with the bounds of hltracker/api/edge.py), a server process runs the real app over an empty
store on a loopback port, and this script measures:

1. throughput: GET /api/external/health on one keep-alive connection, requests per second (the best
   of `--rounds` runs: the machine may be shared);
2. the stall: one client streams a header of up to 128 MB as fast as it can while another sends a
   request every 50 ms; prints the slowest answer the other client saw, the bytes the attacker got to
   send, and what the attacker was answered.

    .venv/bin/python scripts/bench_http_edge.py [--requests 3000] [--rounds 5] [--header-mb 128]

Figures and ratios are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import threading
import time

CONFIGS = {
    "httptools (stock)": "{'http': 'httptools'}",
    "h11 (stock)": "{'http': 'h11'}",
    "h11, 64 KB bound": "{'http': 'h11', 'h11_max_incomplete_event_size': 64 * 1024}",
    "httptools, bounded (hltracker)": "server_options()",
}

SERVER = """
import uvicorn
from hltracker.api import create_app
from hltracker.api.edge import server_options
from hltracker.store import open_store
app = create_app(open_store(':memory:'), poll=False)
uvicorn.run(app, host='127.0.0.1', port={port}, log_level='error', **{options})
"""
REQUEST = b"GET /api/external/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(options: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port, options=options)])
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        part = sock.recv(65536)
        if not part:
            return data
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def throughput(port: int, n: int) -> float:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(50):
            sock.sendall(REQUEST)
            read_response(sock)
        started = time.perf_counter()
        for _ in range(n):
            sock.sendall(REQUEST)
            read_response(sock)
        return n / (time.perf_counter() - started)


def stall(port: int, header_mb: int) -> tuple[float, int, str]:
    result = {"sent": 0, "answer": "none"}
    done = threading.Event()

    def attack() -> None:
        chunk = b"a" * (1024 * 1024)
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            try:
                sock.sendall(b"GET /api/external/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
                for _ in range(header_mb):
                    sock.sendall(chunk)
                    result["sent"] += len(chunk)
                sock.sendall(b"\r\n\r\n")
            except OSError:
                pass
            try:
                result["answer"] = sock.recv(200).split(b"\r\n")[0].decode() or "closed"
            except OSError as exc:
                result["answer"] = type(exc).__name__
        done.set()

    worst = 0.0
    attacker = threading.Thread(target=attack, daemon=True)
    attacker.start()
    while not done.is_set():  # a fresh connection per request: a new client arriving during the attack
        started = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
                sock.sendall(REQUEST)
                read_response(sock)
        except OSError as exc:
            result["answer"] += f" (other client: {type(exc).__name__})"
        worst = max(worst, time.perf_counter() - started)
        time.sleep(0.05)
    attacker.join()
    return worst, result["sent"], result["answer"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--header-mb", type=int, default=128)
    args = parser.parse_args()
    rows = []
    for name, options in CONFIGS.items():
        proc, port = start(options)
        try:
            rate = max(throughput(port, args.requests) for _ in range(args.rounds))
            worst, sent, answer = stall(port, args.header_mb)
        finally:
            proc.kill()
            proc.wait()
        rows.append((name, rate, worst, sent, answer))
        print(f"measured {name}", file=sys.stderr)
    base = rows[0][1]
    print(f"{'server':32} {'req/s':>8} {'x stock':>8} {'worst other-client latency':>27} "
          f"{'attacker sent':>14}  attacker answer")
    for name, rate, worst, sent, answer in rows:
        print(f"{name:32} {rate:8.0f} {rate / base:8.2f} {worst * 1000:24.1f} ms {sent / 2**20:11.1f} MB  {answer}")


if __name__ == "__main__":
    main()
