"""gunicorn settings for the hub (`make serve`, the systemd unit in README "Running in production"), from the
environment. Passed with `-c deploy/gunicorn.conf.py`, never picked up implicitly (benchmarks run their own)."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: the webhook inbox is one short INSERT; the intake work runs in the django-q2 worker, not here.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))  # a platform gives up on a webhook after 5-10 s anyway
graceful_timeout = 30
keepalive = 5  # behind a proxy that reuses connections
max_requests = 2000  # recycle workers now and then: bounded memory over weeks
max_requests_jitter = 200
# The proxy in front sets X-Forwarded-Proto; gunicorn trusts forwarded headers only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
