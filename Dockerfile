# Build stage: compile the release binary (migrations are embedded in it).
FROM rust:1-bookworm AS build
WORKDIR /src
# How the bundled SQLite is compiled (see the file).
COPY .cargo ./.cargo
COPY Cargo.toml Cargo.lock ./
# Dependencies first, against stub sources: this layer is rebuilt only when
# Cargo.toml or Cargo.lock change, not on every source change.
RUN mkdir -p src bench/harness \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > bench/harness/main.rs \
    && echo 'fn main() {}' > build.rs \
    && cargo build --release --locked --bin teams-usage-store \
    && rm -rf src build.rs
COPY build.rs ./
COPY migrations ./migrations
COPY src ./src
# The stubs' outputs are older than the real sources; touching makes cargo rebuild the crate.
RUN touch src/main.rs src/lib.rs build.rs \
    && cargo build --release --locked --bin teams-usage-store

# Runtime stage: the binary alone, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/teams-usage-store --create-home app \
    && mkdir -p /var/lib/teams-usage-store/data \
    && chown -R 10001:10001 /var/lib/teams-usage-store
COPY --from=build /src/target/release/teams-usage-store /usr/local/bin/teams-usage-store
# Numeric, so the host and Kubernetes' runAsNonRoot can resolve it.
USER 10001:10001
WORKDIR /var/lib/teams-usage-store
ENV HOST=0.0.0.0 PORT=8080 DATABASE_URL=sqlite:///var/lib/teams-usage-store/data/teams-usage-store.db
EXPOSE 8080
# Declared after the folder exists and belongs to the user, so a new volume starts writable.
VOLUME ["/var/lib/teams-usage-store/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8080/ready"]
ENTRYPOINT ["teams-usage-store"]
CMD ["serve"]
