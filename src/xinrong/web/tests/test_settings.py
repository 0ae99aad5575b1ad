"""Production defaults are safe; the environment configures the rest."""

import json
import os
import subprocess
import sys

PROBE = (
    "import json, xinrong.config.settings as s; print(json.dumps({"
    "'debug': s.DEBUG, 'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': "
    "s.CSRF_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS, 'hasher': s.PASSWORD_HASHERS[0], "
    "'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'cache': s.CACHES['default']['BACKEND'], 'hosts': s.ALLOWED_HOSTS}))"
)


def _settings(tmp_path, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "XINRONG_INSECURE_COOKIES",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
        }
    }
    clean.update({"XINRONG_VAR": str(tmp_path), **env})
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=clean, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out)


def test_defaults_are_production_safe_and_use_sqlite_under_var(tmp_path):
    s = _settings(tmp_path)
    assert s["debug"] is False
    assert s["session_secure"] and s["csrf_secure"]
    assert s["hsts"] >= 31536000
    assert s["hasher"].endswith("Argon2PasswordHasher")
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].startswith(str(tmp_path))
    assert "locmem" in s["cache"]
    assert (tmp_path / "secret_key").exists()
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_environment_selects_postgresql_redis_and_hosts(tmp_path):
    s = _settings(
        tmp_path,
        DATABASE_URL="postgres://u@db.example:5432/xr",
        REDIS_URL="redis://127.0.0.1:6379/1",
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="xinrong.example.cn",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "xr"
    assert "redis" in s["cache"].lower()
    assert s["hosts"] == ["xinrong.example.cn"]
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_is_generated_once(tmp_path):
    _settings(tmp_path)
    first = (tmp_path / "secret_key").read_text()
    _settings(tmp_path)
    assert (tmp_path / "secret_key").read_text() == first


def test_missing_var_folder_is_created_for_sqlite(tmp_path):
    var = tmp_path / "not" / "yet"
    _settings(var, SECRET_KEY="k" * 50)
    assert var.is_dir()
