# syntax=docker/dockerfile:1
# One image for every chargestream component: the entry point is `chargestream`, so a
# container runs `chargestream gateway`, `api`, `worker` or `bootstrap` by its arguments;
# the dashboard runs `python -m streamlit run /app/chargestream/ui/server.py ... --
# /app/chargestream/app/dashboard_app.py` (see app/dashboard.py).
#
#   docker build -t chargestream:0.1.0 .
#
# See docs/deploy-kubernetes.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------- build: a venv in /opt/venv
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv

WORKDIR /src

# Dependencies first, from pyproject.toml alone (every one ships a manylinux wheel), so this
# layer is rebuilt only when the dependencies change.
COPY pyproject.toml README.md ./
RUN mkdir chargestream \
    && touch chargestream/__init__.py \
    && pip install '.[stack,ui]' \
    && pip uninstall --yes chargestream \
    && rm -rf build chargestream chargestream.egg-info

# chargestream/ links to the rooms beside it (docs/adr/0007-one-package-many-rooms.md)
COPY chargestream ./chargestream
COPY domain ./domain
COPY sqlite ./sqlite
COPY eventlog ./eventlog
COPY storage ./storage
COPY gateway ./gateway
COPY streams ./streams
COPY api ./api
COPY ui ./ui
COPY app ./app
COPY simulator ./simulator
COPY services ./services
# The runtime needs neither pip nor setuptools, nor the test suites some packages ship.
RUN pip install --no-deps . \
    && pip uninstall --yes pip setuptools \
    && find /opt/venv/lib -type d -name tests -prune -exec rm -rf {} +

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="chargestream" \
      org.opencontainers.image.description="OCPP 1.6-J charging station management system" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=build /opt/venv /opt/venv

# HOME=/tmp: the only writable place when the root filesystem is read-only (Streamlit keeps
# a little state under $HOME). Every listener binds 0.0.0.0: a container is reached from
# outside (/api/v1 needs the API token all the same).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    CHARGESTREAM_OCPP_HOST=0.0.0.0 \
    CHARGESTREAM_API_HOST=0.0.0.0 \
    CHARGESTREAM_UI_HOST=0.0.0.0 \
    CHARGESTREAM_HEALTH_HOST=0.0.0.0 \
    CHARGESTREAM_FTP_HOST=0.0.0.0 \
    CHARGESTREAM_DATA_DIR=/var/lib/chargestream

# /app/chargestream: the installed package at a fixed path, for the dashboard's script
RUN groupadd --system --gid 10001 chargestream \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin chargestream \
    && install --directory --owner 10001 --group 10001 --mode 0700 /var/lib/chargestream \
    && mkdir /app \
    && ln -s "$(python -c 'import pathlib, chargestream; print(pathlib.Path(chargestream.__file__).parent)')" /app/chargestream \
    && test -f /app/chargestream/app/dashboard_app.py \
    && chargestream --help > /dev/null

WORKDIR /tmp
USER 10001:10001

# OCPP WebSocket, HTTP API, gateway health and metrics, dashboard, the API's FTP uploads
EXPOSE 9000 9443 8080 8081 8501 2121

ENTRYPOINT ["chargestream"]
CMD ["--help"]
