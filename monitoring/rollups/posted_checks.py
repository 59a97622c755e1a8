"""Checks of a posted hour's plain values: non-negative integers, and the performance counts
an hour carries (`steward_client.performance`; the format is in docs/monitoring.md). Pure: no
database. Each check gives (path below "performance", message) pairs."""

from __future__ import annotations

from typing import Any, TypeGuard

from steward_client.performance import AUC_BINS, finite

from registry.choices import Task

ERROR_FIELDS = ("abs_sum", "squared_sum", "ape_sum", "value_sum", "value_m2")


def natural(value: Any) -> TypeGuard[int]:
    """A JSON integer (not a bool) that is not negative."""
    return type(value) is int and value >= 0


def performance_problems(data: Any, task: str) -> list[tuple[str, str]]:
    """What is wrong with an hour's performance counts (`steward_client.performance`; format
    in docs/monitoring.md), as (path below "performance", message) pairs."""
    if not isinstance(data, dict) or not natural(data.get("labelled")):
        return [(".labelled", "must be a non-negative integer")]
    unknown = sorted(set(data) - {"labelled", "confusion", "scores", "class_scores", "errors"})
    if unknown:
        return [(f".{unknown[0]}", "is not a performance field")]
    if task == Task.REGRESSION:
        if "confusion" in data or "scores" in data or "class_scores" in data:
            return [(".confusion", "a regression model's hours carry errors, not confusion")]
        return _errors_problems(data.get("errors"), data["labelled"]) if "errors" in data else []
    if "errors" in data:
        return [(".errors", "a classifier's hours carry confusion counts, not errors")]
    confusion = data.get("confusion", {})
    if not isinstance(confusion, dict):
        return [(".confusion", "must map actual labels to {predicted label: count}")]
    total = 0
    for actual, row in confusion.items():
        if not isinstance(row, dict) or not all(natural(n) for n in row.values()):
            return [(f".confusion.{actual}", "must map predicted labels to counts")]
        total += sum(row.values())
    if total > data["labelled"]:
        return [(".confusion", "its counts cannot exceed labelled")]
    if "scores" in data:
        if task != Task.BINARY:
            return [(".scores", "only a binary model's hours carry score bins")]
        return _scores_problems(data["scores"], total)
    if "class_scores" in data:
        if task != Task.MULTICLASS:
            return [(".class_scores", "only a multiclass model's hours carry per-class bins")]
        return _class_scores_problems(data["class_scores"], total)
    return []


def _class_scores_problems(classes: Any, decided: int) -> list[tuple[str, str]]:
    """Per-class score bins of a multiclass hour: per class, one count per bin of its rows
    and the others, adding up to the confusion's rows."""
    if not isinstance(classes, dict):
        return [(".class_scores", "must map classes to {positive, negative}")]
    for name, bins in classes.items():
        if not isinstance(bins, dict) or set(bins) != {"positive", "negative"}:
            return [(f".class_scores.{name}", "must be {positive, negative}")]
        for part in ("positive", "negative"):
            counts = bins[part]
            if (
                not isinstance(counts, list)
                or len(counts) != AUC_BINS
                or not all(natural(n) for n in counts)
            ):
                return [
                    (
                        f".class_scores.{name}.{part}",
                        f"must be {AUC_BINS} non-negative integer counts",
                    )
                ]
        if sum(bins["positive"]) + sum(bins["negative"]) != decided:
            return [(f".class_scores.{name}", "its counts must add up to the confusion's counts")]
    return []


def _scores_problems(scores: Any, decided: int) -> list[tuple[str, str]]:
    """Score bins of a binary hour: one count per bin and class, adding up to the confusion's
    rows, and the summed log loss."""
    if not isinstance(scores, dict):
        return [(".scores", "must be {positive, negative, log_loss_sum}")]
    for part in ("positive", "negative"):
        counts = scores.get(part)
        if (
            not isinstance(counts, list)
            or len(counts) != AUC_BINS
            or not all(natural(n) for n in counts)
        ):
            return [(f".scores.{part}", f"must be {AUC_BINS} non-negative integer counts")]
    if sum(scores["positive"]) + sum(scores["negative"]) != decided:
        return [(".scores", "its counts must add up to the confusion's counts")]
    loss = scores.get("log_loss_sum")
    if not finite(loss) or loss < 0:
        return [(".scores.log_loss_sum", "must be a finite non-negative number")]
    if set(scores) - {"positive", "negative", "log_loss_sum"}:
        return [(".scores", "holds fields other than positive, negative and log_loss_sum")]
    return []


def _errors_problems(errors: Any, labelled: int) -> list[tuple[str, str]]:
    """Error sums of a regression hour: `n` rows (at most labelled), finite sums, the
    non-negative ones non-negative."""
    if not isinstance(errors, dict):
        return [(".errors", f"must be {{{', '.join(ERROR_FIELDS)}}}")]
    if set(errors) != {"n", *ERROR_FIELDS}:
        return [(".errors", f"must hold exactly n, {', '.join(ERROR_FIELDS)}")]
    if not natural(errors["n"]) or errors["n"] > labelled:
        return [(".errors.n", "must be a non-negative integer, at most labelled")]
    for name in ERROR_FIELDS:
        value = errors[name]
        if not finite(value) or (name != "value_sum" and value < 0):
            kind = "finite number" if name == "value_sum" else "finite non-negative number"
            return [(f".errors.{name}", f"must be a {kind}")]
    return []
