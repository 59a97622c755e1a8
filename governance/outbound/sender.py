"""Send one delivery row: claim it, sign and post its payload to a vetted address, record the
outcome, and set the next attempt with exponential backoff.

The claim is a compare-and-set update (`pending and due -> sending`, keyed on the attempt
count the caller read), so a redelivered task message, a second beat run or a stale row in
memory finds nothing to claim and posts nothing. A claim older than the lease (its worker
died mid-post) may be taken over. A URL or address the rules refuse, and a redirect, fail the
delivery at once with the reason: retrying would not change the answer.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from governance.outbound import addresses, transport
from governance.outbound.models import DeliveryState, OutboundDelivery
from governance.outbound.signing import HEADER, sign

ERROR_KEEP = 2000  # characters of attempt history kept on the row


@dataclass(frozen=True)
class Policy:
    """How often and how far apart a delivery is tried: `base_s`, 2 x base, 4 x base ... up
    to `cap_s`, `max_attempts` attempts in all."""

    max_attempts: int
    base_s: float
    cap_s: float | None = None

    def next_attempt_at(self, *, attempts: int, now: dt.datetime) -> dt.datetime | None:
        """When a delivery that failed `attempts` times is due again; None when given up."""
        if attempts >= self.max_attempts:
            return None
        wait = self.base_s * 2 ** (attempts - 1)
        return now + dt.timedelta(seconds=min(wait, self.cap_s) if self.cap_s else wait)


def lease() -> dt.timedelta:
    """How long a claim holds: far longer than one post can take (connect, send, answer)."""
    return dt.timedelta(seconds=10 * settings.STEWARD_WEBHOOK_TIMEOUT_S)


def due(now: dt.datetime) -> Q:
    """Rows a sender may claim at `now`: pending and due, or claimed by a worker that died."""
    return Q(state=DeliveryState.PENDING, next_attempt_at__lte=now) | Q(
        state=DeliveryState.SENDING, claimed_at__lt=now - lease()
    )


def body_of(payload: Any) -> bytes:
    """The bytes posted and signed: canonical JSON (sorted keys, no spaces)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def claim(row: OutboundDelivery, *, now: dt.datetime) -> bool:
    """Take the row for one attempt; False when another run took or finished it."""
    rows = type(row)._default_manager.filter(due(now), pk=row.pk, attempts=row.attempts)
    taken = rows.update(state=DeliveryState.SENDING, claimed_at=now, attempts=row.attempts + 1)
    if taken == 1:
        row.state, row.claimed_at, row.attempts = DeliveryState.SENDING, now, row.attempts + 1
    return taken == 1


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, bool]:
    """(status code or None, error text or "", whether to give up now)."""
    timeout = settings.STEWARD_WEBHOOK_TIMEOUT_S
    try:
        status, reason = transport.post(url=url, body=body, headers=headers, timeout=timeout)
    except addresses.Refused as exc:
        return None, f"refused: {exc}", True
    except (OSError, http.client.HTTPException) as exc:
        return None, (str(exc) or type(exc).__name__)[:500], False
    if 200 <= status < 300:
        return status, "", False
    if 300 <= status < 400:
        return status, f"HTTP {status} {reason}: redirects are not followed", True
    return status, f"HTTP {status} {reason}".strip(), False


def deliver(
    row: OutboundDelivery,
    *,
    url: str,
    secret: str,
    event: str,
    policy: Policy,
    now: dt.datetime | None = None,
) -> str:
    """Claim `row`, post its payload to `url` signed with `secret`, record the outcome. The
    row's state afterwards ("pending" means a retry is due at `next_attempt_at`), or "" when
    nothing was claimed (another run has it, or it is not due)."""
    now = now or timezone.now()
    if not claim(row, now=now):
        return ""
    body = body_of(row.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Steward-Webhook/1",
        "X-Steward-Event": event,
        "X-Steward-Delivery": str(row.pk),
    }
    if secret:
        headers[HEADER] = sign(secret, body)
    status, error, give_up = _post(url, body, headers)
    return _record(row, status=status, error=error, give_up=give_up, policy=policy, now=now)


def _record(
    row: OutboundDelivery,
    *,
    status: int | None,
    error: str,
    give_up: bool,
    policy: Policy,
    now: dt.datetime,
) -> str:
    """Write the attempt's outcome, if the claim is still this run's."""
    changes: dict[str, Any] = {"status_code": status, "claimed_at": None}
    if not error:
        changes |= {"state": DeliveryState.DELIVERED, "delivered_at": timezone.now()}
        changes["next_attempt_at"] = None
    else:
        history = f"{row.error}\nattempt {row.attempts}: {error}"
        later = None if give_up else policy.next_attempt_at(attempts=row.attempts, now=now)
        changes |= {"error": history.strip()[-ERROR_KEEP:], "next_attempt_at": later}
        changes["state"] = DeliveryState.PENDING if later else DeliveryState.FAILED
    mine = type(row)._default_manager.filter(
        pk=row.pk, state=DeliveryState.SENDING, claimed_at=row.claimed_at
    )
    if mine.update(**changes) != 1:
        return ""  # the lease ran out and another run took the row over: its outcome counts
    for name, value in changes.items():
        setattr(row, name, value)
    return row.state
