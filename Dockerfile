# syntax=docker/dockerfile:1
# Breastscan runtime image: the service only (ONNX Runtime, no TensorFlow), the committed
# model inside, a non-root user. Build:  docker build -t breastscan:0.1.0 .
# Run:    docker compose up   (see docker-compose.yml and docs/deployment.md)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtual environment holding the service and its runtime dependencies ------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first so that a source change does not re-download them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb')); \
print('\\n'.join(d['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt
COPY . .
# The service install only: no [ml] extra, so TensorFlow never enters the image.
RUN pip install --no-cache-dir --no-deps . \
    && ! python -c "import tensorflow" 2>/dev/null

# --- runtime ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="breastscan" \
      org.opencontainers.image.description="Breast ultrasound triage aid (not a diagnosis)"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BREASTSCAN_HOST=0.0.0.0 \
    BREASTSCAN_PORT=8000 \
    BREASTSCAN_DATA_DIR=/var/lib/breastscan \
    BREASTSCAN_MODEL_PATH=/opt/breastscan/models/breast-cnn.onnx \
    NICEGUI_STORAGE_PATH=/var/lib/breastscan/nicegui \
    PROMETHEUS_MULTIPROC_DIR=/tmp/breastscan-metrics
# DejaVu Sans: the PDF study report prints every character (French included) with it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 breastscan \
    && useradd --system --uid 10001 --gid breastscan --home-dir /var/lib/breastscan \
       --shell /usr/sbin/nologin breastscan \
    && mkdir -p /var/lib/breastscan/images /opt/breastscan \
    && chown -R breastscan:breastscan /var/lib/breastscan
COPY --from=build /opt/venv /opt/venv
COPY --chown=root:root models/breast-cnn.onnx /opt/breastscan/models/breast-cnn.onnx
COPY --chown=root:root --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/breastscan-entrypoint
WORKDIR /opt/breastscan
USER 10001:10001
VOLUME ["/var/lib/breastscan"]
EXPOSE 8000
# Ready = database reachable, migrations at head, model loaded (urllib: no curl in the image).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BREASTSCAN_PORT', '8000') + '/api/ready', timeout=4)"]
ENTRYPOINT ["breastscan-entrypoint"]
CMD ["serve"]
