# syntax=docker/dockerfile:1
# The service's image: a build stage bundles the TypeScript with every dependency, the runtime
# stage holds production dependencies, dist/ and drizzle/ only. scripts/container-smoke.sh
# replays this file without Docker (scripts/dockerfile-replay.mjs reads it instruction by
# instruction), so it uses only what that replay understands: ARG, FROM, WORKDIR, ENV, COPY
# [--from], RUN [--mount=type=cache], USER, EXPOSE, HEALTHCHECK and CMD in exec form.

# Node 26 is the Active LTS line since October 2026, supported until April 2029; Node 24 is in
# maintenance. trixie is Debian's current stable release. --build-arg NODE_MAJOR=24 switches.
ARG NODE_MAJOR=26

FROM node:${NODE_MAJOR}-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The npm cache stays in a BuildKit cache mount, out of every layer. --ignore-scripts: the
# package's prepare (its build) runs below, once the sources are in.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM node:${NODE_MAJOR}-trixie-slim AS runtime
# DATA_DIR is only used without DATABASE_URL (embedded PGlite); the node user owns its home.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/home/node/data
WORKDIR /app
COPY package.json package-lock.json ./
# The build stage built dist/; production dependencies run no install scripts of their own.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The service finds its migrations beside package.json, in /app/drizzle.
COPY drizzle ./drizzle
# Root owns the code; the service runs as the image's unprivileged node user.
USER node
EXPOSE 8000
# Slim images have no curl: Node's own fetch asks /health.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Two V8 flags, here only: without them the service misses its memory goals under the bench
# (docs/performance.md, "Runtime flags"). V8 reads them at start.
CMD ["node", "--heap-growing-percent=30", "--liftoff-only", "dist/server.js"]
