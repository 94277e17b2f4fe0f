# regiobot as a container: Telegram bot (polling or webhook), /healthz and /metrics on port 9090.
# Build:  docker build -t regiobot .        Run:  docker compose up -d   (README, "Betrieb")
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    REGIOBOT_CONFIG=/app/docker/config.yaml

# CPU-only torch first, from PyTorch's CPU wheel index: torch==2.13.0 from PyPI alone is the CUDA build
# with several GB of nvidia-* packages. `pip install .` then finds torch==2.13.0 (2.13.0+cpu) satisfied.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /app
# Dependencies and code first, knowledge later: an edit in knowledge/ does not reinstall anything.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
    && python -c "import torch, sys; sys.exit(torch.version.cuda is not None)" \
    && rm -rf build bot.egg-info

RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/regiobot regiobot \
    && mkdir -p /data/index /data/state \
    && chown -R regiobot:regiobot /data \
    && chmod 0700 /data/state

COPY knowledge ./knowledge
COPY docker/config.yaml docker/replicas.yaml ./docker/

USER regiobot
# The index is built now, into /data/index: it checks the knowledge (a broken file fails the build with
# its `Datei:Zeile` messages) and proves the bundled encoder loads offline. Docker copies /data into an
# empty named volume on first start, so the first start serves at once. A bind mount starts empty:
# then `regiobot run` builds the index before it serves (same as on a fresh server). A newer image with
# changed knowledge finds the old index in the volume; `regiobot run` serves it and rebuilds in the
# background (incremental, atomic).
RUN regiobot build

# Declared after the build: changes to a VOLUME path in later build steps would be discarded.
VOLUME ["/data"]
EXPOSE 8443 9090

# /healthz: 200 when the engine is loaded and the index not broken, 503 otherwise (urlopen raises on 503).
# curl is not in slim images, so Python's urllib. start-period covers an index build on a bind mount.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4).status != 200)"]

# Exec form: regiobot gets SIGTERM itself (`docker stop`) and stops cleanly (README, "Zuverlässigkeit").
CMD ["regiobot", "run"]
