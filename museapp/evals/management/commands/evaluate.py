"""`manage.py evaluate`: is Contemplating worth it for this model?

Asks seeded problem sets under each condition through Muse's own pipeline
(a worker is started when none is running), grades the answers, and prints
accuracy with intervals, the paired difference against quick answers, and
what it cost in tokens, money and seconds. Results are rows: run it again
with the same arguments and a killed run resumes.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from museapp.agents import strategies
from museapp.evals import services
from museapp.evals.conditions import parse_conditions
from museapp.evals.models import EvalItem, EvalRun
from museapp.evals.problems import SETS
from museapp.evals.report import table
from museapp.llm.config import available_models, configured_model
from museapp.ops import embedded_redis
from museapp.ops.management.commands.serve import worker_command
from museapp.ops.workers import wait_until_consuming


class Command(BaseCommand):
    help = "Evaluate quick answers against Contemplating on problems with known answers."

    def add_arguments(self, parser):
        parser.add_argument("--model", default="", help="a model on offer (MUSE_MODELS); default: the default model")
        parser.add_argument("--conditions", default="quick,consensus:4",
                            help=f"comma-separated: quick, and strategy:agents ({', '.join(strategies.NAMES)})")
        parser.add_argument("--set", dest="sets", default=",".join(SETS), help=f"problem sets: {', '.join(SETS)}")
        parser.add_argument("--n", type=int, default=30, help="problems per set (at most the set's size)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--concurrency", type=int, default=2,
                            help="problems in progress at once (at most MUSE_MAX_RUNNING_ANSWERS)")
        parser.add_argument("--fresh", action="store_true", help="start anew instead of resuming")
        parser.add_argument("--json", dest="json_path", default="", help="where to write the report (default: data/evals/run-N.json)")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--regrade", type=int, metavar="RUN", help="grade run RUN's answers again; ask nothing")

    def handle(self, *args, model, conditions, sets, n, seed, concurrency, fresh, json_path, no_progress, regrade,
               **options):
        if options["verbosity"] < 2:  # the progress and the report only; -v 2 shows this process's own log
            logging.getLogger().setLevel(logging.WARNING)
        if regrade is not None:
            run = EvalRun.objects.filter(pk=regrade).first()
            if run is None:
                raise CommandError(f"there is no evaluation {regrade}")
            return self._report(services.run_regrade(run), json_path)
        model, conditions, sets = self._checked(model, conditions, sets, n, concurrency)
        call_command("migrate", interactive=False, verbosity=0)
        try:
            services.evaluation_account()  # before any worker starts or anything is asked
        except services.EvaluationAccountTaken as taken:
            raise CommandError(str(taken)) from None
        with Workers(self.stdout):
            run, resumed = services.run_open(model=model, conditions=conditions, sets=sets, n=n, seed=seed,
                                             fresh=fresh)
            total = run.items.count()
            done = run.items.filter(status=EvalItem.Status.GRADED).count()
            self.stdout.write(f"Evaluation {run.pk}: {model}, {', '.join(run.conditions)} on "
                              f"{', '.join(sets)} ({total} answers)" + (f"; resuming, {done} done" if resumed else ""))
            with tqdm(total=total, initial=done, unit="answer", disable=no_progress, file=self.stderr) as bar:
                services.run_items(run, concurrency=concurrency, on_graded=lambda item: bar.update())
            report = services.run_finish(run)
        self._report(report, json_path)

    def _report(self, report: dict, json_path: str) -> None:
        self.stdout.write(table(report))
        path = Path(json_path or settings.DATA_DIR / "evals" / f"run-{report['run']}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_json_dump(report))
        self.stdout.write(f"Report: {path} (and /insights/evals/)")

    def _checked(self, model: str, conditions: str, sets: str, n: int, concurrency: int):
        offered = [choice.id for choice in available_models()]
        model = model or configured_model()
        if model not in offered:
            raise CommandError(f"{model or 'No model'} is not on offer here; offered: {', '.join(offered) or 'none'} "
                               "(add it to MUSE_MODELS).")
        try:
            parsed = parse_conditions(conditions)
        except ValueError as invalid:
            raise CommandError(str(invalid)) from None
        names = [name.strip() for name in sets.split(",") if name.strip()]
        unknown = [name for name in names if name not in SETS]
        if unknown or not names:
            raise CommandError(f"unknown problem set(s) {', '.join(unknown) or '(none)'}: choose from {', '.join(SETS)}")
        if n < 1:
            raise CommandError("--n must be at least 1")
        cap = settings.MUSE_MAX_RUNNING_ANSWERS
        if concurrency < 1 or (cap > 0 and concurrency > cap):
            raise CommandError(f"--concurrency must be 1 to {cap}: the evaluation is one account, under the "
                               "same cap on answers in progress as a person (MUSE_MAX_RUNNING_ANSWERS).")
        return model, parsed, names


def _json_dump(report: dict) -> str:
    return json.dumps(report, indent=2, default=str) + "\n"


class Workers:
    """The workers that answer: those already running, or (none answering)
    a worker of our own (and the embedded Redis, when in use) until the end.
    Our worker's banner and log go to a file, not between the progress and
    the report."""

    def __init__(self, out):
        self.out = out
        self.redis = None
        self.worker: subprocess.Popen | None = None
        self.log = None

    def __enter__(self) -> "Workers":
        if settings.EMBEDDED_REDIS:
            redis = embedded_redis.from_settings()
            if redis.start():
                self.redis = redis
        try:
            wait_until_consuming(lambda: None, timeout=3)
        except TimeoutError:
            path = settings.DATA_DIR / "evals" / "worker.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.out.write(f"No worker is running: starting one for the evaluation (its log: {path})…")
            self.log = path.open("ab")
            self.worker = subprocess.Popen(worker_command(32, settings.CELERY_TASK_DEFAULT_QUEUE, "muse-evaluate"),
                                           start_new_session=True, stdout=self.log, stderr=subprocess.STDOUT)
            wait_until_consuming(self._check, timeout=120)
        return self

    def _check(self) -> None:
        if self.worker.poll() is not None:
            raise CommandError(f"the worker exited with code {self.worker.returncode}")

    def __exit__(self, *exc) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
        if self.log is not None:
            self.log.close()
        if self.redis is not None:
            self.redis.stop()
