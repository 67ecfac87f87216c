"""Loaded as a pytest plugin (pytest.ini: ``-p tests.environment``) before
Django reads its settings: the test run's configuration, as environment
variables, so worker and server subprocesses inherit the same."""

import os

from tests.fakellm import free_port

run_id = f"test-{os.getpid()}"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["MUSE_WARM_UP"] = "0"
os.environ["MUSE_QUEUE"] = f"muse-{run_id}"  # isolate from a `make run` on the same Redis
os.environ["MUSE_REDIS_PREFIX"] = f"muse-{run_id}"
os.environ["MUSE_MODEL"] = "openai/fake-model"
os.environ["MUSE_MODELS"] = (
    "openai/fake-model=Fake model,openai/fake-model-2=Fake model two,"
    "muse-local/smollm2-135m=SmolLM2 (offline demo)"
)
os.environ["MUSE_API_KEY"] = "sk-muse-test-9f3c1e7a2b"  # distinctive: tests/security/test_secrets.py hunts for it
os.environ["MUSE_LLM_RETRIES"] = "0"
os.environ["MUSE_COMPARE_RATE"] = "0"  # a test that compares says so (a draw would make the others flaky)
os.environ["MUSE_LLM_TIMEOUT"] = "20"
os.environ.setdefault("MUSE_FAKE_LLM_PORT", str(free_port()))
os.environ["MUSE_API_BASE"] = f"http://127.0.0.1:{os.environ['MUSE_FAKE_LLM_PORT']}/v1"
os.environ["MUSE_VISION_MODELS"] = "openai/fake-model-2"  # the fake model that takes images
# Attached files go to this run's own folder (worker and web processes inherit it).
os.environ["MUSE_FILE_STORAGE_OPTIONS"] = '{"location": "%s"}' % os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"muse-{run_id}-files")
os.environ["MUSE_SIGNUPS_PER_IP"] = "1000/hour"  # every browser test signs up from 127.0.0.1
