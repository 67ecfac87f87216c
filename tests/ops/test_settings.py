"""Settings come from the environment, with safe production behaviour."""

import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT


def run_check(tmp_path, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS"}}
    env.update(MUSE_DATA_DIR=str(tmp_path), **env_vars)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_when_configured_for_production(tmp_path):
    result = run_check(
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="muse.example.com",
        CSRF_TRUSTED_ORIGINS="https://muse.example.com",
        HTTPS="true",
        SECURE_HSTS_SECONDS="31536000",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_complains_when_https_is_not_configured(tmp_path):
    result = run_check(tmp_path, SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="muse.example.com")
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr + result.stdout


def test_debug_is_off_unless_asked_for(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG)"
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(MUSE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="museapp.settings")
    off = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    on = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "DEBUG": "true"},
                        capture_output=True, text=True)
    assert off.stdout.strip() == "False"
    assert on.stdout.strip() == "True"
