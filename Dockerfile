# skiff: a Kafka-compatible broker for development and CI, in an image of
# 11.4 MB (docs/docker.md).
#   docker build -t skiff .
#   docker run --rm -p 9092:9092 -e KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://localhost:9092 skiff
# Configuration: apache/kafka's KAFKA_* variables, SKIFF_* variables,
# --<kafka.key>=<value> arguments, or a Kafka server.properties. Data lives in
# the /var/lib/skiff volume. A drop-in for apache/kafka in Testcontainers.

FROM debian:bookworm-slim AS build
RUN apt-get -o Acquire::Retries=3 update \
    && DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 install -y --no-install-recommends \
        build-essential cmake pkg-config busybox-static \
        libevent-dev libssl-dev zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev libcjson-dev libpcre2-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Every library Debian ships as an archive is linked in; docker/rootfs.sh then
# lays out skiff, the few libraries ldd still names, busybox and the files of
# apache/kafka's and Confluent's start sequences.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSKIFF_STATIC_DEPS=ON \
    && cmake --build /build -j "$(nproc)" --target skiff \
    && strip /build/skiff \
    && sh docker/rootfs.sh /build/skiff /rootfs

FROM scratch
COPY --from=build /rootfs/ /
# What the user skiff writes: the data volume, and Confluent's start scripts
# (which testcontainers-go and -python edit with sed -i and echo >>).
RUN ["/bin/busybox", "chown", "-R", "10001:10001", "/var/lib/skiff", "/etc/confluent/docker"]
USER 10001:10001
WORKDIR /var/lib/skiff
# The image's defaults (every interface, data in the volume), below every
# KAFKA_*/SKIFF_* variable and flag; --config FILE replaces them.
ENV SKIFF_CONFIG=/etc/skiff/image.properties
VOLUME /var/lib/skiff
EXPOSE 9092
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/skiff", "healthcheck"]
STOPSIGNAL SIGTERM
# Arguments are settings (--num.partitions=3); a command (sh -c ..., as
# Testcontainers gives) is run in skiff's place.
ENTRYPOINT ["/usr/local/bin/skiff"]
