"""Settings read from elsewhere: the upload limit is the Streamlit configuration's, in one place."""

from __future__ import annotations

import tomllib

from analytics import settings


def test_upload_limit_is_the_streamlit_configurations(tmp_path):
    config = tomllib.loads(settings.STREAMLIT_CONFIG.read_text(encoding="utf-8"))
    assert settings.UPLOAD_MAX_MB == config["server"]["maxUploadSize"] == 50
    other = tmp_path / "config.toml"
    other.write_text("[server]\nmaxUploadSize = 12\n", encoding="utf-8")
    assert settings._upload_limit_mb(other) == 12
    other.write_text("[server]\nport = 8501\n", encoding="utf-8")
    assert settings._upload_limit_mb(other) == 200  # Streamlit's default when the key is absent
    assert settings._upload_limit_mb(tmp_path / "missing.toml") == 200
