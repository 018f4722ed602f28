"""Headless Chromium driven through its DevTools protocol over a pipe (stdlib only).

Chromium is Debian's ``/usr/bin/chromium``; nothing is downloaded. ``--remote-debugging-pipe``
makes it read protocol messages on fd 3 and write them on fd 4, each a JSON object
ended by a NUL byte, so no port and no websocket library are needed.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

#: what the DevTools protocol answers when the page an evaluation ran in went away
_NAVIGATED = re.compile(r"context was destroyed|navigated or closed|Cannot find context",
                        re.IGNORECASE)

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--remote-debugging-pipe"]


class BrowserError(AssertionError):
    pass


def _high(fd: int) -> int:
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Browser:
    """One headless Chromium with one page; ``wait_for`` waits for a condition in the page."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="hpo-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child's ends above fd 9, so that moving them to 3 and 4 overwrites neither
        to_child_r, from_child_w = (_high(to_child_r), _high(from_child_w))
        cmd = " ".join([CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank",
                        f"3<&{to_child_r}", f"4>&{from_child_w}"])
        self.proc = subprocess.Popen(["bash", "-c", "exec " + cmd], pass_fds=(to_child_r,
                                     from_child_w), stdout=subprocess.DEVNULL,
                                     stderr=open(Path(self.profile) / "stderr.log", "wb"))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        self.call("Runtime.enable", session=True)

    # the protocol ---------------------------------------------------------------------
    def _send(self, message: dict) -> None:
        data = json.dumps(message).encode() + b"\0"
        while data:
            try:
                data = data[os.write(self._to_child, data):]
            except BrokenPipeError:
                raise BrowserError("chromium exited: " + self._log()) from None

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium exited: " + self._log())
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def _log(self) -> str:
        path = Path(self.profile) / "stderr.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def call(self, method: str, session: bool = False, timeout: float | None = None,
             **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self._send(message)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply["result"]

    # pages ----------------------------------------------------------------------------
    def goto(self, url: str) -> None:
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("document.readyState === 'complete' && location.href === "
                      + json.dumps(url))

    def evaluate(self, expression: str, timeout: float | None = None):
        result = self.call("Runtime.evaluate", session=True, timeout=timeout,
                           expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(text)
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float | None = None):
        """Wait until the JavaScript expression is truthy in the page; return its value.

        The page re-checks it every 100 ms (and on every DOM change), up to the timeout:
        this waits for an event, the test never sleeps for a fixed time."""
        ms = int((timeout or self.timeout) * 1000)
        js = f"""new Promise((resolve, reject) => {{
            const check = () => {{ try {{ return ({condition}); }} catch (e) {{ return null; }} }};
            const first = check();
            if (first) return resolve(first);
            const observer = new MutationObserver(() => {{ const v = check();
                if (v) {{ observer.disconnect(); clearInterval(timer); resolve(v); }} }});
            observer.observe(document, {{subtree: true, childList: true, attributes: true,
                                         characterData: true}});
            const timer = setInterval(() => {{ const v = check();
                if (v) {{ observer.disconnect(); clearInterval(timer); resolve(v); }} }}, 100);
            setTimeout(() => {{ observer.disconnect(); clearInterval(timer);
                reject(new Error("timed out waiting for: " + {json.dumps(condition)})); }}, {ms});
        }})"""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                return self.evaluate(js, timeout=(timeout or self.timeout) + 10)
            except BrowserError as exc:
                # a click that navigates destroys the page the wait was running in: wait
                # again in the page that replaced it (the condition is often about it)
                if not _NAVIGATED.search(str(exc)) or time.monotonic() > deadline:
                    raise

    def screenshot(self, path: str | Path) -> Path:
        import base64

        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
