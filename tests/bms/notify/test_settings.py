"""``[notify]`` is checked like any section: every problem at once, one line each, names checked across keys."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bms.cli import cli
from bms.config import load_settings
from bms.notify import NotifySection

GOOD = """
[notify]
digest_interval = 120
timezone = "Europe/London"

[[notify.recipients]]
name = "ops"
url = "mailto://127.0.0.1:2525?from=bms@example.org&to=ops@example.org"

[[notify.recipients]]
name = "pager"
url = "json://127.0.0.1:9/hook"
enabled = false

[notify.windows.nights]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "22:00"
end = "06:00"

[[notify.rules]]
name = "after-hours"
recipients = ["pager"]
min_severity = "high"
outside = ["business-hours"]
escalation = [{after_minutes = 15, recipients = ["ops"]}]
"""

BAD = """
[notify]
digest_interval = 0
timezone = "Europe/Londn"

[[notify.recipients]]
name = "ops"
url = "mailto://127.0.0.1:2525?to=ops@example.org"

[[notify.recipients]]
name = "ops"
url = "json://127.0.0.1:9/"

[[notify.recipients]]
name = "hook"
url = "127.0.0.1:9"

[[notify.rules]]
name = "all"
recipients = ["opz"]
during = ["busines-hours"]
min_severity = "urgent"
escalation = [{after_minutes = 15, recipients = ["boss"]}, {after_minutes = 5, recipients = ["ops"]},
              {after_minutes = 5, recipients = ["ops"]}]

[[notify.rules]]
name = "empty"
recipients = []
"""


def test_a_good_section_loads_with_the_default_windows_beside_its_own(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text(GOOD)
    settings, _ = load_settings(path, {"notify": NotifySection})
    section = settings.sections["notify"]
    assert isinstance(section, NotifySection)
    assert set(section.all_windows) == {"business-hours", "weekends", "nights"}
    assert section.rules[0].escalation[0].recipients == ["ops"]
    assert section.recipient("pager") is not None and not section.recipient("pager").enabled  # type: ignore[union-attr]


def test_bms_config_check_reports_every_problem_of_the_section(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text(BAD)
    result = CliRunner().invoke(cli, ["config", "check", str(path)])
    assert result.exit_code == 1
    lines = [line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith(str(path))]
    assert sorted(lines) == sorted([
        "notify.digest_interval: must be above 0, got 0",
        "notify.timezone: unknown time zone 'Europe/Londn' (did you mean 'Europe/London'?)",
        "notify.recipients[1].name: a second recipient named 'ops'",
        "notify.recipients[2].url: must be an apprise URL (scheme://...), got '127.0.0.1:9'",
        "notify.rules[0].recipients[0]: no recipient named 'opz' (did you mean 'ops'?)",
        "notify.rules[0].during[0]: no window named 'busines-hours' (did you mean 'business-hours'?)",
        "notify.rules[0].min_severity: must be one of 'critical', 'high', 'low', 'medium', got 'urgent'",
        "notify.rules[0].escalation: at most 2 steps (three levels in all), got 3",
        "notify.rules[0].escalation[0].recipients[0]: no recipient named 'boss'",
        "notify.rules[1].recipients: must name at least one recipient",
    ]), result.output
