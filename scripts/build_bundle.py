"""Build the offline install bundle: one tar for a Debian 12 x86_64 server with Python 3.11 and no network.

    python -m scripts.build_bundle                 # dist/jiugai-offline-<rev>-linux-x86_64-py311.tar
    python -m scripts.build_bundle --no-debs       # wheels and app only (non-Debian build machine)
    python -m scripts.build_bundle --wheels-only   # just fill the wheel cache (what the test installs)

The archive holds ``wheels/`` (every wheel for the exact pins in requirements.txt and their
dependencies, for CPython 3.11 on manylinux x86_64 — nothing is fetched at install time), ``debs/`` (the
Debian 12 packages ``chromium``, ``fonts-noto-cjk``, ``python3.11-venv``, ``nginx`` and ``openssl`` (HTTPS in
front of the dashboard) with every dependency a minimal Debian 12 lacks; test and lint tools, in
requirements-dev.txt, are never shipped), ``app/`` (the committed tree at HEAD: code, bundled county boundaries, data
dictionary, deploy files), ``install.sh`` (from deploy/) and ``MANIFEST.sha256``. Wheels are kept
between runs in ``build/wheels`` (git-ignored; ``--wheel-cache`` or env ``JIUGAI_WHEEL_CACHE`` moves it).

Debian packages: apt resolves the dependency closure against a *minimal* system, a dpkg status made of
this machine's ``Priority: required`` / ``Essential`` packages and what they depend on, and downloads
it into the bundle (``apt-get install --download-only`` with its own status and archive folders, so
this machine's packages are untouched). Needs root, apt and Debian 12 on the build machine.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from analytics.errors import InputError

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
DEFAULT_WHEEL_CACHE = Path(os.environ.get("JIUGAI_WHEEL_CACHE", ROOT / "build" / "wheels"))
DIST_DIR = ROOT / "dist"
TARGET_PYTHON = "3.11.2"  # python3.11 of Debian 12; some releases need a later 3.11.x
TARGET_ABI = "cp311"
# manylinux tags a Debian 12 (glibc 2.36) x86_64 machine accepts, newest first; pip does not widen a
# given --platform by itself.
TARGET_PLATFORMS: tuple[str, ...] = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)),
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
)
APT_PACKAGES: tuple[str, ...] = ("chromium", "fonts-noto-cjk", "python3.11-venv", "nginx", "openssl")
DPKG_STATUS = Path("/var/lib/dpkg/status")


# --- wheels --------------------------------------------------------------------------------------


def normalise(name: str) -> str:
    """PEP 503 project name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(requirements: Path | str = REQUIREMENTS) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line; anything else is refused."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(Path(requirements).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)", line)
        if not match:
            raise InputError(
                f"`requirements` line {number} is {raw!r} but every line must pin one exact version (name==version)."
            )
        pins[normalise(match.group(1))] = match.group(2)
    return pins


def wheel_pin(path: Path | str) -> tuple[str, str]:
    """``(normalised name, version)`` from a wheel's file name (``name-version-...whl``)."""
    parts = Path(path).name.split("-")
    if len(parts) < 5 or not Path(path).name.endswith(".whl"):
        raise InputError(f"`path` {Path(path).name!r} is not a wheel file name (name-version-python-abi-platform.whl).")
    return normalise(parts[0]), parts[1]


def missing_wheels(pins: dict[str, str], folder: Path) -> dict[str, str]:
    """The pins that have no wheel of exactly that version in ``folder``."""
    present = {wheel_pin(p) for p in folder.glob("*.whl")} if folder.is_dir() else set()
    return {name: version for name, version in pins.items() if (name, version) not in present}


def pip_download_command(requirements: Path, dest: Path) -> list[str]:
    """The ``pip download`` call fetching binary wheels for the target (CPython 3.11, manylinux x86_64)."""
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
               "--only-binary=:all:", "--python-version", TARGET_PYTHON, "--implementation", "cp",
               "--abi", TARGET_ABI, "--dest", str(dest), "-r", str(requirements)]
    for platform in TARGET_PLATFORMS:
        command += ["--platform", platform]
    return command


def download_wheels(requirements: Path | str = REQUIREMENTS, dest: Path | str = DEFAULT_WHEEL_CACHE) -> list[Path]:
    """Make sure ``dest`` holds a wheel for every pin (and dependency); return the pinned wheels.

    Nothing is downloaded when every pin already has its wheel there (repeat runs are quick).
    """
    requirements, dest = Path(requirements), Path(dest)
    pins = read_pins(requirements)
    dest.mkdir(parents=True, exist_ok=True)
    if missing_wheels(pins, dest):
        started = time.perf_counter()
        subprocess.run(pip_download_command(requirements, dest), check=True)
        log.info("downloaded wheels into %s in %.0f s", dest, time.perf_counter() - started)
    missing = missing_wheels(pins, dest)
    if missing:
        raise InputError(f"No wheel for {missing!r} in {str(dest)!r}; each pin needs a binary wheel for the target.")
    wanted = {(name, version) for name, version in pins.items()}
    wheels = sorted(p for p in dest.glob("*.whl") if wheel_pin(p) in wanted)
    log.info("%d wheels for %d pins in %s", len(wheels), len(pins), dest)
    return wheels


# --- Debian packages ------------------------------------------------------------------------------


def _stanzas(status_text: str) -> dict[str, tuple[dict[str, str], str]]:
    """Installed packages of a dpkg status file: name -> (fields, stanza text)."""
    out: dict[str, tuple[dict[str, str], str]] = {}
    for block in status_text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields.get("Package") and fields.get("Status", "").endswith(" installed"):
            out[fields["Package"]] = (fields, block)
    return out


def minimal_status(status_text: str) -> str:
    """A dpkg status holding only a minimal Debian system: the ``required`` and ``Essential`` packages of
    ``status_text`` and, recursively, the installed packages they depend on."""
    stanzas = _stanzas(status_text)
    provides: dict[str, list[str]] = {}
    for name, (fields, _) in stanzas.items():
        for item in re.split(r",\s*", fields.get("Provides", "")):
            if item:
                provides.setdefault(item.split()[0].split(":")[0], []).append(name)
    base = {n for n, (f, _) in stanzas.items() if f.get("Priority") == "required" or f.get("Essential") == "yes"}
    todo = sorted(base)
    while todo:
        fields = stanzas[todo.pop()][0]
        for field in ("Pre-Depends", "Depends"):
            for group in re.split(r",\s*", fields.get(field, "").replace("\n", " ")):
                for alternative in filter(None, (a.strip() for a in group.split("|"))):
                    name = alternative.split()[0].split(":")[0]
                    found = [name] if name in stanzas else provides.get(name, [])
                    if found:
                        for package in found:
                            if package not in base:
                                base.add(package)
                                todo.append(package)
                        break
    return "\n\n".join(stanzas[name][1] for name in sorted(base)) + "\n\n"


def download_debs(dest: Path | str, packages: tuple[str, ...] = APT_PACKAGES) -> list[Path]:
    """Download ``packages`` and every dependency a minimal Debian 12 lacks into ``dest`` (no install)."""
    release = Path("/etc/os-release").read_text(encoding="utf-8") if Path("/etc/os-release").exists() else ""
    if 'VERSION_ID="12"' not in release or shutil.which("apt-get") is None:
        raise InputError("Debian packages can be fetched only on a Debian 12 machine with apt; use `--no-debs`.")
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="jiugai-apt-") as tmp:
        status = Path(tmp) / "status"
        status.write_text(minimal_status(DPKG_STATUS.read_text(encoding="utf-8")), encoding="utf-8")
        archives = Path(tmp) / "archives"
        (archives / "partial").mkdir(parents=True)
        command = ["apt-get", "-q", "-y", "--no-install-recommends", "-o", f"Dir::State::status={status}",
                   "-o", f"Dir::Cache::archives={archives}", "-o", "Debug::NoLocking=1",
                   "install", "--download-only", *packages]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 and "apt-get update" not in result.stderr:
            raise InputError(f"apt-get could not resolve {packages!r}: {result.stderr.strip()[-400:]}")
        if result.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
            subprocess.run(command, check=True, capture_output=True, text=True)
        dest.mkdir(parents=True, exist_ok=True)
        debs = []
        for deb in sorted(archives.glob("*.deb")):
            # apt names files with the epoch's colon URL-encoded (dmsetup_2%3a1.02...); a file: source
            # would decode it again, so the bundle's names carry no '%'.
            debs.append(Path(shutil.move(str(deb), dest / deb.name.replace("%3a", "_"))))
    write_packages_index(dest)
    log.info("%d Debian packages (%.0f MB) for %s", len(debs), sum(d.stat().st_size for d in debs) / 1e6, packages)
    return debs


def write_packages_index(folder: Path | str) -> Path:
    """``folder/Packages``: the apt index of the ``.deb`` files in ``folder`` (a flat local repository).

    On the server apt reads it (``deb [trusted=yes] file:<folder> ./``) and so installs the packages in
    dependency order (pre-dependencies first), leaving what is already installed at the same or a newer
    version alone. The checksums of the bundle itself are in ``MANIFEST.sha256``.
    """
    folder = Path(folder)
    stanzas = []
    for deb in sorted(folder.glob("*.deb")):
        control = subprocess.run(["dpkg-deb", "--field", str(deb)], check=True, capture_output=True,
                                 text=True).stdout.rstrip("\n")
        digest = hashlib.sha256(deb.read_bytes()).hexdigest()
        stanzas.append(f"{control}\nFilename: ./{deb.name}\nSize: {deb.stat().st_size}\nSHA256: {digest}\n")
    index = folder / "Packages"
    index.write_text("\n".join(stanzas), encoding="utf-8")
    return index


# --- the bundle ----------------------------------------------------------------------------------


def revision() -> str:
    """Short commit id of HEAD (the app in the bundle)."""
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def export_app(dest: Path) -> None:
    """The committed tree at HEAD into ``dest`` (no virtual environment, database or caches)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    with tempfile.TemporaryFile() as buffer:
        buffer.write(archive)
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as tar:
            tar.extractall(dest, filter="data")


def write_manifest(folder: Path) -> Path:
    """``MANIFEST.sha256`` (``sha256sum -c`` format) over every file in ``folder``."""
    lines = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        lines.append(f"{digest.hexdigest()}  {path.relative_to(folder).as_posix()}\n")
    manifest = folder / "MANIFEST.sha256"
    manifest.write_text("".join(lines), encoding="utf-8")
    return manifest


def build_bundle(
    out_dir: Path | str = DIST_DIR, *, wheel_cache: Path | str = DEFAULT_WHEEL_CACHE, with_debs: bool = True
) -> Path:
    """Build ``out_dir/jiugai-offline-<rev>-linux-x86_64-py311.tar`` and return its path."""
    started = time.perf_counter()
    name = f"jiugai-offline-{revision()}-linux-x86_64-py311"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jiugai-bundle-", dir=out_dir) as tmp:
        stage = Path(tmp) / name
        export_app(stage / "app")
        (stage / "wheels").mkdir()
        for wheel in download_wheels(stage / "app" / "requirements.txt", wheel_cache):
            shutil.copy2(wheel, stage / "wheels" / wheel.name)
        if with_debs:
            download_debs(stage / "debs")
        shutil.copy2(stage / "app" / "deploy" / "install.sh", stage / "install.sh")
        (stage / "install.sh").chmod(0o755)
        write_manifest(stage)
        target = out_dir / f"{name}.tar"
        partial = target.with_suffix(".tar.partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(stage, arcname=name)
        os.replace(partial, target)
    log.info("bundle %s: %.0f MB in %.0f s", target, target.stat().st_size / 1e6, time.perf_counter() - started)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.build_bundle", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DIST_DIR, help="folder for the archive (default dist/)")
    parser.add_argument("--wheel-cache", type=Path, default=DEFAULT_WHEEL_CACHE, help="wheels kept between runs")
    parser.add_argument("--no-debs", action="store_true", help="leave the Debian packages out")
    parser.add_argument("--wheels-only", action="store_true", help="only fill the wheel cache")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.wheels_only:
            download_wheels(REQUIREMENTS, args.wheel_cache)
        else:
            build_bundle(args.out, wheel_cache=args.wheel_cache, with_debs=not args.no_debs)
    except (InputError, subprocess.CalledProcessError) as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
