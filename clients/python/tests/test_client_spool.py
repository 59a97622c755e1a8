"""The spool keeps batches oldest first, claims them so two loggers never send one twice,
and when full drops the newest batch with a warning and a count (the oldest data is kept)."""

from __future__ import annotations

import logging

from steward_client.spool import Spool, spool_dir


def test_batches_come_back_oldest_first_and_go_when_done(tmp_path):
    spool = Spool(tmp_path / "s")
    for n in range(3):
        assert spool.write(f'{{"n": {n}}}\n'.encode(), rows=1)
    assert spool.pending_rows() == 3
    first = spool.claim_oldest()
    assert first is not None and first.body() == b'{"n": 0}\n' and first.rows == 1
    second = spool.claim_oldest()
    assert second is not None and second.body() == b'{"n": 1}\n'
    spool.release(second)  # a failed send gives it back, in its place
    spool.done(first)
    assert [p.read_bytes() for p in spool.pending()] == [b'{"n": 1}\n', b'{"n": 2}\n']


def test_a_full_spool_drops_the_new_batch_counts_it_and_warns(tmp_path, caplog):
    spool = Spool(tmp_path / "s", max_bytes=100)
    assert spool.write(b"x" * 60, rows=6)
    with caplog.at_level(logging.WARNING, logger="steward_client.spool"):
        assert not spool.write(b"y" * 60, rows=6)
    assert (spool.dropped_rows, spool.dropped_batches) == (6, 1)
    assert "dropped a batch of 6 rows" in caplog.text
    assert [p.read_bytes() for p in spool.pending()] == [b"x" * 60]


def test_claims_of_a_dead_process_are_released_on_start(tmp_path):
    spool = Spool(tmp_path / "s")
    spool.write(b"{}\n", rows=1)
    batch = spool.claim_oldest()
    assert batch is not None and spool.pending() == []
    dead = batch.path.with_name(batch.path.name.split(".claim-")[0] + ".claim-999999999-1")
    batch.path.rename(dead)
    assert Spool(tmp_path / "s").pending_rows() == 1


def test_one_folder_per_server_deployment_and_kind(tmp_path):
    a = spool_dir(tmp_path, "http://a.test/", 1, "predictions")
    assert a == spool_dir(tmp_path, "http://a.test", 1, "predictions")
    assert a != spool_dir(tmp_path, "http://b.test", 1, "predictions")
    assert a != spool_dir(tmp_path, "http://a.test", 2, "predictions")
    assert a != spool_dir(tmp_path, "http://a.test", 1, "ground-truth")
