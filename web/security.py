"""What every response carries to keep pages safe in the browser: a Content-Security-Policy with a per-request
nonce for the few inline page scripts, no framing, no MIME sniffing, a same-origin referrer, Secure cookies over
HTTPS, and the client's address taken through a configured number of trusted reverse proxies."""

from __future__ import annotations

import secrets

from flask import Flask
from flask import g
from flask import request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Pages load scripts, styles, fonts and images from this site only; inline <script> blocks need the nonce.
# style-src allows inline styles: bpmn-js, dmn-js and ECharts set style attributes on the elements they draw.
CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly or via a trusted proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def csp_nonce() -> str:
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init_app(app: Flask) -> None:
    """`TRUSTED_PROXIES` (env JIENAN_TRUSTED_PROXIES, default 0): how many reverse proxies in front of the app
    may set X-Forwarded-For/-Proto/-Host. With 0 the headers are ignored, so a client cannot pick its own
    address; behind one nginx it is 1."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.session_interface = SessionInterface()
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
