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
# The npm cache stays in a BuildKit cache mount, out of every layer.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM node:${NODE_MAJOR}-trixie-slim AS runtime
# DATA_DIR is only used without DATABASE_URL (embedded PGlite); the node user owns its home.
# glibc's malloc raises its mmap threshold to the size of each mapped block it frees (up to
# 32 MB), so once one large block was freed (a GitHub listing page is about 480 KB of text),
# later ones came from the main heap, which glibc gives back only from its top. Fixed at glibc's
# initial 128 KB, blocks that large are mapped and unmapped whole: in the bench the peak fell by
# 17 MB on PGlite (241 and 248 against 224 and 231 MB) and by 4 to 11 MB on Postgres, with B2
# and B3 as fast. The C library reads it only at start, so it is given here.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/home/node/data \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
# The service finds its migrations beside package.json, in /app/drizzle.
COPY drizzle ./drizzle
# Root owns the code; the service runs as the image's unprivileged node user.
USER node
EXPOSE 8000
# Slim images have no curl: Node's own fetch asks /health.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The young generation's semi-spaces are capped at 8 MB (V8's default cap is 16 MB on Node 20,
# and Node 26 lets them grow further still). Short-lived request garbage then takes more, smaller
# collections, and the process less memory: in the bench (docs/performance.md, B5, change 25)
# the peak on PGlite was 189 and 191 MB against 213 and 217 MB with 16 MB, and repeated details
# cost as much CPU a request (85 µs on average with either, two processes each, alternating).
# V8 reads this only at start, so it is given here.
CMD ["node", "--max-semi-space-size=8", "dist/server.js"]
