import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../helpers/harness.js";

// Debian's chromium (`apt-get install chromium`; .ci/run installs it when missing). No browser is
// ever downloaded: playwright-core drives the one the machine has.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOTS = "test-results";

/** Opens an operation of /docs and presses "Try it out". */
async function tryOut(page: Page, operationId: string) {
  const operation = page.locator(`#operations-repositories-${operationId}`);
  await operation.locator(".opblock-summary").first().click();
  await operation.getByRole("button", { name: "Try it out" }).click();
  return operation;
}

describe("Swagger UI in a real browser", () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  // Without Chromium every test fails with this, rather than a failed hook skipping them.
  const missing = existsSync(CHROMIUM)
    ? undefined
    : `No Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH. This test does not skip.`;
  const needBrowser = () => {
    if (missing) throw new Error(missing);
  };
  beforeAll(async () => {
    if (missing) return;
    h = await startHarness();
    h.fake.addUser({ login: "octocat", id: 583231 });
    h.fake.addRepo("octocat", { name: "Hello-World", id: 1296269 });
    h.fake.addRepo("octocat", { name: "Spoon-Knife", id: 1300192 });
    // Root in CI has no user namespace for Chromium's sandbox; the page is our own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it("lists a user's repositories with only username filled in", async () => {
    needBrowser();
    await page.goto(`${h.url}/docs`);
    const operation = await tryOut(page, "listRepositories");
    // The booleans are offered false first and come prefilled false, not true.
    for (const name of ["from_local", "save_data"]) {
      const select = operation.locator(`tr[data-param-name="${name}"] select`);
      expect(await select.inputValue(), name).toBe("false");
      expect(await select.locator("option").allTextContents(), name).toEqual([
        "--",
        "false",
        "true",
      ]);
    }
    await operation.locator('tr[data-param-name="username"] input').fill("octocat");
    const sent = page.waitForRequest((request) => request.url().includes("/repositories?"));
    await operation.getByRole("button", { name: "Execute" }).click();
    const query = new URL((await sent).url()).searchParams;
    expect(query.get("username")).toBe("octocat");
    expect(query.get("from_local")).not.toBe("true");
    expect(query.get("save_data")).not.toBe("true");

    const status = operation
      .locator(".live-responses-table tr.response .response-col_status")
      .first();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("200");
    const body = await operation.locator(".live-responses-table .microlight").first().textContent();
    expect(JSON.parse(body ?? "")).toMatchObject({
      user_id: 583231,
      username: "octocat",
      source: "github",
      saved: false,
      repositories: [
        { id: 1296269, name: "Hello-World" },
        { id: 1300192, name: "Spoon-Knife" },
      ],
    });
    await operation.screenshot({ path: `${SCREENSHOTS}/swagger-ui-listing.png` });
  });

  it("shows one repository's details with save_data=false, saving nothing", async () => {
    needBrowser();
    await page.goto(`${h.url}/docs`);
    const operation = await tryOut(page, "getRepository");
    const saveData = operation.locator('tr[data-param-name="save_data"] select');
    // Required, so no empty choice; false comes first and is what is sent.
    expect(await saveData.locator("option").allTextContents()).toEqual(["false", "true"]);
    await saveData.selectOption("false");
    await operation.locator('tr[data-param-name="owner"] input').fill("octocat");
    await operation.locator('tr[data-param-name="name"] input').fill("Hello-World");
    const sent = page.waitForRequest((request) =>
      request.url().includes("/repositories/octocat/Hello-World"),
    );
    await operation.getByRole("button", { name: "Execute" }).click();
    expect(new URL((await sent).url()).searchParams.get("save_data")).toBe("false");

    const status = operation
      .locator(".live-responses-table tr.response .response-col_status")
      .first();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toBe("200");
    const body = await operation.locator(".live-responses-table .microlight").first().textContent();
    expect(JSON.parse(body ?? "")).toMatchObject({
      id: 1296269,
      full_name: "octocat/Hello-World",
      owner: { id: 583231, username: "octocat" },
      saved: false,
    });
    await page.screenshot({ path: `${SCREENSHOTS}/swagger-ui.png`, fullPage: true });
    // Nothing was written: the local copy still has no octocat.
    expect((await h.get("/repositories/?username=octocat&from_local=true")).status).toBe(404);
  });
});
