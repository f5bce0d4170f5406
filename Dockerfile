# skiff: a Kafka-compatible broker for development and CI, in a small image.
#   docker build -t skiff .
#   docker run --rm -p 9092:9092 -e SKIFF_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092 skiff
# Configuration: SKIFF_<KEY> environment variables or --<kafka.key> arguments
# (docs/configuration.md). Data lives in the /var/lib/skiff volume.

FROM debian:bookworm-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        libevent-dev libssl-dev zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev libcjson-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build build -j "$(nproc)" --target skiff \
    && strip build/skiff

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libevent-2.1-7 libevent-core-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7 \
        libssl3 zlib1g liblz4-1 libzstd1 libsnappy1v5 libcjson1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/skiff --shell /usr/sbin/nologin skiff \
    && install -d -o skiff -g skiff -m 0750 /var/lib/skiff
COPY --from=build /src/build/skiff /usr/local/bin/skiff
# Fail the build now, not at start-up, if a shared library is missing.
RUN ! ldd /usr/local/bin/skiff | grep 'not found' && skiff --version

USER skiff
WORKDIR /var/lib/skiff
ENV SKIFF_LISTENERS=PLAINTEXT://0.0.0.0:9092 \
    SKIFF_LOG_DIRS=/var/lib/skiff
VOLUME /var/lib/skiff
EXPOSE 9092
# Healthy once the listener accepts connections (assumes the default port 9092).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9092"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/skiff"]
