"""What rendering a stream's Markdown while it grows costs the worker.

The worker renders a stream's whole text so far at most every
MUSE_RENDER_INTERVAL (0.25 s), once for every page that shows it
(museapp/streams/markdown.py). This prints the time one rendering takes at
several lengths of a typical answer (prose, a list, a table, code), and the
share of one core a stream's renderings take: as Muse renders (every 0.25
s, less often once a rendering takes over a tenth of that time), at a flat
0.25 s, and at every frame (MUSE_FRAME_INTERVAL, 0.04 s).

    .venv/bin/python bench/live_render.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")

import django  # noqa: E402

django.setup()

from museapp.streams.markdown import render_live  # noqa: E402
from museapp.streams.publisher import RENDER_SHARE  # noqa: E402

SECTION = """## Step {n}

Boil **one litre** of water, then let it rest for *thirty seconds* before pouring; see
[the guide](https://example.com/tea) for details.

- warm the pot
- add the leaves: `2 g` per cup
- steep for 3 to 5 minutes

| tea | minutes | degrees |
|-----|--------:|--------:|
| green | 2 | 80 |
| black | 4 | 95 |

```python
def steep(minutes: int) -> str:
    # wait, then pour
    return f"steeped for {{minutes}} minutes"
```

"""
LENGTHS = [1_000, 4_000, 16_000]
CHARS_PER_SECOND = 60  # about what the stub and hosted models stream


def text_of(length: int) -> str:
    text, n = "", 1
    while len(text) < length:
        text += SECTION.format(n=n)
        n += 1
    return text[:length]


def one_rendering_ms(text: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        render_live(text, "msg-1")
        times.append((time.perf_counter() - started) * 1000)
    return times


def core_share(length: int, interval: float, *, adaptive: bool = False) -> float:
    """Seconds of rendering per second of streaming, for a stream growing
    to ``length`` at CHARS_PER_SECOND and rendered every ``interval`` (and,
    ``adaptive``, no sooner than its last rendering's time / RENDER_SHARE),
    on a clock that advances with the stream, not with the rendering."""
    seconds = length / CHARS_PER_SECOND
    text = text_of(length)
    now, spent = 0.0, 0.0
    while now < seconds:
        started = time.perf_counter()
        render_live(text[: int(length * now / seconds) + 1], "msg-1")
        took = time.perf_counter() - started
        spent += took
        now += max(interval, took / RENDER_SHARE) if adaptive else interval
    return spent / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--longest", type=int, default=LENGTHS[-1], help="the longest text, in characters")
    args = parse_args(parser, repeats=2, longest=LENGTHS[1])
    lengths = [length for length in LENGTHS if length <= args.longest]
    print("One rendering of the text so far (median of", args.repeats, "with min-max):")
    for length in lengths:
        times = one_rendering_ms(text_of(length), args.repeats)
        print(f"  {length:>6} chars: {statistics.median(times):6.2f} ms  [{min(times):.2f}-{max(times):.2f}]")
    print(f"Share of one core per stream, growing at {CHARS_PER_SECOND} chars/s:")
    print("                     as Muse does   every 0.25 s   every frame (0.04 s)")
    for length in lengths:
        muse = core_share(length, 0.25, adaptive=True)
        flat, every = core_share(length, 0.25), core_share(length, 0.04)
        print(f"  to {length:>6} chars: {muse:12.2%} {flat:14.2%} {every:16.2%}")


if __name__ == "__main__":
    main()
