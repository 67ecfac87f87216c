from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from museapp.evals.chart import HEIGHT, WIDTH, accuracy_against_cost, max_tokens_label
from museapp.evals.models import EvalItem, EvalRun
from museapp.evals.report import budget_picks, run_report
from museapp.feedback.views import analysts_only

RUNS_SHOWN = 20


@analysts_only
def evaluations(request: HttpRequest) -> HttpResponse:
    """Every evaluation run, newest first: its figures and its chart."""
    runs = []
    for run in EvalRun.objects.all()[:RUNS_SHOWN]:
        report = run.report if run.status == EvalRun.Status.DONE else run_report(run)
        rows = report.get("conditions", [])
        runs.append({
            "run": run,
            "rows": rows,
            "auto": report.get("auto", []),
            "budgets": budget_picks(report) if rows else [],
            "points": accuracy_against_cost(rows),
            "max_tokens": max_tokens_label(rows),
            "graded": run.items.filter(status=EvalItem.Status.GRADED).count(),
            "total": run.items.count(),
        })
    return TemplateResponse(request, "evals/page.html", {"runs": runs, "width": WIDTH, "height": HEIGHT,
                                                          "middle": HEIGHT // 2})
