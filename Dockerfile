# alliance: multi-stage build of the cgo binary (mattn/go-sqlite3 needs cgo,
# so the build stage has gcc and the runtime image has glibc).
#
#   docker build -t alliance .
#   docker run -p 8080:8080 -v alliance-data:/data alliance          # SQLite in /data
#   docker run -p 8080:8080 -e ALLIANCE_DATABASE_URL='postgres://…' alliance
#
# The build step is the README's: go build -trimpath -o … ./cmd/alliance.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=1
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -o /out/alliance ./cmd/alliance

FROM debian:bookworm-slim
# ca-certificates for sslmode=verify-full to PostgreSQL; curl for HEALTHCHECK.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 alliance \
    && useradd --system --uid 10001 --gid alliance --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin alliance \
    && mkdir /data && chown alliance:alliance /data
COPY --from=build /out/alliance /usr/local/bin/alliance

USER alliance:alliance
WORKDIR /data
# The SQLite file (with its -wal and -shm files) lives here; mount a volume.
VOLUME ["/data"]
ENV ALLIANCE_HTTP_ADDR=:8080 \
    ALLIANCE_DATABASE_URL=/data/alliance.db \
    ALLIANCE_LOG_FORMAT=json
EXPOSE 8080
# /healthz answers while the process serves; the port follows ALLIANCE_HTTP_ADDR.
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${ALLIANCE_HTTP_ADDR##*:}/healthz" || exit 1
# SIGTERM (docker stop) drains in-flight requests for ALLIANCE_SHUTDOWN_TIMEOUT
# (15s by default; keep docker's --stop-timeout above it), then closes the pool.
STOPSIGNAL SIGTERM
ENTRYPOINT ["alliance"]
CMD ["serve"]
