import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../src/project-root.js";

const COMPOSE_FILE = join(PROJECT_ROOT, "docker-compose.yml");

// dclint ships the Compose Specification's own JSON schema (compose-spec/compose-spec,
// schema/compose-spec.json); its package exports hide the file, so it is found beside
// package.json.
const require = createRequire(import.meta.url);
const SCHEMA_FILE = join(
  dirname(require.resolve("dclint/package.json")),
  "schemas",
  "compose.schema.json",
);

function composeValidator() {
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(SCHEMA_FILE, "utf8"));
  // The schema names draft-07 by an https URL Ajv does not know it by; Ajv's default is
  // draft-07. Strict mode is off because the schema carries annotations such as `deprecated`.
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

function readCompose(): any {
  return parse(readFileSync(COMPOSE_FILE, "utf8"));
}

describe("docker-compose.yml", () => {
  const validate = composeValidator();

  it("is valid against the Compose Specification schema", () => {
    const valid = validate(readCompose());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it("is rejected by the same schema once broken, so the check above can fail", () => {
    const broken = readCompose();
    broken.services.api.depends_on.db.condition = "service_happy";
    broken.services.db.healthcheck.intervall = "5s";
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((error) => error.instancePath);
    expect(paths).toContain("/services/api/depends_on/db/condition");
    expect(paths).toContain("/services/db/healthcheck");
  });

  it("passes dclint's rules without an error or a warning", async () => {
    const dclint = join(PROJECT_ROOT, "node_modules", ".bin", "dclint");
    const { stdout } = await promisify(execFile)(
      dclint,
      [COMPOSE_FILE, "--formatter", "json", "--color", "false"],
      { cwd: PROJECT_ROOT },
    ).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    const [result] = JSON.parse(stdout);
    expect(result.messages).toEqual([]);
  });

  it("starts the API only once Postgres answers pg_isready, and publishes port 8000", () => {
    const { services, volumes } = readCompose();
    expect(services.db.image).toMatch(/^postgres:\d+/);
    expect(services.db.healthcheck.test.join(" ")).toContain("pg_isready");
    const [dbVolume] = services.db.volumes;
    expect(Object.keys(volumes)).toContain(dbVolume.split(":")[0]);

    expect(services.api.build).toBe(".");
    expect(services.api.depends_on.db.condition).toBe("service_healthy");
    expect(new URL(services.api.environment.DATABASE_URL).hostname).toBe("db");
    expect(services.api.ports).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, not JavaScript's.
      expect.objectContaining({ target: 8000, published: "${API_PORT:-8000}" }),
    ]);
    expect(services.api.restart).toBe("unless-stopped");
  });

  it("gives the API a Redis for the shared GitHub cache, without making Redis a condition of starting", () => {
    const { services } = readCompose();
    expect(services.redis.image).toMatch(/^redis:\d+/);
    expect(new URL(services.api.environment.REDIS_URL).hostname).toBe("redis");
    expect(services.api.depends_on.redis.condition).toBe("service_started");
  });

  it("passes GITHUB_TOKEN through from the caller or .env, and leaves it empty otherwise", () => {
    const { GITHUB_TOKEN } = readCompose().services.api.environment;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose's interpolation, not JavaScript's.
    expect(GITHUB_TOKEN).toBe("${GITHUB_TOKEN:-}");
  });

  it("gives the API longer to stop than the server's 10 s grace period", () => {
    const grace = /^(\d+)s$/.exec(readCompose().services.api.stop_grace_period);
    expect(Number(grace?.[1])).toBeGreaterThan(10);
  });
});
