"""The offline bundle: pins → wheel set that installs with the index off; apt base system; deploy files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

from analytics.errors import InputError
from scripts import build_bundle

ROOT = Path(__file__).resolve().parent.parent
DEMO_COMPOUNDS = 1465  # the seeded demo: 1,125 compounds in plan years 2020–2026 and 340 candidates
DEPLOY = ROOT / "deploy"


# --- pins and wheels -----------------------------------------------------------------------------


def test_read_pins(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("Jinja2==3.1.6\n# comment\n\nduckdb_extension_spatial==1.5.5  # spatial\nXStatic-jQuery==3.7.1.1\n")
    assert build_bundle.read_pins(req) == {
        "jinja2": "3.1.6", "duckdb-extension-spatial": "1.5.5", "xstatic-jquery": "3.7.1.1",
    }
    req.write_text("numpy==2.4.6\npandas>=2\n")
    with pytest.raises(InputError, match=r"`requirements` line 2 is 'pandas>=2' but every line must pin"):
        build_bundle.read_pins(req)


def test_project_requirements_are_all_exact_pins():
    pins = build_bundle.read_pins(ROOT / "requirements.txt")
    assert len(pins) > 50 and pins["streamlit"] and pins["bcrypt"]


def test_wheel_pin_and_missing_wheels(tmp_path):
    assert build_bundle.wheel_pin("duckdb_extension_spatial-1.5.5-py3-none-manylinux_2_28_x86_64.whl") == (
        "duckdb-extension-spatial", "1.5.5")
    assert build_bundle.wheel_pin("XStatic_jQuery-3.7.1.1-py3-none-any.whl") == ("xstatic-jquery", "3.7.1.1")
    with pytest.raises(InputError, match=r"`path` 'numpy-2.4.6.tar.gz' is not a wheel file name"):
        build_bundle.wheel_pin("numpy-2.4.6.tar.gz")
    (tmp_path / "jinja2-3.1.6-py3-none-any.whl").write_bytes(b"")
    (tmp_path / "numpy-2.4.5-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    pins = {"jinja2": "3.1.6", "numpy": "2.4.6"}
    assert build_bundle.missing_wheels(pins, tmp_path) == {"numpy": "2.4.6"}
    assert build_bundle.missing_wheels(pins, tmp_path / "absent") == pins


def test_pip_download_targets_debian12_python_and_manylinux(tmp_path):
    command = build_bundle.pip_download_command(ROOT / "requirements.txt", tmp_path)
    assert command[1:4] == ["-m", "pip", "download"]
    assert "--only-binary=:all:" in command and command[command.index("--python-version") + 1] == "3.11.2"
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms[0] == "manylinux_2_36_x86_64"  # glibc of Debian 12
    assert {"manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"} <= set(platforms)
    assert not any("2_37" in p or "2_38" in p for p in platforms)


# --- the apt base system -------------------------------------------------------------------------

STATUS = """Package: libc6
Status: install ok installed
Priority: optional
Depends: libgcc-s1

Package: bash
Status: install ok installed
Essential: yes
Priority: required
Pre-Depends: libc6 (>= 2.36), libtinfo6 (>= 6)

Package: libgcc-s1
Status: install ok installed
Priority: optional
Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)

Package: gcc-12-base
Status: install ok installed
Priority: required

Package: libtinfo6
Status: install ok installed
Priority: optional
Depends: libc6

Package: mawk
Status: install ok installed
Priority: required
Provides: awk
Depends: libc6 (>= 2.29)

Package: dpkg
Status: install ok installed
Priority: required
Depends: awk | gawk, tar

Package: chromium
Status: install ok installed
Priority: optional
Depends: libc6, libgtk-3-0

Package: old-thing
Status: deinstall ok config-files
Priority: required
"""


def test_minimal_status_is_required_packages_and_what_they_need():
    text = build_bundle.minimal_status(STATUS)
    names = re.findall(r"^Package: (\S+)$", text, flags=re.M)
    # required/Essential, plus installed dependencies (virtual awk via mawk); never chromium, never removed ones
    assert names == ["bash", "dpkg", "gcc-12-base", "libc6", "libgcc-s1", "libtinfo6", "mawk"]
    assert "Pre-Depends: libc6 (>= 2.36), libtinfo6 (>= 6)" in text  # stanzas are kept whole


# --- deploy files --------------------------------------------------------------------------------


def test_streamlit_server_config_uses_known_options_and_the_app_theme():
    from streamlit import config

    server = tomllib.loads((DEPLOY / "streamlit-server.toml").read_text(encoding="utf-8"))
    known = config.get_config_options()
    for section, values in server.items():
        for key in values:
            assert f"{section}.{key}" in known, f"unknown Streamlit option {section}.{key}"
    assert server["browser"]["gatherUsageStats"] is False
    assert server["client"]["toolbarMode"] == "viewer"
    assert server["server"]["baseUrlPath"] == "jiugai"
    assert server["server"]["maxUploadSize"] >= 50
    app = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert server["theme"] == app["theme"]


def test_nginx_example_proxies_websockets_under_the_base_path():
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    stream = text[text.index("location /jiugai/_stcore/stream"):]
    stream = stream[: stream.index("}")]
    for directive in ("proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                      "proxy_set_header Connection $connection_upgrade;", "proxy_pass http://127.0.0.1:8501/jiugai/_stcore/stream;"):
        assert directive in stream
    assert "location /jiugai/ {" in text and "client_max_body_size 60m;" in text
    assert text.count("{") == text.count("}")


def _unit(name: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and not line.startswith("#") and current is not None:
            key, _, value = line.partition("=")
            current[key] = value
    return sections


def test_systemd_units_run_existing_commands():
    service = _unit("jiugai.service")["Service"]
    assert service["User"] == "jiugai" and service["EnvironmentFile"] == "/etc/jiugai/jiugai.env"
    assert service["ExecStart"].startswith("/opt/jiugai/venv/bin/python -m streamlit run app.py")
    assert service["StandardOutput"] == "append:/var/log/jiugai/dashboard.log"
    env = dict(line.split("=", 1) for line in (DEPLOY / "jiugai.env").read_text().splitlines()
               if line and not line.startswith("#"))
    for unit in ("jiugai.service", "jiugai-backup.service", "jiugai-bulletin.service"):
        exec_start = _unit(unit)["Service"]["ExecStart"]
        for variable in re.findall(r"\$\{(\w+)\}", exec_start):
            assert variable in env, (unit, variable)
        for path in re.findall(r"/opt/jiugai/app/(\S+)", exec_start):
            assert (ROOT / path).exists() and os.access(ROOT / path, os.X_OK), path
        for module in re.findall(r"-m (scripts\.\w+)", exec_start):
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), module
    assert "scripts.bulletin --kind week" in (DEPLOY / "weekly-bulletin.sh").read_text(encoding="utf-8")
    assert _unit("jiugai-backup.timer")["Timer"]["OnCalendar"] == "*-*-* 02:30:00"
    assert _unit("jiugai-bulletin.timer")["Timer"]["OnCalendar"].startswith("Sat ")


def test_install_script_parses_and_ships_every_file_it_installs():
    for script in ("install.sh", "with-dashboard-stopped.sh", "weekly-bulletin.sh", "jiugai-users"):
        shell = "bash" if script == "install.sh" else "sh"
        subprocess.run([shell, "-n", str(DEPLOY / script)], check=True)
        assert os.access(DEPLOY / script, os.X_OK), script
    text = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    for name in re.findall(r"app/deploy/([\w.-]+)", text):
        assert (DEPLOY / name).exists(), name
    assert "--no-index" in text and "PIP_CONFIG_FILE=/dev/null" in text and "sha256sum" in text


# --- the wheel set installs with the index switched off ------------------------------------------


@pytest.mark.slow
def test_wheel_set_installs_offline_into_a_fresh_environment_and_the_app_runs(tmp_path):
    """The bundle's wheels (downloaded once into the wheel cache) install with --no-index, then the app
    modules import and the database opens (built from the bundled data) in that environment."""
    requirements = ROOT / "requirements.txt"
    wheels = build_bundle.download_wheels(requirements, build_bundle.DEFAULT_WHEEL_CACHE)
    assert {build_bundle.wheel_pin(w) for w in wheels} == set(build_bundle.read_pins(requirements).items())
    wheel_dir = tmp_path / "wheels"  # exactly the set the bundle ships, nothing else to fall back on
    wheel_dir.mkdir()
    for wheel in wheels:
        try:
            os.link(wheel, wheel_dir / wheel.name)
        except OSError:  # another file system
            shutil.copyfile(wheel, wheel_dir / wheel.name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    clean_env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-compile",
                    "--disable-pip-version-check", "--find-links", str(wheel_dir), "-r", str(requirements)],
                   check=True, env=clean_env, timeout=600)
    subprocess.run([str(python), "-m", "pip", "check"], check=True, env=clean_env, capture_output=True)
    code = (
        "import importlib, pkgutil, sys\n"
        "import analytics, dashboard, scripts\n"
        "for package in (analytics, dashboard, scripts):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "from analytics import store\n"
        "from analytics.services import auth\n"
        "import dashboard.maps, streamlit, streamlit.testing.v1\n"
        f"con = store.connect({str(tmp_path / 'fresh.duckdb')!r})\n"
        "n = con.execute('SELECT count(*) FROM compounds').fetchone()[0]\n"
        f"assert n == {DEMO_COMPOUNDS}, n\n"
        "assert store.read_layer(con, 'counties').crs.to_epsg() == 4548\n"
        "print('ok', sys.prefix)\n"
    )
    result = subprocess.run([str(python), "-c", code], cwd=ROOT, env=clean_env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == f"ok {env_dir}"


def test_packages_index_describes_each_deb(tmp_path):
    """The flat apt repository index: each package's control fields plus where and what the file is."""
    import hashlib

    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: jiugai-probe\nVersion: 1:1.0-1\nArchitecture: all\nMaintainer: x <x@example.org>\n"
        "Depends: libc6\nDescription: probe\n"
    )
    debs = tmp_path / "debs"
    debs.mkdir()
    deb = debs / "jiugai-probe_1_1.0-1_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True)
    index = build_bundle.write_packages_index(debs).read_text(encoding="utf-8")
    fields = dict(line.split(": ", 1) for line in index.strip().splitlines())
    assert fields["Package"] == "jiugai-probe" and fields["Version"] == "1:1.0-1" and fields["Depends"] == "libc6"
    assert fields["Filename"] == "./jiugai-probe_1_1.0-1_all.deb"
    assert int(fields["Size"]) == deb.stat().st_size
    assert fields["SHA256"] == hashlib.sha256(deb.read_bytes()).hexdigest()
