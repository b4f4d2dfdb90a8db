"""Bundles: build, verify, and each way of tampering refused in one line; schema migration."""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from pathlib import Path

import msgspec
import pytest

from bms.errors import ConfigError
from bms.logic import (
    BundleRefused,
    Write,
    build,
    enforce,
    generate_key,
    load_private_key,
    migrate,
    verify,
)
from bms.logic._bundle import Manifest, sign

CONF_LOGIC = Path(__file__).resolve().parents[3] / "conf" / "logic"


@pytest.fixture
def key(tmp_path: Path):  # type: ignore[no-untyped-def]
    public = generate_key(tmp_path / "site.key")
    return load_private_key(tmp_path / "site.key"), public


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def repack(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


def test_the_demo_bundle_builds_and_verifies(key, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    private, public = key
    data = build(CONF_LOGIC, private, created_by="olga", now=1.0)
    assert data == build(CONF_LOGIC, private, created_by="olga", now=1.0)  # deterministic
    bundle = verify(data, [public])
    manifest = bundle.manifest
    assert manifest.version == "1.0.0" and manifest.schema_version == 2 and manifest.created_by == "olga"
    assert {p.name for p in manifest.programs} == {"sat-reset", "vav101-zone"}
    assert "PID" in manifest.block_types and manifest.constraints[0].point == "ahu1/sat_sp"
    sat = next(p for p in manifest.programs if p.name == "sat-reset")
    assert ("ramp.out", "sp.in") in sat.edges and sat.defaults["ramp"]["rate_up"] == 0.02
    assert [p.name for p in bundle.programs()] == ["sat-reset", "vav101-zone"]
    (tmp_path / "b.tar.gz").write_bytes(data)
    assert verify(tmp_path / "b.tar.gz", [public]).key_id == bundle.key_id


def test_tampering_is_refused_in_one_line(key) -> None:  # type: ignore[no-untyped-def]
    private, public = key
    files = members(build(CONF_LOGIC, private))
    changed = dict(files, **{"programs/sat-reset.toml": files["programs/sat-reset.toml"].replace(b"0.02", b"2.0")})
    with pytest.raises(BundleRefused, match=r"programs/sat-reset.toml was changed after signing"):
        verify(repack(changed), [public])
    manifest = files["manifest.json"].replace(b'"1.0.0"', b'"9.0.0"')
    with pytest.raises(BundleRefused, match="the manifest was changed after signing"):
        verify(repack(dict(files, **{"manifest.json": manifest})), [public])
    unsigned = {k: v for k, v in files.items() if k != "signature.json"}
    with pytest.raises(BundleRefused, match="unsigned"):
        verify(repack(unsigned), [public])
    with pytest.raises(BundleRefused, match="is not listed in the manifest"):
        verify(repack(dict(files, **{"programs/extra.toml": b"x"})), [public])
    missing = {k: v for k, v in files.items() if k != "programs/vav101-zone.toml"}
    with pytest.raises(BundleRefused, match="listed in the manifest but missing"):
        verify(repack(missing), [public])
    with pytest.raises(BundleRefused, match="not a bundle archive"):
        verify(b"not a tarball", [public])


def test_a_wrong_key_is_refused(key, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    private, _public = key
    other = generate_key(tmp_path / "other.key")
    with pytest.raises(BundleRefused, match="signed by an unknown key"):
        verify(build(CONF_LOGIC, private), [other])


def test_build_refuses_a_directory_with_bad_programs(key, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    private, _ = key
    shutil.copytree(CONF_LOGIC, tmp_path / "src")
    (tmp_path / "src" / "bad.toml").write_text('interval = 1\n[[blocks]]\nid = "x"\ntype = "Nope"\n')
    (tmp_path / "src" / "bundle.toml").write_text('version = "one"\n')
    with pytest.raises(ConfigError) as caught:
        build(tmp_path / "src", private)
    assert any("unknown block type 'Nope'" in p for p in caught.value.problems)
    assert any("not a semantic version" in p for p in caught.value.problems)


def test_an_older_schema_is_migrated_a_newer_refused(key) -> None:  # type: ignore[no-untyped-def]
    private, public = key
    files = members(build(CONF_LOGIC, private))
    doc = msgspec.json.decode(files.pop("manifest.json"))
    files.pop("signature.json")
    doc["schema_version"] = 1
    doc["author"] = doc.pop("created_by")
    doc.pop("constraints")
    old = msgspec.convert(migrate(dict(doc)), Manifest)
    assert old.created_by == "unknown" or old.created_by == doc["author"]
    # a v1 manifest signed as it was: verify migrates it
    raw = msgspec.json.encode(doc)
    import base64

    from bms.logic import key_id
    from bms.logic._bundle import _tar  # the archive of an older bms, signed by hand

    sig = {"algorithm": "ed25519", "key_id": key_id(private), "signature": base64.b64encode(private.sign(raw)).decode()}
    migrated = verify(_tar({**files, "manifest.json": raw, "signature.json": msgspec.json.encode(sig)}), [public])
    assert migrated.manifest.schema_version == 2 and migrated.manifest.constraints == ()
    with pytest.raises(BundleRefused, match="schema_version 3 is newer than this bms reads"):
        migrate({"schema_version": 3})
    with pytest.raises(BundleRefused, match="schema_version 0 is too old"):
        migrate({"schema_version": 0})
    assert sign  # the public signing helper stays importable


def test_constraints_clamp_limit_the_step_and_hold_on_an_interlock() -> None:
    from bms.logic import Constraint, Interlock

    c = Constraint("ahu1/sat_sp", min=11.0, max=18.0, max_step=1.0, interlocks=(Interlock("ahu1/fan_status"),))
    assert enforce(c, Write("ahu1/sat_sp", 25.0, 10), {"ahu1/fan_status": True}, last=17.5)[0] == Write("ahu1/sat_sp", 18.0, 10)
    assert enforce(c, Write("ahu1/sat_sp", 10.0, 10), {"ahu1/fan_status": True}, last=14.0)[0] == Write("ahu1/sat_sp", 13.0, 10)
    held, reason = enforce(c, Write("ahu1/sat_sp", 14.0, 10), {"ahu1/fan_status": False})
    assert held is None and "interlock ahu1/fan_status eq True does not hold" in (reason or "")


def test_keys_are_not_overwritten(tmp_path: Path) -> None:
    generate_key(tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigError, match="already exists"):
        generate_key(tmp_path / "k")
    with pytest.raises(ConfigError, match="not an unencrypted PEM"):
        (tmp_path / "junk").write_text("junk")
        load_private_key(tmp_path / "junk")


def test_a_gzip_bomb_is_refused_without_being_unpacked(key) -> None:  # type: ignore[no-untyped-def]
    """1 MiB of gzip holding 1 GiB of zeros: refused after at most 64 MiB unpacked, not after 1 GiB."""
    import tracemalloc
    import zlib

    _private, public = key
    pack = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    bomb = b"".join([*(pack.compress(zeros) for _ in range(1024)), pack.flush()])
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(BundleRefused, match="it unpacks to more than 64 MiB"):
            verify(bomb, [public])
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 << 20  # bytes allocated at the peak: far from the 1 GiB inside
    with pytest.raises(BundleRefused, match="cut short or followed by more data"):
        verify(gzip.compress(b"x" * 1000)[:-8], [public])
    with pytest.raises(BundleRefused, match="cut short or followed by more data"):
        verify(gzip.compress(b"x") + gzip.compress(b"y"), [public])
