"""The deployment keeps passwords off the wire, secrets off other accounts, memory bounded and dev tools off
the server: TLS proxy example, installer-made certificate, service limits, file modes, requirements split."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import tomllib
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts import build_bundle

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DEV_TOOLS = ("pytest", "playwright", "ruff", "mypy")


def _unit(name: str) -> dict[str, str]:
    values = {}
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values[key] = value
    return values


# ------------------------------------------------------------------------------------------------ TLS
def test_nginx_example_serves_https_with_hsts_headers_and_rate_limits():
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    plain, tls = text.split("server {")[1], text.split("server {")[2]
    assert "listen 80;" in plain and "return 301 https://$host$request_uri;" in plain and "proxy_pass" not in plain
    assert "listen 443 ssl" in tls
    assert "ssl_certificate     /etc/jiugai/tls/jiugai.crt;" in tls and "ssl_certificate_key /etc/jiugai/tls/jiugai.key;" in tls
    assert re.search(r'add_header Strict-Transport-Security "max-age=\d{7,}" always;', tls)
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"):
        assert f"add_header {header} " in tls, header
    assert "limit_req_zone $binary_remote_addr zone=jiugai_pages" in text
    for location in ("location /jiugai/_stcore/stream {", "location /jiugai/ {"):
        block = tls[tls.index(location):]
        assert "limit_req zone=" in block[: block.index("}")], location
    assert "TLSv1 " not in text and "TLSv1.1" not in text


def test_installer_makes_a_certificate_only_when_there_is_none(tmp_path):
    script = DEPLOY / "make-tls-cert.sh"
    out = subprocess.run(["sh", str(script), str(tmp_path / "tls"), "jiugai.example", "192.168.1.20"],
                         capture_output=True, text=True, check=True).stdout
    assert "self-signed" in out
    crt, key = tmp_path / "tls" / "jiugai.crt", tmp_path / "tls" / "jiugai.key"
    assert key.stat().st_mode & 0o777 == 0o600 and crt.stat().st_mode & 0o777 == 0o644
    details = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout", "-subject", "-ext", "subjectAltName"],
                             capture_output=True, text=True, check=True).stdout
    assert "CN = jiugai.example" in details and "IP Address:192.168.1.20" in details
    before = crt.read_bytes()
    assert "kept" in subprocess.run(["sh", str(script), str(tmp_path / "tls")], capture_output=True, text=True,
                                    check=True).stdout
    assert crt.read_bytes() == before  # an existing (maybe the organisation's own) certificate is never replaced
    install = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert "make-tls-cert.sh" in install and "/etc/nginx/conf.d/jiugai.conf" in install


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server interface
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"dashboard")

    def log_message(self, *args):
        pass


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed here (the text checks above still run)")
def test_nginx_example_runs(tmp_path):
    """The example as nginx runs it: HTTP redirects, HTTPS answers with the headers, a flood gets 429."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run(["sh", str(DEPLOY / "make-tls-cert.sh"), str(tmp_path / "tls"), "localhost", "127.0.0.1"],
                   check=True, capture_output=True)
    http_port, https_port, app_port = _free_port(), _free_port(), _free_port()
    site = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
    site = re.sub(r"listen 443 ssl http2;.*\n", f"listen 127.0.0.1:{https_port} ssl http2;\n", site)
    site = site.replace("listen [::]:443 ssl http2;", "").replace("/etc/jiugai/tls", str(tmp_path / "tls"))
    site = site.replace("127.0.0.1:8501", f"127.0.0.1:{app_port}").replace("return 301 https://$host$request_uri;",
                                                                         f"return 301 https://$host:{https_port}$request_uri;")
    (tmp_path / "jiugai.conf").write_text(site)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"user root;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path}/body;\n proxy_temp_path {tmp_path}/proxy;\n"
        f" include {tmp_path}/jiugai.conf;\n}}\n")
    subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], check=True,
                   capture_output=True)
    upstream = ThreadingHTTPServer(("127.0.0.1", app_port), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    server = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"])
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "jiugai.crt"))
        url = f"https://localhost:{https_port}/jiugai/"
        for _ in range(50):
            try:
                with urllib.request.urlopen(url, context=context, timeout=5) as page:
                    body, headers = page.read(), page.headers
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        assert body == b"dashboard"
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert headers["X-Frame-Options"] == "SAMEORIGIN" and headers["X-Content-Type-Options"] == "nosniff"

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        with pytest.raises(urllib.error.HTTPError) as moved:
            urllib.request.build_opener(NoRedirect).open(f"http://localhost:{http_port}/jiugai/", timeout=5)
        assert moved.value.code == 301 and moved.value.headers["Location"] == url
        moved.value.close()
        codes = []
        for _ in range(160):
            try:
                with urllib.request.urlopen(url, context=context, timeout=5) as answer:
                    codes.append(answer.status)
            except urllib.error.HTTPError as exc:
                codes.append(exc.code)
                exc.close()
        assert codes[:100].count(200) >= 100 and 429 in codes  # a page load's burst passes, a flood does not
    finally:
        server.terminate()
        server.wait(timeout=20)
        upstream.shutdown()
        upstream.server_close()


# ---------------------------------------------------------------------------------------------- service
def test_service_has_a_memory_ceiling_and_the_settings_file_is_private():
    service = _unit("jiugai.service")
    assert service["MemoryMax"].endswith("G") and 1 <= int(service["MemoryMax"][:-1]) <= 4
    assert "MemoryHigh" in service
    install = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert 'install -m 640 -o root -g "$USER_NAME" "$HERE/app/deploy/jiugai.env" "$ETC/jiugai.env"' in install
    assert 'chown root:"$USER_NAME" "$ETC/jiugai.env" && chmod 640 "$ETC/jiugai.env"' in install  # upgrades too
    env = (DEPLOY / "jiugai.env").read_text(encoding="utf-8")
    assert re.search(r"^JIUGAI_ADDRESS=127\.0\.0\.1$", env, flags=re.M)


def test_make_run_listens_on_this_machine_only_unless_told():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^ADDRESS \?= 127\.0\.0\.1$", makefile, flags=re.M)
    run = makefile[makefile.index("\nrun:"):]
    assert "--server.address $(ADDRESS)" in run[: run.index("\n\n")]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run ADDRESS=0.0.0.0" in readme
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"].get("address", "127.0.0.1") == "127.0.0.1"


# ----------------------------------------------------------------------------------------- dev tools
def test_dev_tools_stay_off_the_server():
    runtime = build_bundle.read_pins(ROOT / "requirements.txt")
    assert not set(DEV_TOOLS) & set(runtime), "the bundle ships requirements.txt: no test or lint tools in it"
    dev_lines = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    assert "-r requirements.txt" in dev_lines
    dev = dict(line.split("==") for line in dev_lines if line and not line.startswith(("#", "-r")))
    assert set(DEV_TOOLS) <= set(dev) and not set(dev) & set(runtime)
    assert build_bundle.REQUIREMENTS == ROOT / "requirements.txt"
    assert "-r requirements-dev.txt" in (ROOT / "Makefile").read_text(encoding="utf-8")
    install = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    assert "requirements-dev" not in install
