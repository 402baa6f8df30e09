"""Run length: how many optimizer steps a training run takes.

A step processes ``batch`` samples (sequences) of ``seq`` tokens each (``seq`` = 1 for models
without a sequence axis). The run is given by exactly one of:

* ``tokens``: steps = ⌈epochs · tokens / (batch · seq)⌉ (language models: GPT-3 was trained on
  300 B tokens with 1536 × 2048-token sequences per step at the end of its batch ramp, Brown
  et al. 2020 Table 2.1 → ⌈3e11 / 3,145,728⌉ = 95,368 steps);
* ``samples``: steps = ⌈epochs · samples / batch⌉ (a dataset of ``samples`` seen ``epochs`` times);
* ``steps``: given directly (``epochs`` must then stay 1).

The last, partial step is counted whole. Invalid combinations raise :class:`ConfigError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hwsim.errors import ConfigError


@dataclass(frozen=True)
class TrainingRun:
    """A training run's length and batch shape (see the module docstring)."""

    batch: int
    seq: int = 1
    tokens: float | None = None
    samples: float | None = None
    epochs: float = 1
    steps: int | None = None

    def __post_init__(self) -> None:
        for label, value in (("batch", self.batch), ("seq", self.seq)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"training run: {label} must be a positive integer, got {value!r}")
        given = [k for k in ("tokens", "samples", "steps") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigError("training run: give exactly one of tokens, samples or steps "
                              f"(got {', '.join(given) if given else 'none'})")
        value = getattr(self, given[0])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"training run: {given[0]} must be a positive number, got {value!r}")
        if given[0] == "steps" and not isinstance(value, int):
            raise ConfigError(f"training run: steps must be an integer, got {value!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, (int, float)) or not self.epochs > 0:
            raise ConfigError(f"training run: epochs must be a positive number, got {self.epochs!r}")
        if given[0] == "steps" and self.epochs != 1:
            raise ConfigError("training run: epochs multiply tokens or samples; with steps given, leave epochs at 1")

    @property
    def tokens_per_step(self) -> int:
        """batch · seq."""
        return self.batch * self.seq

    @property
    def n_steps(self) -> int:
        """Optimizer steps of the run (module docstring)."""
        if self.steps is not None:
            return self.steps
        if self.tokens is not None:
            return max(1, math.ceil(self.epochs * self.tokens / self.tokens_per_step - 1e-9))
        return max(1, math.ceil(self.epochs * self.samples / self.batch - 1e-9))

    @property
    def samples_total(self) -> int:
        """Samples processed: steps · batch."""
        return self.n_steps * self.batch

    @property
    def tokens_total(self) -> int:
        """Tokens processed: steps · batch · seq."""
        return self.n_steps * self.tokens_per_step
