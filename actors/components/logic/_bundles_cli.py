"""``bms logic bundle build|key``, ``bms logic deploy|rollback|versions``: signed bundles of programs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from bms.cli import connect, console, data_option, json_option, print_json
from bms.logic import build, generate_key, key_id, load_private_key
from bms.logic.messages import BundleVersion


@click.group("bundle")
def bundle_group() -> None:
    """Build signed bundles of programs (offline)."""


@bundle_group.command("key")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def key_command(path: Path) -> None:
    """Make a signing key (PATH, mode 0600) and its public key (PATH.pub, for the site's [logic] trusted_keys)."""
    public = generate_key(path)
    console.print(f"private key {path}, public key {path}.pub:")
    console.print(public, markup=False, highlight=False)


@bundle_group.command("build")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--key", "key_path", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="The private key to sign with (bms logic bundle key).")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The bundle file (default: logic-VERSION.bundle in the current directory).")
def build_command(directory: Path, key_path: Path, out: Path | None) -> None:
    """A signed bundle of DIRECTORY's programs (a bundle.toml there gives version and constraints)."""
    import tomllib

    key = load_private_key(key_path)
    data = build(directory, key)
    version = tomllib.loads((directory / "bundle.toml").read_text(encoding="utf-8")).get("version", "bundle")
    target = out or Path(f"logic-{version}.bundle")
    target.write_bytes(data)
    console.print(f"bundle {version} signed by key {key_id(key)}: {target} ({len(data)} bytes)")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _line(v: BundleVersion, what: str, as_json: bool) -> None:
    if as_json:
        print_json(v)
    else:
        console.print(f"{what} bundle {v.version} (key {v.key_id}): its programs are running")


@click.command("deploy")
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@data_option
@json_option
def deploy_command(bundle: Path, data: Path | None, as_json: bool) -> None:
    """Deploy a signed bundle: verified, validated and dry-run, then it replaces the running programs."""
    _line(connect(data).post("/api/logic/bundles", BundleVersion, {"bundle": bundle.read_bytes()}), "deployed", as_json)


@click.command("rollback")
@data_option
@json_option
def rollback_command(data: Path | None, as_json: bool) -> None:
    """Back to the bundle deployed before the active one."""
    _line(connect(data).post("/api/logic/bundles/rollback", BundleVersion), "rolled back to", as_json)


@click.command("versions")
@data_option
@json_option
def versions_command(data: Path | None, as_json: bool) -> None:
    """The deployed bundles: version, signer, who and when, which is active, which failed to start."""
    views = connect(data).get("/api/logic/bundles", list[BundleVersion])
    if as_json:
        print_json(views)
        return
    table = Table(caption=f"{len(views)} bundle(s)", caption_justify="left")
    for column in ("version", "deployed", "by", "key", "status", ""):
        table.add_column(column)
    for v in views:
        table.add_row(v.version, _when(v.deployed_at), v.user, v.key_id,
                      Text(v.status + (f": {v.detail}" if v.detail else ""), "red" if v.status == "failed" else ""),
                      Text("active", "bold green") if v.active else "")
    console.print(table)
