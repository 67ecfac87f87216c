"""`manage.py serve` (what `make run` starts) on its embedded defaults: no
DATABASE_URL, no REDIS_URL. A person signs up over HTTP and gets a streamed
answer over the WebSocket from the fake model."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest
from websockets.sync.client import connect

from tests.conftest import ROOT, wait_until
from tests.fakellm import Reply, free_port

pytestmark = pytest.mark.processes


@pytest.fixture
def embedded_app(tmp_path, llm):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(MUSE_DATA_DIR=str(tmp_path / "data"), PORT=str(port), MUSE_WORKER_CONCURRENCY="4")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: b"Muse is running" in log.read_bytes() or process.poll() is not None, timeout=120,
                   message="manage.py serve")
        assert process.poll() is None, log.read_text()[-3000:]
        yield f"127.0.0.1:{port}", tmp_path / "data", log
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_app_runs_on_sqlite_and_an_embedded_redis_and_streams_an_answer(embedded_app, llm):
    host, data_dir, log = embedded_app
    llm.script("embedded", Reply(text="Hello from the embedded defaults.", token_delay=0.02))
    cookies = CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))

    form = browser.open(f"http://{host}/accounts/signup/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    fields = {"csrfmiddlewaretoken": token, "username": "edsger", "password1": "correct horse 42",
              "password2": "correct horse 42"}
    page = browser.open(f"http://{host}/accounts/signup/", urllib.parse.urlencode(fields).encode())
    conversation_id = re.search(r"/c/(\d+)/$", page.geturl()).group(1)
    assert 'aria-label="Message"' in page.read().decode()

    session = next(c.value for c in cookies if c.name == "sessionid")
    frames = []
    with connect(f"ws://{host}/ws/chat/{conversation_id}/",
                 additional_headers={"Cookie": f"sessionid={session}", "Origin": f"http://{host}"}) as socket:
        socket.send(json.dumps({"action": "send", "message": "hello embedded world", "client_id": "e1"}))
        deadline = time.monotonic() + 30
        while not any('data-status="done"' in f for f in frames) and time.monotonic() < deadline:
            frames.append(socket.recv(timeout=30))
    text = "".join(frames)
    assert 'hx-swap-oob="beforeend">Hello' in text, "tokens stream in"
    assert "Hello from the embedded defaults." in text
    assert (data_dir / "muse.sqlite3").exists()
    assert "Embedded Redis started" in log.read_text()
