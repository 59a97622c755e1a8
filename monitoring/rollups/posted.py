"""Summaries as a first-class input: hourly summaries posted instead of raw events.

A serving host or a Spark job fetches a version's layouts (`layouts_describe`), summarises
each hour of its rows on them (`steward_client.summary_mode`) and posts the hours
(`summaries_post`). Each posted hour is stored as it came, one row per (deployment, hour,
source) (`PostedSummary`), and the hour is marked stale like an hour of new events. When the
monitoring job rebuilds the hour, the summary of its raw events (if any) is merged with every
source's posted summary (`posted_hours`), so a rebuild never loses nor doubles them; a source
posting the same hour again replaces its own row (the idempotency key is the source).
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import psycopg
from django.db import connection, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from psycopg.types.json import Jsonb
from steward_client.health import empty_health, health_problems, merge_health
from steward_client.summaries import (
    FORMAT,
    PACKED,
    CategoricalLayout,
    CategoricalSummary,
    Layout,
    NumericLayout,
    NumericSummary,
    Summary,
    merge,
    summary_from_dict,
)

from governance import audit
from monitoring.ingestion import storage
from monitoring.models import PostedSummary, ReferenceProfile
from monitoring.rollups import staleness
from monitoring.rollups.posted_blobs import (
    CATEGORICAL_TOTAL,
    StoredSummary,
    arrays_problems,
    blob_of,
    dicts_of_blob,
    is_blob,
    packed_problems,
    stored_of,
    summaries_of_blob,
)
from monitoring.rollups.posted_checks import natural, performance_problems
from monitoring.rollups.profiles import (
    PREDICTION_FEATURE,
    ReferenceMissing,
    profile_layouts,
    reference_profile_get_or_build,
)
from registry import limits
from registry.actors import Actor
from registry.choices import Action
from registry.models import Deployment, ModelVersion
from registry.services.common import require_object

HOUR = dt.timedelta(hours=1)
DEFAULT_SOURCE = "default"
MAX_SOURCE_LENGTH = 200


class NoLayouts(Exception):
    """The version has no reference profile (and none can be built yet): 409."""


class LayoutMismatch(Exception):
    """The posted layout digest is not the deployed version's: 409, naming both."""


class SummariesRejected(Exception):
    """The body is malformed: 400 with one (field path, message) per problem."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


def _profile(version: ModelVersion) -> ReferenceProfile:
    try:
        return reference_profile_get_or_build(version)
    except ReferenceMissing as exc:
        raise NoLayouts(
            f"version {version.pk} has no reference profile yet, so it has no layouts "
            f"to summarise on: {exc}"
        ) from exc


@dataclass(frozen=True)
class _Layouts:
    """A profile's layouts as summaries are checked against them: parsed, and as the dicts a
    posted summary carries (comparing dicts spares parsing every posted summary's edges)."""

    digest: str
    parsed: dict[str, Layout]
    dicts: dict[str, dict[str, Any]]


# Parsed layouts by profile digest (content-addressed: a digest names one set of layouts).
_LAYOUTS: dict[str, _Layouts] = {}
_LAYOUTS_KEPT = 256


def _layouts_of(version: ModelVersion) -> _Layouts:
    """The layouts of the version's reference profile (built on first use; NoLayouts when it
    cannot be), read from the database as the digest alone when they are known already."""
    digest = (
        ReferenceProfile.objects.filter(version=version).values_list("digest", flat=True).first()
    )
    if digest is not None and digest in _LAYOUTS:
        return _LAYOUTS[digest]
    profile = _profile(version)
    parsed = profile_layouts(profile)
    known = _Layouts(profile.digest, parsed, {n: lay.to_dict() for n, lay in parsed.items()})
    if len(_LAYOUTS) >= _LAYOUTS_KEPT:
        _LAYOUTS.clear()
    _LAYOUTS[profile.digest] = known
    return known


def layouts_describe(*, version: ModelVersion) -> dict[str, Any]:
    """The layouts summaries must be built on (the version's reference profile), with its
    digest; the prediction's layout apart from the features'. Builds the profile if the
    version has reference data but no profile yet; NoLayouts when it has none."""
    profile = _profile(version)
    layouts = dict(profile.layouts)
    prediction = layouts.pop(PREDICTION_FEATURE, None)
    return {
        "format": FORMAT,
        "version": version.pk,
        # The model's task tells a client how to count an hour's performance.
        "task": version.model.task,
        "digest": profile.digest,
        "features": layouts,
        "prediction": prediction,
    }


# --- validation -------------------------------------------------------------------------------


@dataclass
class _Hour:
    hour: dt.datetime
    count: int
    features: dict[str, StoredSummary] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    performance: dict[str, Any] | None = None


def _parse_hour(value: Any, now: dt.datetime) -> tuple[dt.datetime | None, str | None]:
    if not isinstance(value, str):
        return None, "must be an ISO 8601 time such as 2026-12-01T10:00:00Z"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, "must be an ISO 8601 time such as 2026-12-01T10:00:00Z"
    if moment.tzinfo is None:
        return None, "must carry a time zone (Z for UTC)"
    moment = moment.astimezone(dt.UTC)
    if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
        return None, "must be the start of an hour (minutes and seconds zero)"
    if moment > now:
        return None, "is in the future"
    return moment, None


def _summary_problems(
    data: Any, layout: Layout, layout_dict: dict[str, Any], count: int
) -> tuple[str | None, StoredSummary | None]:
    """What is wrong with one posted feature summary of an hour of `count` rows, or None and
    the summary as stored. The summary may be plain or packed (`encoding`), and may omit its
    `layout` (the body's layout_digest names it); one it carries must be `layout`
    (`layout_dict` is its dict form)."""
    if not isinstance(data, dict):
        return "must be a summary object", None
    if data.get("format") != FORMAT:
        return f"format must be {FORMAT}", None
    kind = "numeric" if isinstance(layout, NumericLayout) else "categorical"
    if data.get("kind") != kind:
        return f"must be a {kind} summary (its layout is {kind})", None
    if "layout" in data and data["layout"] != layout_dict:
        return "built on another layout than the version's (fetch the layouts again)", None
    encoding = data.get("encoding")
    if encoding == PACKED:
        return packed_problems(data, layout, count)
    if encoding is not None:
        return f"encoding must be {PACKED!r} or absent", None
    try:
        summary = summary_from_dict(data, layout)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        return f"malformed summary ({exc.__class__.__name__}: {exc})", None
    counts = summary.counts
    if counts.ndim != 1 or np.any(counts < 0):
        return "counts must be a list of non-negative integers", None
    if isinstance(summary, NumericSummary):
        message = _numeric_problems(summary, layout, count)  # type: ignore[arg-type]
    else:
        message = _categorical_problems(summary, count)
    return message, None if message else stored_of(summary)


def _categorical_problems(summary: Summary, count: int) -> str | None:
    assert isinstance(summary, CategoricalSummary)
    if summary.counts.size != len(summary.layout.categories) + 1:
        return "counts must hold one entry per category plus one for other"
    if summary.missing < 0 or summary.n_rows != count:
        return CATEGORICAL_TOTAL.format(count=count)
    return None


def _numeric_problems(summary: NumericSummary, layout: NumericLayout, count: int) -> str | None:
    if summary.counts.size != layout.n_slots:
        return f"counts must hold {layout.n_slots} slots for this layout"
    if int(summary.counts.sum()) != summary.count:
        return "count must equal the sum of counts"
    if min(summary.count, summary.missing, summary.invalid) < 0:
        return "count, missing and invalid must be non-negative"
    if summary.invalid > summary.missing:
        return "invalid cannot exceed missing"
    if summary.n_rows != count:
        return f"count plus missing must equal the hour's count ({count})"
    if not (math.isfinite(summary.total) and math.isfinite(summary.m2)) or summary.m2 < 0:
        return "sum and m2 must be finite and m2 non-negative"
    if summary.count and (summary.minimum is None or summary.maximum is None):
        return "min and max are required when count is positive"
    if summary.count and summary.minimum > summary.maximum:  # type: ignore[operator]
        return "min exceeds max"
    values, priorities = summary.sample_values, summary.sample_priorities
    if values.size != priorities.size or values.size > min(layout.sample_size, summary.count):
        return "the sample must pair values with priorities, at most sample_size of them"
    return None


def _hour_problems(
    index: int, entry: Any, known: _Layouts, now: dt.datetime, task: str
) -> tuple[_Hour | None, list[tuple[str, str]]]:
    """The hour of `entry` with its summaries as they are stored (without their layouts),
    or the problems found."""
    layouts = known.parsed
    path = f"hours[{index}]"
    if not isinstance(entry, dict):
        return None, [(path, "must be an object")]
    problems: list[tuple[str, str]] = []
    hour, message = _parse_hour(entry.get("hour"), now)
    if message:
        problems.append((f"{path}.hour", message))
    count = entry.get("count")
    if not isinstance(count, int) or not natural(count):
        return None, [*problems, (f"{path}.count", "must be a non-negative integer")]
    features = entry.get("features")
    if not isinstance(features, dict):
        return None, [*problems, (f"{path}.features", "must be an object of summaries")]
    posted = dict(features)
    expected = {name for name in layouts if name != PREDICTION_FEATURE}
    for name in sorted(set(posted) - expected):
        problems.append((f"{path}.features.{name}", "is not a feature of the layouts"))
    for name in sorted(expected - set(posted)):
        problems.append((f"{path}.features.{name}", "is missing (send every feature)"))
    if PREDICTION_FEATURE in layouts:
        prediction = entry.get("prediction")
        if prediction is None:
            problems.append((f"{path}.prediction", "is required: the layouts have a prediction"))
        else:
            posted[PREDICTION_FEATURE] = prediction
    elif entry.get("prediction") is not None:
        problems.append((f"{path}.prediction", "must be null: the layouts have no prediction"))
    stored: dict[str, StoredSummary] = {}
    found: dict[str, str] = {}
    for name in sorted(set(posted) & set(layouts)):
        message, checked = _summary_problems(posted[name], layouts[name], known.dicts[name], count)
        if message is not None:
            found[name] = message
        elif checked is not None:
            stored[name] = checked
    found |= arrays_problems(stored, count)
    for name in sorted(found):
        where = f"{path}.prediction" if name == PREDICTION_FEATURE else f"{path}.features.{name}"
        problems.append((where, found[name]))
    health = entry.get("health")
    if health is None:
        health = empty_health(count)
    elif why := limits.problem(health, limits.CAPS["monitoring.PostedSummary.health"]):
        problems.append((f"{path}.health", why))
    else:
        problems += [
            (f"{path}.health.{where}".rstrip("."), message)
            for where, message in health_problems(health, count)
        ]
    performance = entry.get("performance")
    if performance is not None:
        if why := limits.problem(performance, limits.CAPS["monitoring.PostedSummary.performance"]):
            problems.append((f"{path}.performance", why))
        else:
            problems += [
                (f"{path}.performance{where}", m)
                for where, m in performance_problems(performance, task)
            ]
    if problems or hour is None:
        return None, problems
    # Stored without layouts: they are the profile's (layout_digest), re-attached on reading
    # (`posted_hours`), so each row does not repeat a hundred bin edges a feature.
    return _Hour(hour, count, stored, health, performance), []


def _body_hours(body: Any, known: _Layouts, version_id: int, task: str) -> tuple[list[_Hour], str]:
    if not isinstance(body, dict):
        raise SummariesRejected([("", "the body must be a JSON object")])
    if body.get("format") != FORMAT:
        raise SummariesRejected([("format", f"must be {FORMAT}")])
    source = body.get("source", DEFAULT_SOURCE)
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE_LENGTH:
        raise SummariesRejected([("source", f"must be a name of 1 to {MAX_SOURCE_LENGTH} chars")])
    posted_digest = body.get("layout_digest")
    if not isinstance(posted_digest, str):
        raise SummariesRejected([("layout_digest", "is required (from the layouts endpoint)")])
    if posted_digest != known.digest:
        raise LayoutMismatch(
            f"layout_digest {posted_digest} is not the layouts of the deployed version "
            f"{version_id} (digest {known.digest}); fetch "
            f"GET /api/v1/versions/{version_id}/layouts/ and summarise on those"
        )
    entries = body.get("hours")
    if not isinstance(entries, list) or not entries:
        raise SummariesRejected([("hours", "must be a non-empty list")])
    now = timezone.now()
    hours: list[_Hour] = []
    problems: list[tuple[str, str]] = []
    seen: dict[dt.datetime, int] = {}
    for index, entry in enumerate(entries):
        hour, found = _hour_problems(index, entry, known, now, task)
        problems += found
        if hour is not None:
            if hour.hour in seen:
                problems.append((f"hours[{index}].hour", f"repeats hours[{seen[hour.hour]}]"))
            seen[hour.hour] = index
            hours.append(hour)
    if problems:
        raise SummariesRejected(problems)
    return hours, source.strip()


# --- the write --------------------------------------------------------------------------------


def summaries_post(*, deployment: Deployment, body: Any, actor: Actor) -> dict[str, Any]:
    """Store a body of posted hours (see the module docstring) in one transaction and mark the
    hours stale. Needs "deploy" on the deployment's model (PermissionDenied), as events do.
    LayoutMismatch / NoLayouts (409) or SummariesRejected (400) leave nothing stored."""
    require_object(actor, Action.DEPLOY, deployment)
    known = _layouts_of(deployment.version)
    task = deployment.version.model.task
    hours, source = _body_hours(body, known, deployment.version_id, task)
    stamps = [hour.hour for hour in hours]
    now = timezone.now()
    with transaction.atomic():
        before = dict(
            PostedSummary.objects.select_for_update()
            .filter(deployment=deployment, source=source, hour__in=stamps)
            .values_list("hour", "count")
        )
        user = actor if getattr(actor, "pk", None) else None
        rows = [
            PostedSummary(
                deployment=deployment,
                hour=hour.hour,
                source=source,
                count=hour.count,
                features=blob_of(hour.features),
                health=hour.health,
                performance=hour.performance,
                layout_digest=known.digest,
                posted_by=user,
                posted_at=now,
            )
            for hour in hours
        ]
        _rows_upsert(rows)
        events = sum(hour.count for hour in hours)
        added = events - sum(before.values())
        last = max(stamps) + HOUR - dt.timedelta(microseconds=1)
        storage.activity_widen(
            deployment_id=deployment.pk, added=added, first=min(stamps), last=min(last, now)
        )
        staleness.hours_mark_stale(deployment_id=deployment.pk, hours=stamps)
        result = {
            "deployment": deployment.pk,
            "source": source,
            "hours": len(hours),
            "replaced": len(before),
            "events": events,
            "feature_hours": len(hours) * len(known.parsed),
            "layout_digest": known.digest,
        }
        audit.record(
            actor=actor,
            action="monitoring.summaries.posted",
            target=deployment,
            after={key: result[key] for key in ("source", "hours", "replaced", "events")}
            | {"first_hour": min(stamps).isoformat(), "last_hour": max(stamps).isoformat()},
        )
    return result


_REPLACED = (
    "count",
    "features",
    "health",
    "performance",
    "layout_digest",
    "posted_by",
    "posted_at",
)
_UPSERT_CHUNK = 1000


def _rows_upsert(rows: list[PostedSummary]) -> None:
    """Insert the rows, each replacing its source's earlier row of the same hour. PostgreSQL
    gets the rows with their parameters bound on the server: Django's cursor inlines them in
    the SQL text, and hex-escaping about 40 KB of bytes an hour (then parsing them back)
    costs more than the insert itself."""
    if connection.vendor != "postgresql":
        PostedSummary.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["deployment", "hour", "source"],
            update_fields=list(_REPLACED),
        )
        return
    key = [_column(name) for name in ("deployment", "hour", "source")]
    replaced = [_column(name) for name in _REPLACED]
    columns = [*key, *replaced]
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in replaced)
    one = f"({', '.join(['%s'] * len(columns))})"
    connection.ensure_connection()
    # Column names come from the model, never from the request; the values are parameters.
    with psycopg.Cursor(connection.connection) as cursor:
        for start in range(0, len(rows), _UPSERT_CHUNK):
            part = rows[start : start + _UPSERT_CHUNK]
            cursor.execute(
                f"INSERT INTO {PostedSummary._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
                f"VALUES {', '.join([one] * len(part))} "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
                [value for row in part for value in _row_values(row)],
            )


def _column(name: str) -> str:
    field = PostedSummary._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def _row_values(row: PostedSummary) -> tuple[Any, ...]:
    return (
        row.deployment_id,
        row.hour,
        row.source,
        row.count,
        row.features,
        Jsonb(row.health, dumps=_json_text),
        None if row.performance is None else Jsonb(row.performance, dumps=_json_text),
        row.layout_digest,
        row.posted_by_id,
        row.posted_at,
    )


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# --- the read side of rebuilds ----------------------------------------------------------------


def features_of(stored: bytes | memoryview) -> dict[str, Any]:
    """The {feature: summary dict (plain form, no layout)} of a `PostedSummary.features`
    value, in the current binary format or the zlib-compressed JSON of older rows."""
    raw = bytes(stored)
    if is_blob(raw):
        return dicts_of_blob(raw)
    loaded: dict[str, Any] = orjson.loads(zlib.decompress(raw))
    return loaded


def _summaries_of(stored: bytes | memoryview, layouts: dict[str, Layout]) -> dict[str, Summary]:
    raw = bytes(stored)
    if is_blob(raw):
        return summaries_of_blob(raw, layouts)
    return {
        name: summary_from_dict(data, layouts[name])
        for name, data in orjson.loads(zlib.decompress(raw)).items()
    }


@dataclass
class PostedHour:
    """Every source's posted summaries of one hour, merged."""

    count: int
    features: dict[str, Summary]
    health: dict[str, Any]


def posted_hours(
    deployment: Deployment,
    hours: list[dt.datetime],
    profile_digest: str,
    layouts: dict[str, Layout],
) -> dict[dt.datetime, PostedHour]:
    """{hour: merged posted summaries} for the given hours, over the rows posted on the
    current profile (rows on an older reference stay stored but are not merged); `layouts`
    are that profile's (the stored summaries leave them out)."""
    merged: dict[dt.datetime, PostedHour] = {}
    if not hours:
        return merged
    rows = PostedSummary.objects.filter(
        deployment=deployment, hour__in=hours, layout_digest=profile_digest
    ).values_list("hour", "count", "features", "health")
    for hour, count, features, health in rows.iterator(chunk_size=500):
        summaries = _summaries_of(features, layouts)
        known = merged.get(hour)
        if known is None:
            merged[hour] = PostedHour(count, summaries, health)
            continue
        known.count += count
        known.features = {n: merge(known.features[n], summaries[n]) for n in known.features}
        known.health = merge_health(known.health, health)
    return merged


@dataclass
class PostedDay:
    """What one UTC day's posted hours give its daily performance."""

    predictions: int = 0  # posted rows that are not errors (as raw days count "ok" events)
    performance: list[dict[str, Any]] = field(default_factory=list)  # the hours that carry it


def _day_runs(days: list[dt.date]) -> Q:
    """The days as ranges of `hour`, consecutive days merged into one range."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + dt.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    condition = Q()
    for first, last in runs:
        start = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(last, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1)
        condition |= Q(hour__gte=start, hour__lt=end)
    return condition


def posted_days(deployment: Deployment, days: list[dt.date]) -> dict[dt.date, PostedDay]:
    """{day: PostedDay} for the given UTC days that hold posted hours, in one query. Every
    source's rows count, on any reference profile: outcomes do not depend on the layouts, and
    a source re-posting an hour replaces its row whatever the profile."""
    found: dict[dt.date, PostedDay] = {}
    if not days:
        return found
    rows = PostedSummary.objects.filter(_day_runs(days), deployment=deployment).values_list(
        "hour", "count", "health__errors", "performance"
    )
    for hour, count, errors, performance in rows.iterator(chunk_size=500):
        posted = found.setdefault(hour.astimezone(dt.UTC).date(), PostedDay())
        posted.predictions += count - int(errors or 0)
        if performance is not None:
            posted.performance.append(performance)
    return found


def posted_counts(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, profile_digest: str
) -> dict[dt.datetime, int]:
    """{hour: rows posted as summaries} in [start, end), on the current profile."""
    return dict(
        PostedSummary.objects.filter(
            deployment=deployment, hour__gte=start, hour__lt=end, layout_digest=profile_digest
        )
        .order_by()
        .values("hour")
        .annotate(n=Sum("count"))
        .values_list("hour", "n")
    )


__all__ = [
    "CategoricalLayout",
    "LayoutMismatch",
    "NoLayouts",
    "PostedDay",
    "PostedHour",
    "SummariesRejected",
    "layouts_describe",
    "posted_counts",
    "posted_days",
    "posted_hours",
    "summaries_post",
]
