import { FakeGitHub } from "../test/fake-github/server.js";
import { openTestDatabase } from "../test/helpers/databases.js";
import { startInProcessService } from "../test/helpers/in-process-service.js";
import { RepositoryStore } from "../src/db/repository-store.js";
const fake = await FakeGitHub.start({ latencyMs: 0 });
const test = await openTestDatabase("postgres");
const orig = RepositoryStore.prototype.saveListing;
let storeMs: number[] = [];
RepositoryStore.prototype.saveListing = async function (o, l) { const t = performance.now(); await orig.call(this, o, l); storeMs.push(performance.now() - t); };
const service = await startInProcessService({ database: test.database, githubUrl: fake.url, env: { GITHUB_TIMEOUT_MS: "30000", GITHUB_TOKEN: "x".repeat(40), LOG_LEVEL: "warn" } });
for (let i = 0; i < 12; i++) { fake.addUser({ login: `a-${i}`, repoCount: 1000 }); fake.addUser({ login: `b-${i}`, repoCount: 1000 }); }
fake.latencyMs = 50;
const a: number[] = [], b: number[] = [];
for (let i = 0; i < 12; i++) {
  let t = performance.now(); await service.get(`/repositories?username=a-${i}`); a.push(performance.now() - t);
  t = performance.now(); const r = await service.get(`/repositories?username=b-${i}&save_data=true`); b.push(performance.now() - t);
  if (r.status !== 200) console.log(r.status);
}
const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!.toFixed(1);
console.log("listing", med(a), "save", med(b), "store", med(storeMs), storeMs.map((x) => x.toFixed(0)).join(","));
await service.close(); await test.dispose(); await fake.close();
