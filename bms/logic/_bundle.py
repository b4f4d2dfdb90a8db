"""Bundles: a signed, versioned archive of programs (and the schedules and alarms they rely on).

A bundle is a gzipped tar (deterministic: sorted members, no times, no
owners) of::

    manifest.json       version, schema_version, created_at, created_by, block types,
                        each program's graph and default parameters, constraints,
                        and the SHA-256 of every other file
    signature.json      {"algorithm": "ed25519", "key_id", "signature"}: over manifest.json's bytes
    programs/*.toml     the program files
    schedules/*  alarms/*   opaque documents for the schedule and alarm engines

Its source is a directory: ``bundle.toml`` (``version``, optional
``created_by`` and ``[[constraints]]``), program files ``*.toml`` beside
it, and ``schedules/`` and ``alarms/`` folders. :func:`build` validates
and compiles every program first; :func:`verify` refuses an unsigned
bundle, an unknown key, a changed manifest, a changed, missing or unlisted
file, each with one line, and migrates an older ``schema_version`` (or
refuses it with the reason).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import io
import re
import tarfile
import time
import tomllib
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bms.errors import ConfigError, LogicError
from bms.logic._compile import compile_graph
from bms.logic._constraints import Constraint, constraint_problems
from bms.logic._keys import key_id, parse_public_key
from bms.logic._program import Program, load_program, program_from_text
from bms.logic._validate import analyse

SCHEMA_VERSION = 2
"""2: constraints and ``created_by``. 1 (the first draft: ``author``, no constraints) is migrated."""

MAX_BUNDLE_BYTES = 16 * 1024 * 1024
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


class BundleRefused(LogicError):
    """A bundle that must not be deployed; the message says why in one line."""


class ProgramEntry(msgspec.Struct, frozen=True):
    name: str
    file: str
    hand_written: bool
    interval: float
    on_change: tuple[str, ...]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    block_types: tuple[str, ...]
    nodes: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str], ...]
    defaults: dict[str, dict[str, Any]]
    """block id -> its parameters with the library's defaults applied"""


class Manifest(msgspec.Struct, frozen=True):
    version: str
    schema_version: int
    created_at: float
    created_by: str
    block_types: tuple[str, ...]
    programs: tuple[ProgramEntry, ...]
    files: dict[str, str]
    """path in the archive -> SHA-256 hex"""
    constraints: tuple[Constraint, ...] = ()
    schedules: tuple[str, ...] = ()
    alarms: tuple[str, ...] = ()


class Bundle(msgspec.Struct, frozen=True):
    """A verified bundle: its manifest, its files, and the id of the key that signed it."""

    manifest: Manifest
    files: dict[str, bytes]
    key_id: str

    def programs(self) -> list[Program]:
        return [
            program_from_text(self.files[p.file].decode("utf-8"), source=p.file, default_name=p.name)
            for p in self.manifest.programs
        ]


class _Source(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    created_by: str = ""
    constraints: tuple[Constraint, ...] = ()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tar(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    return gzip.compress(buf.getvalue(), mtime=0)


def build(
    directory: Path | str,
    key: Ed25519PrivateKey,
    *,
    created_by: str | None = None,
    known_points: Collection[str] | None = None,
    now: float | None = None,
) -> bytes:
    """The signed bundle of ``directory``; a ConfigError carries every problem of its programs."""
    root = Path(directory)
    spec_path = root / "bundle.toml"
    try:
        spec = msgspec.convert(tomllib.loads(spec_path.read_text(encoding="utf-8")), _Source)
    except FileNotFoundError:
        raise ConfigError(f"{spec_path}: not found (a bundle's directory needs bundle.toml with its version)") from None
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as err:
        raise ConfigError(f"{spec_path}: {err}") from None
    problems: list[str] = []
    if not _SEMVER.match(spec.version):
        problems.append(f"{spec_path}: version {spec.version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    for constraint in spec.constraints:
        problems.extend(f"{spec_path}: {p}" for p in constraint_problems(constraint))
    files: dict[str, bytes] = {}
    entries: list[ProgramEntry] = []
    names: set[str] = set()
    for path in sorted(p for p in root.glob("*.toml") if p.name != "bundle.toml"):
        try:
            program = load_program(path)
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        graph, bad = analyse(program, known_points)
        problems.extend(bad)
        if program.name in names:
            problems.append(f"{path}: a second program named {program.name!r}")
        names.add(program.name)
        if graph is None:
            continue
        compiled = compile_graph(graph)
        archived = f"programs/{path.name}"
        files[archived] = path.read_bytes()
        entries.append(
            ProgramEntry(
                name=program.name,
                file=archived,
                hand_written=program.hand_written,
                interval=program.interval,
                on_change=program.on_change,
                reads=program.reads if program.hand_written else compiled.reads,
                writes=program.writes if program.hand_written else compiled.writes,
                block_types=compiled.block_types,
                nodes=compiled.nodes,
                edges=compiled.edges,
                defaults={n.block.id: dict(n.params) for n in graph.nodes},
            )
        )
    if not entries and not problems:
        problems.append(f"{root}: no program files (*.toml) to bundle")
    if problems:
        raise ConfigError(problems[0] if len(problems) == 1 else f"{len(problems)} problems: {problems[0]}", problems)
    documents: dict[str, list[str]] = {"schedules": [], "alarms": []}
    for folder, listed in documents.items():
        for path in sorted((root / folder).glob("*")) if (root / folder).is_dir() else []:
            if path.is_file():
                files[f"{folder}/{path.name}"] = path.read_bytes()
                listed.append(f"{folder}/{path.name}")
    manifest = Manifest(
        version=spec.version,
        schema_version=SCHEMA_VERSION,
        created_at=time.time() if now is None else now,
        created_by=created_by or spec.created_by or "unknown",
        block_types=tuple(sorted({t for e in entries for t in e.block_types})),
        programs=tuple(entries),
        files={name: _sha(data) for name, data in sorted(files.items())},
        constraints=spec.constraints,
        schedules=tuple(documents["schedules"]),
        alarms=tuple(documents["alarms"]),
    )
    return sign(manifest, files, key)


def sign(manifest: Manifest, files: Mapping[str, bytes], key: Ed25519PrivateKey) -> bytes:
    """The archive of ``manifest`` and ``files``, signed with ``key``."""
    manifest_bytes = msgspec.json.encode(manifest, order="sorted")
    signature = {"algorithm": "ed25519", "key_id": key_id(key), "signature": base64.b64encode(key.sign(manifest_bytes)).decode()}
    return _tar({**files, "manifest.json": manifest_bytes, "signature.json": msgspec.json.encode(signature)})


def _untar(data: bytes) -> dict[str, bytes]:
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRefused(f"bundle refused: {len(data)} bytes, more than {MAX_BUNDLE_BYTES}")
    try:
        # at most 64 MiB unpacked, found out without unpacking more (a 16 MiB gzip can hold 16 GiB of zeros)
        unpack = zlib.decompressobj(wbits=31)
        raw = unpack.decompress(data, 4 * MAX_BUNDLE_BYTES + 1)
        if len(raw) > 4 * MAX_BUNDLE_BYTES or unpack.unconsumed_tail:
            raise BundleRefused("bundle refused: it unpacks to more than 64 MiB")
        if not unpack.eof or unpack.unused_data:
            raise BundleRefused("bundle refused: not a bundle archive (the gzip stream is cut short or followed "
                                "by more data)")
        files: dict[str, bytes] = {}
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar.getmembers():
                name = member.name
                if not member.isfile() or name.startswith("/") or ".." in name.split("/"):
                    raise BundleRefused(f"bundle refused: member {name!r} is not a plain relative file")
                if name in files:
                    raise BundleRefused(f"bundle refused: member {name!r} appears twice")
                extracted = tar.extractfile(member)
                files[name] = extracted.read() if extracted is not None else b""
        return files
    except (OSError, EOFError, tarfile.TarError, zlib.error) as err:
        raise BundleRefused(f"bundle refused: not a bundle archive ({err})") from None


def _migrate_1(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    doc["created_by"] = doc.pop("author", "unknown")
    doc.setdefault("constraints", [])
    return doc


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1}
"""schema_version N -> the function bringing a manifest document from N to N + 1."""


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """A manifest document brought to SCHEMA_VERSION, or BundleRefused with the reason."""
    version = doc.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BundleRefused(f"bundle refused: schema_version {version!r} is not an integer")
    if version > SCHEMA_VERSION:
        raise BundleRefused(
            f"bundle refused: schema_version {version} is newer than this bms reads ({SCHEMA_VERSION}); upgrade bms"
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise BundleRefused(
                f"bundle refused: schema_version {version} is too old to migrate (oldest readable: {min(MIGRATIONS)})"
            )
        doc = step(doc)
        version += 1
        doc["schema_version"] = version
    return doc


def verify(bundle: bytes | Path | str, trusted_keys: Iterable[str | Ed25519PublicKey]) -> Bundle:
    """The bundle, verified against the site's trusted public keys; BundleRefused (one line) otherwise."""
    data = Path(bundle).read_bytes() if isinstance(bundle, Path | str) else bundle
    keys: dict[str, Ed25519PublicKey] = {}
    for key in trusted_keys:
        public = parse_public_key(key) if isinstance(key, str) else key
        keys[key_id(public)] = public
    files = _untar(data)
    manifest_bytes = files.pop("manifest.json", None)
    signature_bytes = files.pop("signature.json", None)
    if manifest_bytes is None:
        raise BundleRefused("bundle refused: no manifest.json")
    if signature_bytes is None:
        raise BundleRefused("bundle refused: unsigned (no signature.json)")
    try:
        signature = msgspec.json.decode(signature_bytes, type=dict[str, str])
        kid, sig = signature["key_id"], base64.b64decode(signature["signature"], validate=True)
    except (msgspec.DecodeError, KeyError, binascii.Error):
        raise BundleRefused("bundle refused: signature.json is malformed") from None
    if signature.get("algorithm") != "ed25519":
        raise BundleRefused(f"bundle refused: signature algorithm {signature.get('algorithm')!r} is not ed25519")
    signer = keys.get(kid)
    if signer is None:
        raise BundleRefused(f"bundle refused: signed by an unknown key {kid} (not among the site's trusted keys)")
    try:
        signer.verify(sig, manifest_bytes)
    except InvalidSignature:
        raise BundleRefused(
            f"bundle refused: the manifest was changed after signing (signature of key {kid} does not match)"
        ) from None
    try:
        manifest = msgspec.convert(migrate(msgspec.json.decode(manifest_bytes, type=dict[str, Any])), Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise BundleRefused(f"bundle refused: manifest.json: {err}") from None
    for name, digest in manifest.files.items():
        if name not in files:
            raise BundleRefused(f"bundle refused: {name} is listed in the manifest but missing")
        if _sha(files[name]) != digest:
            raise BundleRefused(f"bundle refused: {name} was changed after signing (SHA-256 differs from the manifest)")
    for name in files:
        if name not in manifest.files:
            raise BundleRefused(f"bundle refused: {name} is not listed in the manifest")
    return Bundle(manifest, files, kid)
