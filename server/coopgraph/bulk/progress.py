"""The bulk import's progress bar (tqdm, on stderr): bytes read, rate, ETA, outcomes."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

#: Seconds between two progress lines when stderr is not a terminal.
LOG_EVERY = 10.0


class ProgressBar:
    """A :class:`~coopgraph.bulk.pipeline.Progress` drawn with tqdm.

    Drawn only when stderr is a terminal (STYLE: progress bars only on a TTY); otherwise
    each note is printed as one line, so logs still say what the run is doing.
    """

    def __init__(self, total_bytes: int) -> None:
        self.tty = sys.stderr.isatty()
        self.total = total_bytes
        self.read = 0
        self.started = self.logged = time.monotonic()
        self.bar = tqdm(
            total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024, desc="import",
            file=sys.stderr, disable=not self.tty, dynamic_ncols=True, smoothing=0.1,
        )

    def advance(self, nbytes: int) -> None:
        if nbytes <= 0:
            return
        self.bar.update(nbytes)
        self.read += nbytes
        now = time.monotonic()
        if not self.tty and now - self.logged >= LOG_EVERY and self.total:
            self.logged = now
            rate = self.read / (now - self.started)
            eta = (self.total - self.read) / rate if rate else 0.0
            self.note(
                f"{100 * self.read / self.total:.0f}% of {self.total / 2**20:.1f} MiB, "
                f"{rate / 2**20:.2f} MiB/s, ETA {eta:.0f} s"
            )

    def counts(self, counts: dict[str, int]) -> None:
        done = sum(counts.values())
        if self.tty and (done % 50 == 0 or done < 50):
            self.bar.set_postfix(counts, refresh=False)

    def note(self, text: str) -> None:
        if self.tty:
            self.bar.write(text, file=sys.stderr)
        else:
            print(f"coopgraph import: {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()
