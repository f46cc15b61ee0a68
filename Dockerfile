FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_PATH=/data/bot.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY watching ./watching
COPY deals ./deals
COPY storage ./storage
COPY gateway ./gateway
COPY devices ./devices
COPY clients ./clients
COPY clock ./clock
COPY sandbox ./sandbox
RUN pip install . \
    && useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot:bot /data

USER bot
VOLUME ["/data"]
WORKDIR /data
# webhook mode listens here (WEBHOOK_PORT); long polling needs no port
EXPOSE 8443
# the bot writes its health facts to /data/heartbeat every 30 s; the check judges them (bot/health.py)
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.health"]
CMD ["python", "-m", "bot"]
