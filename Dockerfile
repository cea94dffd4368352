# A perceive worker as a container (README: "Overnight and multi-host runs" → "A worker as a container").
# Not built in CI. Build: docker build -t perceive-worker .
# Run (one container per model; the config names the models' paths as the container sees them):
#   docker run -d --stop-timeout 600 --env-file redis.env \
#     -v /srv/perceive-data:/data:ro -v /srv/models:/models:ro -v "$PWD/worker.yaml:/config/experiment.yaml:ro" \
#     perceive-worker --config /config/experiment.yaml --model llava
FROM node:20-bookworm-slim

# cmake, g++, git, make: the one-time llama-server build (perceive setup); python3: better-sqlite3's native build.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates cmake g++ git make python3 \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/perceive
COPY . .

# npm 10 ignores package.json's allowScripts: keep onnxruntime-node from downloading CUDA (the CPU binary ships in the package).
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    PERCEIVE_CACHE_DIR=/opt/perceive/cache

# npm ci builds dist/ (prepare); perceive setup builds llama-server into the image (PERCEIVE_CACHE_DIR); then the dev tools go.
RUN npm ci --no-audit --no-fund \
  && node dist/cli/main.js setup \
  && npm prune --omit=dev --no-audit --no-fund \
  && chmod -R a+rX /opt/perceive

# The data tree (laid out as below the run host's data root) is mounted at /data; models wherever the config says.
ENV PERCEIVE_DATA_DIR=/data \
    NODE_ENV=production
VOLUME ["/data"]

USER node
WORKDIR /home/node
# node itself is PID 1 (no npx, no shell), so SIGTERM from `docker stop` reaches the worker: it hands its
# bundle back, closes llama-server and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/perceive/dist/cli/main.js", "worker"]
CMD ["--help"]
