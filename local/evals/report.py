"""The results of an evaluation run: a JSON file and a self-contained HTML page (Jinja2, autoescaped)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from local.evals.scoring import Observed, Score

TEMPLATES = Path(__file__).resolve().parent / "templates"


def results_json(
    results: list[tuple[Score, Observed]], figures: dict[str, Any], model: str
) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "model": model,
        "summary": figures,
        "conversations": [
            {**dataclasses.asdict(score), "observed": dataclasses.asdict(observed)}
            for score, observed in results
        ],
    }


def render_html(data: dict[str, Any]) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("evals.html").render(**data)


def write(out: Path, data: dict[str, Any]) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "evals.json", out / "evals.html"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    html_path.write_text(render_html(data), encoding="utf-8")
    return json_path, html_path
