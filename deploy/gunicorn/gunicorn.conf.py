"""gunicorn settings for a Jienan web machine (deploy/systemd/jienan-web.service; the cluster test uses it too).

Command-line options override these. With JIENAN_LOG_FORMAT=json gunicorn's own log lines (start-up, workers,
the access log) are JSON objects like the application's, one per line.
"""

import os

wsgi_app = "web:create_app()"
bind = os.environ.get("JIENAN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("JIENAN_WEB_PROCESSES", "2"))  # about one per core
threads = int(os.environ.get("JIENAN_WEB_THREADS", "4"))  # each process needs this many connections (or more)
graceful_timeout = 30  # SIGTERM: requests in flight get this long to finish
accesslog = "-"

if os.environ.get("JIENAN_LOG_FORMAT", "").strip().lower() == "json":
    _json = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"},
        "json_ensure_ascii": False,
    }
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": _json},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
