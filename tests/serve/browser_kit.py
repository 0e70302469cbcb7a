"""Shared by the headless-Chromium tests: launching Debian's chromium through Playwright.

Playwright drives the system browser (`executable_path`); `playwright install`
(which downloads its own build) is never used. The flags keep Chromium from
reaching the network or the GPU on a CI box.
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-quic", "--disable-sync"]
STATIC = Path(__file__).resolve().parents[2] / "litcore" / "serve" / "static"


def require_chromium() -> None:
    """Skip (with the reason) only when the browser itself is missing; CI installs it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium; scripts/install.sh does it)")


@contextmanager
def browser() -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


@contextmanager
def static_server(root: Path = STATIC) -> Iterator[str]:
    """The page's static files over HTTP (ES modules do not load from file://); yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def lit_serve(*argv: str) -> Iterator[tuple[str, object]]:
    """`lit serve ARGV` on 127.0.0.1 and a free port, in a thread; yields (base URL, app).

    The app is built by the command's own `build_app` from the real parser,
    so the page is tested on what `lit serve` serves.
    """
    import time

    import uvicorn

    from litcore.cli import build_parser
    from litcore.serve.cli import build_app

    port = free_port()
    args = build_parser().parse_args(["serve", "--host", "127.0.0.1", "--port", str(port), *argv])
    app = build_app(args, token=args.token)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("lit serve did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(30)
