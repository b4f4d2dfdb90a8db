"""``[mqtt]`` checked with the rest of the settings by ``bms config check``: every problem one line, named."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bms.cli import cli
from tests.conftest import ROOT


def test_every_problem_of_the_mqtt_section_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bms.toml"
    path.write_text(f'[daemon]\nscenario = "{ROOT / "tests/data/site.toml"}"\n\n[mqtt]\nurl = "http://x"\n'
                    'topics = {{ value = "{{prefix}}/{{pont}}" }}\nqos = {{ value = 3 }}\nvalues = "some"\n'
                    .replace("{{", "{").replace("}}", "}"))
    result = CliRunner().invoke(cli, ["config", "check", str(path)], prog_name="bms")
    assert result.exit_code == 1
    lines = [line.replace(f"{path}: ", "bms.toml: ") for line in result.stdout.splitlines() + result.stderr.splitlines()]
    assert "bms.toml: mqtt.url: scheme must be mqtt:// or mqtts://, got 'http://x'" in lines
    assert "bms.toml: mqtt.qos.value: must be 0..2, got 3" in lines
    assert any(line.startswith("bms.toml: mqtt.topics.value: unknown placeholder {pont}") for line in lines)
    assert any(line.startswith("bms.toml: mqtt.values:") for line in lines)
    assert "Traceback" not in result.output
