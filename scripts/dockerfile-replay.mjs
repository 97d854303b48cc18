// Usage: node scripts/dockerfile-replay.mjs <Dockerfile> <context dir> <out dir>
//
// Replays a Dockerfile's stages on this machine, without a container engine, so that
// scripts/container-smoke.sh can run exactly what the image would hold. Each stage gets a
// folder under <out dir> standing for its root file system: WORKDIR, COPY (from the context,
// minus .dockerignore, or --from an earlier stage) and RUN (with the stage's ENV) act there.
// What the final stage declares (ENV, USER, EXPOSE, HEALTHCHECK, CMD) is written to
// <out dir>/image.sh as shell variables. An instruction or flag this replay does not know
// stops it, so the Dockerfile cannot drift into something the smoke run silently skips.
// Plain JavaScript with no dependencies: it runs before any `npm ci`.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, matchesGlob, posix, relative, resolve } from "node:path";

const [dockerfilePath, contextArg, outArg] = process.argv.slice(2);
if (!dockerfilePath || !contextArg || !outArg) {
  console.error("usage: node scripts/dockerfile-replay.mjs <Dockerfile> <context dir> <out dir>");
  process.exit(2);
}
const contextDir = resolve(contextArg);
const outDir = resolve(outArg);

function fail(message) {
  console.error(`dockerfile-replay: ${message}`);
  process.exit(1);
}

/** Instructions with continuation lines joined; comments and blank lines dropped. */
function instructions(text) {
  const result = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (pending === "" && /^\s*(#|$)/.test(line)) continue;
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = "";
    const match = /^(\S+)\s*(.*)$/.exec(whole);
    result.push({ keyword: match[1].toUpperCase(), rest: match[2] });
  }
  return result;
}

/** Leading `--name=value` flags, and what follows them. */
function flags(rest) {
  const found = {};
  let remaining = rest;
  for (;;) {
    const match = /^--([a-z-]+)=(\S+)\s+/.exec(remaining);
    if (!match) return { flags: found, rest: remaining };
    found[match[1]] = match[2];
    remaining = remaining.slice(match[0].length);
  }
}

function execForm(keyword, rest) {
  try {
    const parsed = JSON.parse(rest);
    if (Array.isArray(parsed) && parsed.every((part) => typeof part === "string")) return parsed;
  } catch {}
  return fail(`${keyword} must use the exec (JSON array) form, got: ${rest}`);
}

function substitute(value, vars) {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced, bare) => {
    const name = braced ?? bare;
    if (!(name in vars)) fail(`\${${name}} is not defined`);
    return vars[name];
  });
}

/** `k=v k2="v 2"` pairs, as ENV writes them. */
function envPairs(rest, vars) {
  const pairs = {};
  const pattern = /(\w+)=("(?:[^"\\]|\\.)*"|\S*)\s*/y;
  let match = pattern.exec(rest);
  let consumed = 0;
  while (match) {
    consumed = pattern.lastIndex;
    const raw = match[2].startsWith('"') ? JSON.parse(match[2]) : match[2];
    pairs[match[1]] = substitute(raw, vars);
    match = pattern.exec(rest);
  }
  if (consumed !== rest.length) fail(`ENV must be key=value pairs, got: ${rest}`);
  return pairs;
}

const ignorePatterns = (() => {
  const file = join(contextDir, ".dockerignore");
  if (!existsSync(file)) return [];
  const patterns = readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (patterns.some((pattern) => pattern.startsWith("!"))) {
    fail(".dockerignore exceptions (!) are not replayed");
  }
  return patterns.map((pattern) => pattern.replace(/^\/+|\/+$/g, ""));
})();

/** Docker leaves a path out when it, or any folder above it, matches a pattern. */
function ignored(relativePath) {
  const parts = relativePath.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    if (ignorePatterns.some((pattern) => matchesGlob(prefix, pattern))) return true;
  }
  return false;
}

const stages = new Map();
const globalArgs = {};
let stage;

for (const { keyword, rest } of instructions(readFileSync(dockerfilePath, "utf8"))) {
  if (keyword === "ARG") {
    if (stage) fail("ARG inside a stage is not replayed");
    const [name, value = ""] = rest.split("=");
    globalArgs[name] = value;
    continue;
  }
  if (keyword === "FROM") {
    const match = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest);
    if (!match) fail(`FROM must name its stage (FROM image AS name), got: ${rest}`);
    const root = join(outDir, match[2]);
    mkdirSync(root, { recursive: true });
    stage = {
      name: match[2],
      image: substitute(match[1], globalArgs),
      root,
      workdir: "/",
      env: {},
      user: "root",
      expose: [],
      healthcheck: undefined,
      cmd: undefined,
    };
    stages.set(stage.name, stage);
    console.error(`dockerfile-replay: stage ${stage.name} (${stage.image}) in ${root}`);
    continue;
  }
  if (!stage) fail(`${keyword} before the first FROM`);
  const inStage = (path) => join(stage.root, posix.resolve(stage.workdir, path));
  switch (keyword) {
    case "WORKDIR":
      stage.workdir = posix.resolve(stage.workdir, substitute(rest, stage.env));
      mkdirSync(inStage("."), { recursive: true });
      break;
    case "ENV":
      Object.assign(stage.env, envPairs(rest, { ...globalArgs, ...stage.env }));
      break;
    case "COPY": {
      const parsed = flags(rest);
      const unknown = Object.keys(parsed.flags).filter((name) => !["from", "chown"].includes(name));
      if (unknown.length > 0) fail(`COPY --${unknown[0]} is not replayed`);
      const words = parsed.rest.split(/\s+/);
      const destination = words.pop();
      const source = parsed.flags.from;
      if (source && !stages.has(source)) fail(`COPY --from=${source}: no such stage`);
      const sourceRoot = source ? stages.get(source).root : contextDir;
      for (const word of words) {
        const from = source
          ? join(sourceRoot, word)
          : join(contextDir, posix.normalize(word).replace(/^\/+/, ""));
        if (!existsSync(from)) fail(`COPY ${word}: not found in ${source ?? "the context"}`);
        // A folder's contents go into the destination; a file goes into it when it ends in /.
        const intoFolder = destination.endsWith("/") || words.length > 1;
        const to =
          statSync(from).isDirectory() || !intoFolder
            ? inStage(destination)
            : join(inStage(destination), basename(from));
        mkdirSync(statSync(from).isDirectory() ? to : dirname(to), { recursive: true });
        cpSync(from, to, {
          recursive: true,
          filter: (path) => source !== undefined || !ignored(relative(contextDir, path)),
        });
      }
      break;
    }
    case "RUN": {
      const parsed = flags(rest);
      for (const [name, value] of Object.entries(parsed.flags)) {
        // A cache mount only speeds the build up; anything else would change what RUN sees.
        if (name !== "mount" || !value.startsWith("type=cache,"))
          fail(`RUN --${name}=${value} is not replayed`);
      }
      if (parsed.rest.startsWith("[")) fail("RUN in exec form is not replayed");
      console.error(`dockerfile-replay: [${stage.name}] RUN ${parsed.rest}`);
      execFileSync("/bin/sh", ["-c", parsed.rest], {
        cwd: inStage("."),
        env: { ...process.env, ...stage.env },
        stdio: ["ignore", "inherit", "inherit"],
      });
      break;
    }
    case "USER":
      stage.user = rest;
      break;
    case "EXPOSE":
      stage.expose.push(...rest.split(/\s+/));
      break;
    case "HEALTHCHECK": {
      const parsed = flags(rest);
      if (!parsed.rest.startsWith("CMD ")) fail(`HEALTHCHECK must be CMD [...], got: ${rest}`);
      stage.healthcheck = execForm("HEALTHCHECK", parsed.rest.slice(4));
      break;
    }
    case "CMD":
      stage.cmd = execForm("CMD", rest);
      break;
    default:
      fail(`${keyword} is not replayed: teach scripts/dockerfile-replay.mjs or avoid it`);
  }
}

if (!stage?.cmd) fail("the final stage has no CMD");
const quote = (value) => `'${String(value).replaceAll("'", `'\\''`)}'`;
const array = (values) => `(${values.map(quote).join(" ")})`;
const lines = [
  `IMAGE_NODE_MAJOR=${quote(globalArgs.NODE_MAJOR ?? "")}`,
  `IMAGE_BASE=${quote(stage.image)}`,
  `IMAGE_USER=${quote(stage.user)}`,
  `IMAGE_EXPOSE=${array(stage.expose)}`,
  `IMAGE_ENV=${array(Object.entries(stage.env).map(([name, value]) => `${name}=${value}`))}`,
  `IMAGE_CMD=${array(stage.cmd)}`,
  `IMAGE_HEALTHCHECK=${array(stage.healthcheck ?? [])}`,
  `RUNTIME_WORKDIR=${quote(join(stage.root, stage.workdir))}`,
  ...[...stages.values()].map(
    (each) => `STAGE_WORKDIR_${each.name.toUpperCase()}=${quote(join(each.root, each.workdir))}`,
  ),
];
writeFileSync(join(outDir, "image.sh"), `${lines.join("\n")}\n`);
