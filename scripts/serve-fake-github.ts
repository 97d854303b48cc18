// Serves the test suite's fake GitHub on 127.0.0.1 for scripts/container-smoke.sh: one user,
// "octocat", with three public repositories. Prints the base URL as its first line of output
// and serves until it gets SIGTERM or SIGINT.
import { FakeGitHub } from "../test/fake-github/server.js";

const fake = await FakeGitHub.start();
fake.addUser({ login: "octocat", id: 583231 });
for (const [index, name] of ["Hello-World", "Spoon-Knife", "linguist"].entries()) {
  fake.addRepo("octocat", { name, id: 1296269 + index });
}
process.stdout.write(`${fake.url}\n`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
}
