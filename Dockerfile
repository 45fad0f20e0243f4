# contributor-flow: `docker build -t contributor-flow .` then run with the variables of
# README "Deploying" (GITHUB_WEBHOOK_SECRET at least). Listens on $PORT (default 8080).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=8080 LOG_FORMAT=json \
    BOT_RULES_DIR=/app/rules

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY rules ./rules
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bot \
 && mkdir -p /app/var && chown bot /app/var

# Never root; the SQLite default (./var) is writable by this user only. Use PostgreSQL
# (DATABASE_URL) for anything that must outlive the container or run as several replicas.
USER bot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8080\")}/healthz', timeout=4)"

CMD ["python", "-m", "bot", "serve"]
