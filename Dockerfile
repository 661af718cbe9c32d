# Build stage: compile the release binary (migrations are embedded in it).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# How the bundled SQLite is compiled (see the file).
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin teams-usage-store

# Runtime stage: the binary alone, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/teams-usage-store --create-home app
COPY --from=build /src/target/release/teams-usage-store /usr/local/bin/teams-usage-store
USER app
WORKDIR /var/lib/teams-usage-store
ENV HOST=0.0.0.0 PORT=8080 DATABASE_URL=sqlite:///var/lib/teams-usage-store/data/teams-usage-store.db
EXPOSE 8080
VOLUME ["/var/lib/teams-usage-store/data"]
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/ready || exit 1
ENTRYPOINT ["teams-usage-store"]
CMD ["serve"]
