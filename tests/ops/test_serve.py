"""`manage.py serve` and the Procfile start the web server with the same
WebSocket message limit, one that fits every frame the page may send."""

import os
import re
import subprocess
import sys

from django.conf import settings

from museapp.ops.management.commands.serve import web_command
from museapp.web.actions import MAX_FRAME_CHARS
from tests.conftest import ROOT


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def default_setting(tmp_path, name: str) -> str:
    """A setting's value with its variable unset."""
    env = {k: v for k, v in os.environ.items() if k != name}
    env.update(MUSE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="museapp.settings")
    code = f"from django.conf import settings; print(settings.{name})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_serve_passes_the_websocket_message_limit_to_uvicorn():
    assert option(web_command("127.0.0.1", 8000), "--ws-max-size") == str(settings.MUSE_WS_MAX_BYTES)


def test_the_limit_fits_the_largest_frame_muse_reads_even_in_four_byte_characters():
    assert settings.MUSE_WS_MAX_BYTES >= (MAX_FRAME_CHARS + 1000) * 4


def test_the_limit_is_far_below_uvicorns_sixteen_mebibytes():
    assert settings.MUSE_WS_MAX_BYTES < 2_000_000


def test_the_procfile_passes_the_same_limit_with_the_same_default(tmp_path):
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))

    passed = re.search(r"--ws-max-size \$\{MUSE_WS_MAX_BYTES:-(\d+)\}", web)

    assert passed, web
    assert passed.group(1) == default_setting(tmp_path, "MUSE_WS_MAX_BYTES")
