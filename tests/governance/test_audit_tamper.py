"""Tamper trials. Changing, deleting or swapping entries is named by sequence number; a
rewrite that recomputes every later hash and the head is caught by the signed checkpoints
and placed in its checkpoint window. Most trials run on the exported entries in memory (the
attack is the same); a handful run on the database with the guard triggers dropped, as an
attacker with the table owner's rights would."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings

from governance import audit
from governance.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    ChainVerdict,
    entry_hash,
    verify_chain,
)
from governance.audit.checkpointing import stored_checkpoints
from governance.audit.checkpoints import Checkpoint, verify_log
from governance.audit.verification import (
    AuditReport,
    audit_report,
    chain_head,
    stored_entries,
    trusted_keys,
)
from tests import factories

ENTRIES = 320  # the last 20 are after the last checkpoint
DB_ENTRIES = 160  # for the trials on the database, which rebuild the log for each test
EVERY = 50
TRIALS = 120
SEED = 20261122
TAMPERABLE = (*HASHED_FIELDS, "hash")
PAYLOAD = tuple(f for f in HASHED_FIELDS if f not in ("seq", "prev_hash"))

Entries = list[dict[str, Any]]

# Every test needs the database, if only to build the exported chain once.
pytestmark = pytest.mark.django_db


@dataclass
class Chain:
    entries: Entries
    checkpoints: list[Checkpoint]
    keys: dict[str, Any]
    head: tuple[int, str]

    @property
    def signed(self) -> list[int]:
        return sorted(cp.seq for cp in self.checkpoints)

    def verify(self, entries: Entries, head: tuple[int, str] | None = None) -> ChainVerdict:
        return verify_log(
            entries, checkpoints=self.checkpoints, public_keys=self.keys, head=head or self.head
        )

    def window_of(self, seq: int) -> tuple[int, int]:
        end = min(cp for cp in self.signed if cp >= seq)
        return max((cp for cp in self.signed if cp < seq), default=0) + 1, end


def build_chain(owner: Any, size: int) -> Chain:
    """A log of `size` varied entries, signed every 50, read back as the verifier sees it."""
    rng = random.Random(SEED)
    for i in range(size):
        audit.record(
            actor=owner if i % 3 else "system",
            action=f"test.action.{i % 7}",
            target=owner if i % 5 == 0 else None,
            before={"i": i - 1} if i % 2 else None,
            after={"i": i, "note": "x" * rng.randint(0, 12)},
        )
    head = chain_head()
    assert head is not None
    return Chain(list(stored_entries()), stored_checkpoints(), trusted_keys(), head)


@pytest.fixture(scope="module")
def exported(django_db_setup, django_db_blocker, tmp_path_factory) -> Chain:
    """One chain for the in-memory trials, built once and rolled back out of the database."""
    folder = tmp_path_factory.mktemp("exported-chain")
    files = {
        "STEWARD_AUDIT_CHECKPOINT_EVERY": EVERY,
        "STEWARD_AUDIT_KEY": folder / "audit-ed25519.pem",
        "STEWARD_AUDIT_CHECKPOINT_DIR": folder / "audit-checkpoints",
    }
    with django_db_blocker.unblock(), override_settings(**files), transaction.atomic():
        chain = build_chain(factories.UserFactory(username="olivia"), ENTRIES)
        transaction.set_rollback(True)
    return chain


@pytest.fixture
def chain(db, settings, owner, django_capture_on_commit_callbacks) -> Chain:
    """A shorter chain in this test's database, its checkpoint files written."""
    settings.STEWARD_AUDIT_CHECKPOINT_EVERY = EVERY
    with django_capture_on_commit_callbacks(execute=True):
        return build_chain(owner, DB_ENTRIES)


# Attacks on an exported list of entries ---------------------------------------------------


def forged(field: str, value: Any) -> Any:
    """A value for `field` that differs from `value`."""
    if field == "seq":
        return value + 10_000
    if field == "actor_id":
        return (value or 0) + 1
    if field in ("before", "after"):
        return {"forged": True}
    if field in ("hash", "prev_hash"):
        return ("1" if value[0] == "0" else "0") + value[1:]
    if field == "created_at":
        return ("2001" if not value.startswith("2001") else "2002") + value[4:]
    return value + "~"


def modify(entries: Entries, rng: random.Random) -> tuple[Entries, int, str]:
    seq, field = rng.randint(1, len(entries)), rng.choice(TAMPERABLE)
    out = list(entries)
    out[seq - 1] = dict(out[seq - 1], **{field: forged(field, out[seq - 1][field])})
    out.sort(key=lambda e: e["seq"])  # as the database reads them: ORDER BY seq
    return out, seq, f"modify {field} of {seq}"


def delete(entries: Entries, rng: random.Random) -> tuple[Entries, int, str]:
    seq = rng.randint(1, len(entries))
    return [e for e in entries if e["seq"] != seq], seq, f"delete {seq}"


def swap(entries: Entries, rng: random.Random) -> tuple[Entries, int, str]:
    first, second = sorted(rng.sample(range(1, len(entries) + 1), 2))
    out = list(entries)
    a, b = out[first - 1], out[second - 1]
    out[first - 1], out[second - 1] = dict(b, seq=first), dict(a, seq=second)
    return out, first, f"swap {first} and {second}"


def rehash_from(entries: Entries, index: int) -> None:
    """What the attacker does next: relink and recompute every hash from `index` on."""
    prev = entries[index - 1]["hash"] if index else GENESIS_HASH
    for i in range(index, len(entries)):
        entries[i] = dict(entries[i], prev_hash=prev)
        entries[i]["hash"] = prev = entry_hash(entries[i])


def recompute_attack(
    entries: Entries, rng: random.Random, last: int, first: int = 1
) -> tuple[Entries, int, str]:
    """Rewrite, delete or insert at a seq in first..last, renumber, recompute the rest."""
    seq, kind = rng.randint(first, last), rng.choice(["rewrite", "delete", "insert"])
    out = list(entries)
    if kind == "rewrite":
        field = rng.choice(PAYLOAD)
        out[seq - 1] = dict(out[seq - 1], **{field: forged(field, out[seq - 1][field])})
    elif kind == "delete":
        del out[seq - 1]
    else:
        out.insert(seq - 1, dict(out[seq - 1], action="forged.entry"))
    for i in range(seq - 1, len(out)):
        out[i] = dict(out[i], seq=i + 1)
    rehash_from(out, seq - 1)
    return out, seq, f"{kind} {seq} and recompute"


def test_over_100_random_changes_deletions_and_swaps_are_named_by_sequence_number(exported):
    rng = random.Random(SEED)
    attacks: list[Callable[..., tuple[Entries, int, str]]] = [modify, delete, swap]
    missed = []
    for trial in range(TRIALS):
        entries, bad_seq, what = rng.choice(attacks)(exported.entries, rng)
        verdict = exported.verify(entries)
        if verdict.ok or verdict.bad_seq != bad_seq:
            missed.append((trial, what, verdict))
    assert missed == []
    assert exported.verify(exported.entries).ok


def test_over_100_random_recompute_attacks_are_caught_in_their_checkpoint_window(exported):
    rng = random.Random(SEED + 1)
    missed = []
    for trial in range(TRIALS):
        entries, seq, what = recompute_attack(exported.entries, rng, exported.signed[-1])
        head = (len(entries), entries[-1]["hash"])
        assert verify_chain(entries, head=head).ok, "the attack must defeat the bare chain"
        verdict = exported.verify(entries, head)
        start, end = exported.window_of(seq)
        if verdict.ok or verdict.window != (start, end) or verdict.bad_seq != start:
            missed.append((trial, what, verdict))
    assert missed == []


def test_a_recompute_attack_reports_the_window_and_the_checkpoint_that_caught_it(exported):
    entries, seq, _ = recompute_attack(exported.entries, random.Random(3), exported.signed[-1])
    verdict = exported.verify(entries, (len(entries), entries[-1]["hash"]))
    start, end = exported.window_of(seq)
    assert verdict.signed_through == start - 1
    assert f"checkpoint at entry {end}" in verdict.reason
    assert f"entries {start}..{end} were rewritten" in verdict.reason


def test_entries_cut_off_the_end_with_the_head_rewound_are_caught_by_a_checkpoint(exported):
    kept = exported.entries[:230]  # 231..320 dropped, the head rewound to 230
    verdict = exported.verify(kept, (230, kept[-1]["hash"]))
    assert not verdict.ok and verdict.bad_seq == 231 and verdict.window == (201, 250)
    assert "missing" in verdict.reason


def test_a_rewrite_after_the_last_checkpoint_is_beyond_what_the_signatures_cover(exported):
    """The limit, stated: entries newer than the last checkpoint rest on the head alone, so
    `signed_through` tells the reader how far the signatures vouch."""
    entries, _, _ = recompute_attack(exported.entries, random.Random(5), ENTRIES, first=301)
    verdict = exported.verify(entries, (len(entries), entries[-1]["hash"]))
    assert verdict.ok and verdict.signed_through == 300


@pytest.mark.parametrize("other", ["0" * 64, "f" * 64])
def test_two_checkpoints_disagreeing_about_one_entry_fail_whichever_is_checked_first(
    exported, other
):
    """After a restore from an old backup both may be validly signed; one is wrong."""
    hashes = {e["seq"]: e["hash"] for e in exported.entries}
    anchors = [(50, hashes[50]), (100, hashes[100]), (100, other)]
    verdict = verify_chain(exported.entries, anchors=anchors)
    assert not verdict.ok and verdict.window == (51, 100) and verdict.signed_through == 50


# The same attacks on the database, guard triggers dropped ------------------------------


class Undo(Exception):
    """Raised to roll a trial back."""


def on_database(trial: Callable[[Any], None]) -> AuditReport:
    """Run one attack in a savepoint, verify the stored log, then undo the attack."""
    reports: list[AuditReport] = []
    with contextlib.suppress(Undo), transaction.atomic():
        with connection.cursor() as cursor:
            trial(cursor)
        reports.append(audit_report())
        raise Undo
    return reports[0]


def test_database_changes_deletions_and_swaps_are_named_by_sequence_number(chain, attacker):
    rng = random.Random(SEED + 2)

    def change(seq: int, column: str) -> Callable[[Any], None]:
        sql = {
            "action": "UPDATE governance_auditevent SET action = action || '~' WHERE seq = %s",
            "repr": "UPDATE governance_auditevent SET target_repr = 'forged' WHERE seq = %s",
        }[column]
        return lambda c: c.execute(sql, [seq])

    def drop(seq: int) -> Callable[[Any], None]:
        return lambda c: c.execute("DELETE FROM governance_auditevent WHERE seq = %s", [seq])

    def exchange(i: int, j: int) -> Callable[[Any], None]:
        def run(c: Any) -> None:
            rows = {e["seq"]: e for e in chain.entries if e["seq"] in (i, j)}
            for mine, theirs in ((i, j), (j, i)):
                c.execute(
                    "UPDATE governance_auditevent SET action = %s, actor_name = %s WHERE seq = %s",
                    [rows[theirs]["action"], rows[theirs]["actor_name"], mine],
                )

        return run

    seqs = rng.sample(range(1, DB_ENTRIES + 1), 4)
    trials = [
        (change(seqs[0], "action"), seqs[0]),
        (change(seqs[1], "repr"), seqs[1]),
        (drop(seqs[2]), seqs[2]),
        (drop(DB_ENTRIES), DB_ENTRIES),
        (exchange(7, 8), 7),  # actions test.action.0 and .1
        (exchange(100, 150), 100),
    ]
    found = [on_database(attack).verdict.bad_seq for attack, _ in trials]
    assert found == [expected for _, expected in trials]
    assert audit_report().verdict.ok


def _move_head(c: Any, entries: Entries) -> None:
    c.execute(
        "UPDATE governance_auditchainhead SET seq = %s, hash = %s",
        [len(entries), entries[-1]["hash"]],
    )


def rewrite_and_rehash(chain: Chain, seq: int) -> Callable[[Any], None]:
    """Change entry `seq`'s action, then store recomputed links and hashes, and the head."""
    out = list(chain.entries)
    out[seq - 1] = dict(out[seq - 1], action="forged.action")
    rehash_from(out, seq - 1)

    def run(c: Any) -> None:
        c.execute(
            "UPDATE governance_auditevent SET action = %s WHERE seq = %s",
            [out[seq - 1]["action"], seq],
        )
        for e in out[seq - 1 :]:
            c.execute(
                "UPDATE governance_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
                [e["prev_hash"], e["hash"], e["seq"]],
            )
        _move_head(c, out)

    return run


def delete_and_rehash(chain: Chain, seq: int) -> Callable[[Any], None]:
    """Delete entry `seq`, renumber the later ones, store recomputed hashes and the head."""
    out = [e for e in chain.entries if e["seq"] != seq]
    for i in range(seq - 1, len(out)):
        out[i] = dict(out[i], seq=i + 1)
    rehash_from(out, seq - 1)

    def run(c: Any) -> None:
        c.execute("DELETE FROM governance_auditevent WHERE seq = %s", [seq])
        for e in out[seq - 1 :]:
            c.execute(
                "UPDATE governance_auditevent SET seq = %s, prev_hash = %s, hash = %s "
                "WHERE seq = %s",
                [e["seq"], e["prev_hash"], e["hash"], e["seq"] + 1],
            )
        _move_head(c, out)

    return run


def test_database_recompute_attacks_are_caught_in_their_checkpoint_window(chain, attacker):
    rng = random.Random(SEED + 3)
    seqs = [*sorted(rng.sample(range(1, chain.signed[-1] + 1), 3)), EVERY, EVERY + 1]
    attacks = [rewrite_and_rehash, delete_and_rehash]
    found, expected = [], []
    for n, seq in enumerate(seqs):
        verdict = on_database(attacks[n % 2](chain, seq)).verdict
        found.append((verdict.ok, verdict.bad_seq, verdict.window))
        start, end = chain.window_of(seq)
        expected.append((False, start, (start, end)))
    assert found == expected


def test_deleting_the_checkpoint_rows_too_does_not_hide_a_recompute_attack(chain, attacker):
    rewrite = rewrite_and_rehash(chain, 120)

    def run(c: Any) -> None:
        rewrite(c)
        c.execute("DELETE FROM governance_auditcheckpoint")

    report = on_database(run)
    assert not report.verdict.ok and report.verdict.window == (101, 150)
    assert "checkpoint at entry 150 is on file but not in the database" in report.notes
