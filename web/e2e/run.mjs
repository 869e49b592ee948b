// End-to-end tests of the portal: `privacity demo` on a free port, Debian's
// Chromium driven by playwright-core (no browser is downloaded), one
// screenshot per page. Usage: node e2e/run.mjs [--bin PATH] [--out DIR]
// Environment: PRIVACITY_BIN, E2E_OUT, CHROMIUM (default /usr/bin/chromium).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const bin = resolve(arg("--bin") ?? process.env.PRIVACITY_BIN ?? join(repo, "build", "src", "cli", "privacity"));
const out = resolve(arg("--out") ?? process.env.E2E_OUT ?? join(repo, "build", "e2e"));
const webDir = join(repo, "web", "dist");
const config = join(repo, "examples", "demo-city", "city.yaml");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const METER = "MAC000002";

for (const [what, p] of [["privacity binary", bin], ["built portal", join(webDir, "index.html")], ["Chromium", browserPath]]) {
  if (!existsSync(p)) {
    console.error(`e2e: no ${what} at ${p}`);
    process.exit(1);
  }
}
mkdirSync(out, { recursive: true });

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitHealthy(base, child, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`privacity demo exited with ${child.exitCode}`);
    try {
      // Healthy, and the first checkpoint is signed (the log pages need it).
      if ((await fetch(`${base}/healthz`)).ok && (await fetch(`${base}/log/checkpoint`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("privacity demo did not become healthy");
}

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, "ok", Date.now() - t0]);
    console.log(`ok    ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push([name, "FAIL", Date.now() - t0]);
    console.log(`FAIL  ${name}: ${e.stack ?? e}`);
  }
}
function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

const data = mkdtempSync(join(tmpdir(), "privacity-e2e-"));
let server;
let context;
try {
  execFileSync(bin, ["demo", "--no-serve", "--config", config, "--data-dir", join(data, "d")], { stdio: "ignore" });
  const code = execFileSync(bin, ["subject", "claim-code", "--config", config, "--data-dir", join(data, "d"), "--stream", "energy.meter_readings", "--id", METER])
    .toString()
    .trim()
    .split(/\s+/)
    .pop();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["demo", "--config", config, "--data-dir", join(data, "d"), "--listen", `127.0.0.1:${port}`, "--web-dir", webDir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let serverLog = "";
  server.stderr.on("data", (d) => (serverLog = (serverLog + d).slice(-20000)));
  await waitHealthy(base, server, 30000);

  context = await chromium.launchPersistentContext(join(data, "profile"), {
    executablePath: browserPath,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1200, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // Nothing may leave for another origin (no tile servers, no CDNs).
  const foreign = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith("blob:") || url.startsWith("data:")) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
  const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });

  await test("the map shows the demo sensors", async () => {
    await page.goto(`${base}/#/`);
    await page.locator("#sensor-table tbody tr").first().waitFor();
    const rows = await page.locator("#sensor-table tbody tr").count();
    const register = await (await fetch(`${base}/public/register`)).json();
    expect(rows === register.sensors.length, `table has ${rows} rows, register ${register.sensors.length}`);
    const located = register.sensors.filter((s) => s.latitude !== null).length;
    expect((await page.locator("path.sensor-marker").count()) === located, "one marker per located sensor");
    expect((await page.locator("path.city-outline").count()) >= 1, "an outline is drawn without tiles");
    expect((await page.locator("path.sensor-cell").count()) >= 1, "cells are drawn");
    expect(await page.getByText("Household smart meters (fleet)").isVisible(), "the meter fleet is listed");
    await shot("map");
  });

  await test("a stream page shows its protections", async () => {
    await page.goto(`${base}/#/streams/mobility.trips`);
    const prot = page.locator("#protections");
    await prot.waitFor();
    const text = await prot.innerText();
    expect(/pseudonym that changes every 1 day/.test(text), "pseudonyms are explained");
    expect(/encrypted/.test(text), "encryption is explained");
    await page.locator('[data-risk="unique-traces"][data-agreement="transport-trips-records"]').waitFor();
    await shot("stream");
  });

  await test("agreements, releases and access pages render", async () => {
    await page.goto(`${base}/#/agreements`);
    await page.locator("#agreements-table").waitFor();
    await shot("agreements");
    await page.goto(`${base}/#/releases`);
    await page.locator("main h1").waitFor();
    await page.waitForFunction(() => !document.querySelector("main")?.hasAttribute("aria-busy"));
    await shot("releases");
    await page.goto(`${base}/#/access`);
    await page.locator("#access-table").waitFor();
    await shot("access");
  });

  const meAvailable = (await fetch(`${base}/v1/me/session`, { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } })).status !== 404;
  if (!meAvailable) {
    console.log("skip  citizen area: this build has no /v1/me routes");
  } else {
    await test("a citizen verifies, sees readings, withdraws consent, exports and erases", async () => {
      await page.goto(`${base}/#/me`);
      await page.selectOption("#me-stream", "energy.meter_readings");
      await page.fill("#me-id", METER);
      await page.fill("#me-code", code);
      await page.click("#me-signin button[type=submit]");
      await page.locator("#me-summary").waitFor();
      const table = page.locator('table.me-records[data-stream="energy.meter_readings"] tbody tr');
      expect((await table.count()) > 0, "the meter's readings are shown");
      await page.getByRole("button", { name: "Give consent for research" }).click();
      await page.waitForFunction(() => document.querySelector('[data-consent-state="research"]')?.textContent === "granted");
      await page.getByRole("button", { name: "Withdraw consent for research" }).click();
      await page.waitForFunction(() => document.querySelector('[data-consent-state="research"]')?.textContent === "withdrawn");
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-json-button")]);
      const exported = JSON.parse(readFileSync(await download.path(), "utf8"));
      expect(exported.streams.some((s) => s.stream === "energy.meter_readings" && s.records.length > 0), "the export holds the readings");
      await shot("citizen");
      await page.check("#erase-confirm");
      await page.click("#erase-button");
      await page.locator("#erase-receipt").waitFor();
      expect(/Erased: [1-9]\d* record/.test(await page.locator("#erase-receipt").innerText()), "records were erased");
      await shot("citizen-erased");
    });
  }

  await test("the verify page checks a proof", async () => {
    await page.goto(`${base}/#/verify`);
    await page.locator("#leaf-index").waitFor();
    await page.click("main form button[type=submit]");
    await page.locator('[data-verified="true"]').waitFor();
    await shot("verify");
  });

  await test("no request left the origin", async () => {
    expect(foreign.length === 0, `foreign requests: ${foreign.join(", ")}`);
  });
  if (results.some(([, r]) => r !== "ok")) console.log(`server log (tail):\n${serverLog.slice(-3000)}`);
} catch (e) {
  console.log(`FAIL  setup: ${e.stack ?? e}`);
  results.push(["setup", "FAIL", 0]);
} finally {
  await context?.close().catch(() => undefined);
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => {
      const t = setTimeout(() => {
        server.kill("SIGKILL");
        r();
      }, 10000);
      server.on("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  }
  rmSync(data, { recursive: true, force: true });
}
const failed = results.filter(([, r]) => r !== "ok").length;
console.log(`e2e: ${results.length - failed} passed, ${failed} failed; screenshots in ${out}`);
process.exit(failed ? 1 : 0);
