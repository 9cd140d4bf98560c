"""Flask application factory: wires the engine, auth, CSRF, i18n, blueprints and error pages together."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from engine.config import INSTANCE_DIR
from engine.config import configure_logging
from engine.config import configured_secret
from engine.config import is_embedded
from engine.config import require_shared_secret
from engine.config import settings_from_env
from engine.context import Engine


def create_app(test_config: dict | None = None, engine: Engine | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=None,
        MAX_CONTENT_LENGTH=60 * 1024 * 1024,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("JIENAN")
        configure_logging()
    else:
        app.config.from_mapping(test_config)
    settings = engine.settings if engine else settings_from_env(**app.config.get("ENGINE_SETTINGS", {}))
    if test_config is None or not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app, settings.database_url)
    app.json = IsoJSONProvider(app)
    app.extensions["jienan"] = engine or Engine(settings)

    from web import account
    from web import admin
    from web import api
    from web import api_enterprises  # noqa: F401 - adds the enterprise file's routes to the API blueprint
    from web import api_pairing
    from web import api_visits
    from web import auth
    from web import cases
    from web import catalog
    from web import design
    from web import enterprises
    from web import errors
    from web import evaluation
    from web import figures
    from web import health
    from web import helpers
    from web import holidays
    from web import i18n
    from web import inputs
    from web import notifications
    from web import open311
    from web import pairing
    from web import plans
    from web import public
    from web import ratings
    from web import rules
    from web import security
    from web import tasks
    from web import visits

    app.url_map.converters["int"] = helpers.RecordIdConverter
    security.init_app(app)
    inputs.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    notifications.init_app(app)
    for module in (
        auth,
        tasks,
        cases,
        enterprises,
        catalog,
        figures,
        evaluation,
        notifications,
        design,
        rules,
        admin,
        account,
        holidays,
        api,
        open311,
        public,
        health,
        # pairing (包联) and per-enterprise plans (一企一策), with their API
        pairing,
        plans,
        api_pairing,
        # visit campaigns (走访) and enterprises rating the departments (测评), with their API
        visits,
        ratings,
        api_visits,
    ):
        app.register_blueprint(module.bp)
    return app


class IsoJSONProvider(DefaultJSONProvider):
    """JSON with ISO 8601 datetimes (Flask's default is RFC 822) and Chinese left readable."""

    ensure_ascii = False

    @staticmethod
    def default(value):
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        return DefaultJSONProvider.default(value)


def _secret_key(app: Flask, database_url: str) -> str:
    """The configured secret key (JIENAN_SECRET_KEY, SECRET_KEY, JIENAN_SECRET_KEY_FILE or instance/config.py).

    Only the embedded SQLite set-up (one machine) may fall back to the key `jienan init` wrote into instance/,
    or a per-process one; with PostgreSQL the processes may be on several machines, and a session signed by
    one must be valid on the next, so a missing key stops the start with a message saying what to set.
    """
    configured = app.config.get("SECRET_KEY")  # instance/config.py or JIENAN_SECRET_KEY (JSON-parsed: str())
    secret = str(configured) if configured else configured_secret()
    if not is_embedded(database_url):
        return require_shared_secret(secret)
    if secret:
        return secret
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    return secrets.token_hex(32)
