"""``bms config check``: validate settings, scenarios and profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from bms.cli._app import cli, console, err_console, print_json
from bms.config import (
    CONF_DIR,
    LoadedScenario,
    kind_of,
    load_profile,
    load_scenario,
    load_settings,
    read_toml,
    scenario_path,
)
from bms.errors import ConfigError


def component_problems() -> list[str]:
    """Installed components that cannot be loaded or cannot start (missing requirements, cycles)."""
    from bms.components import installed, start_plan

    found = installed()
    plan = start_plan(found.components, [b.name for b in found.broken])
    return [*(f"component {b.name}: {b.reason}" for b in found.broken), *plan.problems()]


def component_checks(sections: dict[str, Any], loaded: LoadedScenario, nodes: list[Any]) -> tuple[list[str], list[str]]:
    """What each installed component with ``checks`` finds wrong in its own files; the components checked."""
    from bms.components import installed

    problems: list[str] = []
    checked: list[str] = []
    for component in installed().components:
        if component.checks is None:
            continue
        checked.append(component.name)
        try:
            problems.extend(component.checks(component.settings_from(sections), loaded, nodes))
        except Exception as err:  # a component's own failure is one line, never a traceback
            problems.append(f"component {component.name}: its check failed: {type(err).__name__}: {err}")
    return problems, checked


@cli.group("config")
def config_group() -> None:
    """Check configuration files."""


@config_group.command("check")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
def check(file: Path | None, as_json: bool) -> None:
    """Validate FILE (settings, scenario or profile; default conf/bms.toml).

    Every problem is printed at once as `file: section.key: message`.
    """
    path = file or CONF_DIR / "bms.toml"
    problems: list[str] = []
    summary: dict[str, object] = {"file": str(path)}
    try:
        kind = kind_of(read_toml(path))
        summary["kind"] = kind
        if kind == "profile":
            profile, problems = load_profile(path)
            if profile is not None:
                summary.update(profile=profile.name, points=len(profile.points))
        else:
            sections: dict[str, Any] = {}
            if kind == "settings":
                settings, spath = load_settings(path)
                sections = settings.sections
                path = scenario_path(settings, spath)
                summary["scenario"] = str(path)
            loaded = load_scenario(path)
            from bms.model import build_site  # the model brings SQLAlchemy: only when a scenario is checked

            nodes = build_site(loaded)
            summary.update(
                site=loaded.scenario.site.id,
                devices=len(loaded.scenario.devices),
                points=loaded.point_count,
                profiles=sorted(loaded.profiles),
            )
            problems, summary["components_checked"] = component_checks(sections, loaded, nodes)
    except ConfigError as err:
        problems = err.problems
    if summary.get("kind") in ("settings", "scenario"):
        problems = [*problems, *component_problems()]
    if as_json:
        print_json({"ok": not problems, "problems": problems, **summary})
        raise SystemExit(1 if problems else 0)
    if problems:
        for line in problems:
            err_console.print(f"[red]{escape(line)}[/]", highlight=False, soft_wrap=True)
        err_console.print(f"[bold red]{len(problems)} problem(s)[/]")
        raise SystemExit(1)
    if "devices" in summary:
        checked = summary.get("components_checked") or []
        console.print(
            f"[green]ok[/] {summary['file']}: site {summary['site']}, "
            f"{summary['devices']} devices, {summary['points']} points"
            + (f"; also checked: {', '.join(checked)}" if isinstance(checked, list) and checked else ""),
            highlight=False,
        )
    else:
        console.print(f"[green]ok[/] {summary['file']}: profile {summary.get('profile')}, {summary.get('points')} points",
                      highlight=False)
