// Every request of the README's "Using it" examples, sent through Stoplight Prism's validating
// proxy (`prism proxy --errors`) in front of the running service, must go through with no
// violation of the OpenAPI document the service itself serves: requests and answers alike.
// The service runs on 127.0.0.1 against the fake GitHub (octocat with three repositories, as
// scripts/serve-fake-github.ts seeds it) and an in-memory PGlite; GitHub itself is never asked.
//   npm run check:openapi-proxy
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { openDatabase } from "../src/db/database.js";
import { FakeGitHub } from "../test/fake-github/server.js";
import { startInProcessService } from "../test/helpers/in-process-service.js";

interface Example {
  path: string;
  /** From the README's printed answer: a problem's own status, else 200. */
  expectedStatus: number;
}

/** The README's curl lines under "Using it", with the status each printed answer shows. */
function readmeExamples(): Example[] {
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("## Using it"));
  const lines = section.slice(0, section.indexOf("\n## ", 4)).split("\n");
  const examples: Example[] = [];
  for (const [index, line] of lines.entries()) {
    const match = /^\$ curl -s '(?:http:\/\/localhost:8000)([^']+)'$/.exec(line);
    if (!match?.[1]) continue;
    const answer = JSON.parse(lines[index + 1] ?? "null") as { type?: string; status?: number };
    const isProblem = answer.type?.startsWith("urn:problem:") === true;
    examples.push({
      path: match[1],
      expectedStatus: isProblem ? (answer.status as number) : 200,
    });
  }
  return examples;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(url: string, prism: ChildProcess, output: string[]): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (prism.exitCode !== null) break;
    try {
      const response = await request(url, { signal: AbortSignal.timeout(1_000) });
      await response.body.dump();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`Prism did not start at ${url}:\n${output.join("")}`);
}

const examples = readmeExamples();
// The trailing-slash form and the form without: API.md says they are the same request.
examples.push({ path: "/repositories?username=octocat", expectedStatus: 200 });
examples.push({ path: "/metrics", expectedStatus: 200 });
if (!examples.some((example) => example.path.startsWith("/repositories/?"))) {
  throw new Error("README.md's 'Using it' has no /repositories/?username=… example to check");
}

const fake = await FakeGitHub.start();
fake.addUser({ login: "octocat", id: 583231 });
for (const [index, name] of ["Hello-World", "Spoon-Knife", "linguist"].entries()) {
  fake.addRepo("octocat", { name, id: 1296269 + index });
}
const database = openDatabase({ dataDir: "memory://" });
await database.migrate();
const service = await startInProcessService({ database, githubUrl: fake.url });

const prismPort = await freePort();
const proxy = `http://127.0.0.1:${prismPort}`;
const prismOutput: string[] = [];
const prism = spawn(
  "node_modules/.bin/prism",
  [
    "proxy",
    `${service.url}/openapi.json`,
    service.url,
    "--errors",
    "--host",
    "127.0.0.1",
    "--port",
    String(prismPort),
  ],
  { stdio: ["ignore", "pipe", "pipe"] },
);
prism.stdout?.on("data", (chunk) => prismOutput.push(String(chunk)));
prism.stderr?.on("data", (chunk) => prismOutput.push(String(chunk)));

let failures = 0;
try {
  await waitFor(`${proxy}/health`, prism, prismOutput);
  for (const example of examples) {
    const response = await request(`${proxy}${example.path}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = await response.body.text();
    const violations = response.headers["sl-violations"];
    const fromPrism = /stoplight\.io\/prism/.test(body);
    const ok = response.statusCode === example.expectedStatus && !violations && !fromPrism;
    if (!ok) failures++;
    process.stdout.write(
      `${ok ? "ok  " : "FAIL"} ${response.statusCode} GET ${example.path}${ok ? "" : `\n     expected ${example.expectedStatus}; ${violations ? `sl-violations: ${violations}; ` : ""}${body.slice(0, 600)}`}\n`,
    );
  }
  // The control: Prism does validate. A word the document does not allow must be flagged.
  const control = await request(`${proxy}/repositories/?username=octocat&from_local=maybe`, {
    signal: AbortSignal.timeout(10_000),
  });
  const controlBody = await control.body.text();
  const flagged = control.statusCode === 422 && /stoplight\.io\/prism/.test(controlBody);
  if (!flagged) failures++;
  process.stdout.write(
    `${flagged ? "ok  " : "FAIL"} ${control.statusCode} GET /repositories/?username=octocat&from_local=maybe (the control: Prism must flag it)${flagged ? "" : `\n     ${controlBody.slice(0, 600)}`}\n`,
  );
} finally {
  prism.kill("SIGTERM");
  await service.close();
  await database.close();
  await fake.close();
}
if (failures > 0) {
  process.stdout.write(`\nPrism's output:\n${prismOutput.join("").slice(-4000)}\n`);
}
process.stdout.write(
  `prism proxy --errors: ${examples.length + 1 - failures} of ${examples.length + 1} requests answered as expected (${examples.length} without a violation, 1 control flagged)\n`,
);
process.exit(failures > 0 ? 1 : 0);
