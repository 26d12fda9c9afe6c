"""What the web pages receive: the composition root's providers and a few options.

Pages call use cases through `web.core` (`web.core.list_predictions()` returns the
ListPredictionsUseCase), the same container, with the same providers, as the HTTP API's:
mypy checks every page call against the real use-case class.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from entrypoints.container import Container


@dataclass(frozen=True, slots=True)
class WebOptions:
    """The few page options not in `Settings` (the limits the pages show come from there)."""

    registration_open: bool = True
    model_card: Path | None = None
    page_size: int = 20


@dataclass(frozen=True, slots=True)
class Web:
    """Everything a page receives: the container (use cases) and the options."""

    core: Container
    options: WebOptions
