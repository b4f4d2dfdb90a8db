"""`bms export` without a daemon: status from the outboxes, backfill run here (resumable, no duplicates)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bms.cli import cli
from bms.export import Outbox
from bms.history import HistoryWriter
from bms.messages import PointValue
from tests.conftest import ROOT, wait_until
from tests.export_servers import PG_DSN, pg_rows, pg_schema
from tests.notify_servers import closed_port

T0 = 1_700_000_000.0


def settings(tmp_path: Path, schema: str, dsn: str = PG_DSN, batch: int = 500) -> Path:
    path = tmp_path / "bms.toml"
    path.write_text(f"""
[[postgres.targets]]
name = "pg"
dsn = "{dsn}"
schema = "{schema}"
batch = {batch}
""")
    return path


def record(data: Path, n: int) -> None:
    data.mkdir(exist_ok=True)
    with HistoryWriter(data / "history.db") as writer:
        for p in ("ahu1/sat", "ahu1/rat"):
            writer.append(PointValue(point_id=p, value=float(i), ts=T0 + i) for i in range(n))


def test_a_backfill_runs_here_with_the_settings_and_status_reads_the_outbox(tmp_path: Path) -> None:
    data = tmp_path / "data"
    record(data, 1200)
    with pg_schema() as schema:
        conf = settings(tmp_path, schema)
        done = CliRunner().invoke(cli, ["export", "backfill", "pg", "--since", repr(T0 - 10), "--until", repr(T0 + 1e4),
                                        "--config", str(conf), "--data", str(data), "--json"])
        assert done.exit_code == 0, done.output
        progress = json.loads(done.output)
        assert progress["done"] and progress["sent"] == progress["total"] == 2400
        rows = pg_rows(schema)
        assert len(rows) == 2400 and rows[0] == ("ahu1/rat", T0, 0.0, None)
        status = CliRunner().invoke(cli, ["export", "status", "--config", str(conf), "--data", str(data), "--json"])
        assert status.exit_code == 0, status.output
        (target,) = json.loads(status.output)
        assert (target["name"], target["kind"], target["state"], target["buffered"]) == ("pg", "postgres", "idle", 0)
        assert target["backfill"]["done"] and target["backfill"]["sent"] == 2400


def test_a_target_that_is_down_is_one_line_and_an_unknown_one_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    record(data, 10)
    conf = settings(tmp_path, "public", dsn=f"postgresql://postgres@127.0.0.1:{closed_port()}/test")
    down = CliRunner().invoke(cli, ["export", "backfill", "pg", "--since", repr(T0 - 10), "--config", str(conf),
                                    "--data", str(data)])
    assert down.exit_code == 1 and down.output.startswith("error: OperationalError: connection")
    assert "Traceback" not in down.output
    unknown = CliRunner().invoke(cli, ["export", "backfill", "influx1", "--config", str(conf), "--data", str(data)])
    assert unknown.exit_code == 1 and "no export target named 'influx1' (targets: pg)" in unknown.output
    backwards = CliRunner().invoke(cli, ["export", "backfill", "pg", "--since", "1h", "--until", "2h",
                                         "--config", str(conf), "--data", str(data)])
    assert backwards.exit_code == 1 and "error: --since is not before --until" in backwards.output


def test_an_interrupted_backfill_resumes_where_it_stopped_without_duplicates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    record(data, 3000)
    with pg_schema() as schema:
        conf = settings(tmp_path, schema, batch=20)
        args = ["export", "backfill", "pg", "--since", repr(T0 - 10), "--until", repr(T0 + 1e4),
                "--config", str(conf), "--data", str(data)]
        proc = subprocess.Popen([sys.executable, "-m", "bms", *args], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            box = data / "exports" / "pg.db"

            def sent() -> int:
                if not box.exists():
                    return 0
                outbox = Outbox(box)
                try:
                    jobs = outbox.jobs()
                    return jobs[-1].sent if jobs else 0
                finally:
                    outbox.close()

            wait_until(lambda: sent() >= 200, timeout=60, what="the backfill to be under way")
            os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        stopped_at = sent()
        assert 200 <= stopped_at < 6000
        assert len(pg_rows(schema)) >= stopped_at
        again = CliRunner().invoke(cli, [*args, "--json"])
        assert again.exit_code == 0, again.output
        progress = json.loads(again.output)
        assert progress["done"] and progress["sent"] == progress["total"] == 6000
        rows = pg_rows(schema)
        assert len(rows) == 6000 and len(set(rows)) == 6000


def test_an_unfinished_backfill_goes_on_first_and_says_so_and_restart_sends_the_range_asked_for(
        tmp_path: Path) -> None:
    from bms.export import BackfillJob

    data = tmp_path / "data"
    record(data, 1000)
    (data / "exports").mkdir()

    def interrupted() -> None:  # what a Ctrl-C leaves: a job of the whole range, not done
        box = Outbox(data / "exports" / "pg.db")
        try:
            box.save_job(BackfillJob(id=f"old-{len(box.jobs())}", since=T0 - 10, until=T0 + 1e4))
        finally:
            box.close()

    with pg_schema() as schema:
        conf = settings(tmp_path, schema)
        args = ["export", "backfill", "pg", "--since", repr(T0 + 500), "--until", repr(T0 + 600),
                "--config", str(conf), "--data", str(data)]
        interrupted()
        went_on = CliRunner().invoke(cli, args)
        assert went_on.exit_code == 0, went_on.output
        said = " ".join(went_on.output.split())
        assert "going on with the unfinished backfill of" in said and "(0 of 0 rows sent)" in said
        assert "--restart ends it and sends the range asked for instead" in said
        assert "2000 of 2000 rows sent (done)" in said and len(pg_rows(schema)) == 2000  # its own range
        interrupted()
        restarted = CliRunner().invoke(cli, [*args, "--restart", "--json"])
        assert restarted.exit_code == 0, restarted.output
        progress = json.loads(restarted.output)
        assert not progress["resumed"] and progress["sent"] == progress["total"] == 200  # 100 s of 2 points
        assert (progress["since"], progress["until"]) == (T0 + 500, T0 + 600)
        box = Outbox(data / "exports" / "pg.db")
        try:
            assert [(j.id, j.done, j.sent) for j in box.jobs() if j.id.startswith("old")] == [
                ("old-0", True, 2000), ("old-1", True, 0)]  # the second ended by the restart, as it was
        finally:
            box.close()
        assert len(pg_rows(schema)) == 2000  # nothing twice


def test_bad_export_settings_are_one_line_each_with_did_you_mean(tmp_path: Path) -> None:
    bad = tmp_path / "bms.toml"
    bad.write_text("""
[[influx.targets]]
name = "vm"
url = "ftp://x"
batchsize = 3

[[webhooks.endpoints]]
name = "a"
url = "http://127.0.0.1:1/"
events = ["alarms"]
""")
    done = CliRunner().invoke(cli, ["config", "check", str(bad)])
    assert done.exit_code == 1
    assert f"{bad}: influx.targets[0].batchsize: unknown key (did you mean 'batch'?)" in done.output
    assert f"{bad}: influx.targets[0].url: must be an http:// or https:// URL, got 'ftp://x'" in done.output
    assert f"{bad}: webhooks.endpoints[0].events[0]: no event kind 'alarms' (did you mean 'alarm'?)" in done.output
