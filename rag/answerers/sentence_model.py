"""The fitted model that gives, for each candidate sentence, the probability that it answers the question.

A logistic regression over :data:`rag.answerers.features.FEATURES`, standardised; its parameters, the
abstention threshold and the figures of its leave-one-document-out validation live in ``model.json`` next
to this file, written by ``python -m eval.train_answerer`` (JSON: plain numbers, nothing executable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from rag.answerers.features import FEATURES, QUESTION_FEATURES

MODEL_PATH = Path(__file__).resolve().parent / "model.json"


@dataclass(frozen=True)
class SentenceModel:
    """Standardise, weigh, squash: ``p = 1 / (1 + exp(-(w . (x - mean) / scale + b)))``."""

    mean: np.ndarray[Any, np.dtype[np.float64]]
    scale: np.ndarray[Any, np.dtype[np.float64]]
    coef: np.ndarray[Any, np.dtype[np.float64]]
    intercept: float
    #: Abstain when the best sentence's probability is below this (chosen on validation data).
    threshold: float
    #: A second sentence is quoted when its probability is at least this share of the best one's.
    second_ratio: float
    #: The second stage, over :data:`QUESTION_FEATURES`: the probability that the question is answered by
    #: the best candidate at all. When present, ``threshold`` applies to it instead of the best sentence's.
    answerable: tuple[Any, Any, Any, float] | None = None

    def answerability(self, row: np.ndarray[Any, np.dtype[np.float64]]) -> float:
        """The second stage's probability for one question (the best sentence's when there is none)."""
        if self.answerable is None:
            return float(row[0])
        mean, scale, coef, intercept = self.answerable
        z = float(((row - mean) / scale) @ coef + intercept)
        return 1.0 / (1.0 + float(np.exp(-z)))

    def probabilities(self, rows: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.float64]]:
        if not len(rows):
            return np.zeros(0)
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SentenceModel:
        if list(raw.get("features", [])) != list(FEATURES):
            raise ConfigError(
                "the answerer's model was fitted on other features than this code computes; "
                "refit it with: python -m eval.train_answerer"
            )
        second = raw.get("answerable")
        if second is not None and list(second.get("features", [])) != list(QUESTION_FEATURES):
            raise ConfigError("the answerer's model has other question features than this code; refit it")
        return cls(
            np.asarray(raw["mean"], dtype=np.float64),
            np.asarray(raw["scale"], dtype=np.float64),
            np.asarray(raw["coef"], dtype=np.float64),
            float(raw["intercept"]),
            float(raw["threshold"]),
            float(raw["second_ratio"]),
            None if second is None else _stage(second),
        )

    def to_dict(self) -> dict[str, Any]:
        out = self._first()
        if self.answerable is not None:
            mean, scale, coef, intercept = self.answerable
            out["answerable"] = {
                "features": list(QUESTION_FEATURES),
                "mean": [round(float(v), 6) for v in mean],
                "scale": [round(float(v), 6) for v in scale],
                "coef": [round(float(v), 6) for v in coef],
                "intercept": round(float(intercept), 6),
            }
        return out

    def _first(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.intercept, 6),
            "threshold": round(self.threshold, 4),
            "second_ratio": round(self.second_ratio, 4),
        }


def _stage(raw: dict[str, Any]) -> tuple[Any, Any, Any, float]:
    mean, scale, coef = (np.asarray(raw[k], dtype=np.float64) for k in ("mean", "scale", "coef"))
    return mean, scale, coef, float(raw["intercept"])


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> SentenceModel:
    """The shipped model (read once per process)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the answerer's model {path}: {exc}") from exc
    return SentenceModel.from_dict(raw)
