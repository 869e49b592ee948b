// End-to-end tests of the portal: `privacity demo` on a free port, Debian's
// Chromium driven by playwright-core (no browser is downloaded), one
// screenshot per page on a desktop and on a phone. Besides the pages' own
// behaviour, every page is checked for names and labels, contrast, keyboard
// use and phone layout (the in-page checks are in e2e/a11y.mjs).
// Usage: node e2e/run.mjs [--bin PATH] [--out DIR]
// Environment: PRIVACITY_BIN, E2E_OUT, CHROMIUM (default /usr/bin/chromium).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { installAudit } from "./a11y.mjs";

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
const A11Y_METER = "MAC000003"; // a second meter: the citizen test erases the first

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
let phoneBrowser;
const chromeArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
try {
  execFileSync(bin, ["demo", "--no-serve", "--config", config, "--data-dir", join(data, "d")], { stdio: "ignore" });
  const claimCode = (id) =>
    execFileSync(bin, ["subject", "claim-code", "--config", config, "--data-dir", join(data, "d"), "--stream", "energy.meter_readings", "--id", id])
      .toString()
      .trim()
      .split(/\s+/)
      .pop();
  const code = claimCode(METER);
  const a11yCode = claimCode(A11Y_METER);
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
    args: chromeArgs,
  });
  // Nothing may leave for another origin (no tile servers, no CDNs).
  const foreign = [];
  const blockForeign = (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith("blob:") || url.startsWith("data:") || url === "about:blank") return route.continue();
    foreign.push(url);
    return route.abort();
  };
  await context.route("**/*", blockForeign);
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

  // Accessibility and phone use, on every page (e2e/a11y.mjs holds the
  // in-page checks). A fresh document per visit: the citizen's session lives
  // in memory, so each visit starts signed out.
  const notBusy = (p) => p.waitForFunction(() => document.querySelector("main h1") && !document.querySelector("main")?.hasAttribute("aria-busy"));
  const signIn = async (p) => {
    await p.locator("#me-signin").waitFor();
    await p.selectOption("#me-stream", "energy.meter_readings");
    await p.fill("#me-id", A11Y_METER);
    await p.fill("#me-code", a11yCode);
    await p.press("#me-code", "Enter");
    await p.locator("#me-summary").waitFor();
    await p.locator("#consents table").waitFor();
  };
  const PAGES = [
    { name: "map", hash: "#/", ready: (p) => p.locator("#sensor-table tbody tr").first().waitFor() },
    { name: "streams", hash: "#/streams", ready: (p) => p.locator("main .cards").waitFor() },
    { name: "stream", hash: "#/streams/mobility.trips", ready: (p) => p.locator("main [data-risk]").first().waitFor() },
    { name: "agreements", hash: "#/agreements", ready: (p) => p.locator("#agreements-table").waitFor() },
    { name: "releases", hash: "#/releases", ready: async () => undefined },
    { name: "access", hash: "#/access", ready: (p) => p.locator("#access-table").waitFor() },
    {
      name: "verify",
      hash: "#/verify",
      ready: async (p) => {
        await p.press("#leaf-index", "Enter");
        await p.locator("[data-verified]").waitFor();
      },
    },
    { name: "not-found", hash: "#/no-such-page", ready: (p) => p.locator('main [role="alert"]').waitFor() },
    ...(meAvailable
      ? [
          { name: "citizen", hash: "#/me", ready: (p) => p.locator("#me-signin").waitFor() },
          {
            // A malformed claim code: refused with a message, and not
            // counted against the sign-in attempt limits.
            name: "citizen-refused",
            hash: "#/me",
            ready: async (p) => {
              await p.locator("#me-signin").waitFor();
              await p.fill("#me-id", "MAC000004");
              await p.fill("#me-code", "12345");
              await p.press("#me-code", "Enter");
              await p.locator('#me-signin [role="alert"]').waitFor();
            },
          },
          { name: "citizen-signed-in", hash: "#/me", ready: signIn },
        ]
      : []),
  ];
  const visit = async (p, pg) => {
    await p.goto("about:blank");
    await p.goto(`${base}/${pg.hash}`);
    await notBusy(p);
    await pg.ready(p);
    await p.evaluate(installAudit);
  };
  // Runs `check(page, pg)` on every page; fails listing every problem found.
  const everyPage = async (p, check) => {
    const problems = [];
    for (const pg of PAGES) {
      await visit(p, pg);
      for (const x of await check(p, pg)) problems.push(`${pg.name}: ${x}`);
    }
    expect(problems.length === 0, `${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  };
  // Tabs from the top of the document to its end. Every stop must show a
  // focus indicator and be on screen; every tabbable element must be reached.
  const tabWalk = async (p) => {
    await p.evaluate(() => {
      window.__a11y.snapshotRings();
      const start = document.createElement("span");
      start.id = "a11y-start";
      start.tabIndex = -1;
      document.body.prepend(start);
      start.focus();
    });
    const expected = await p.evaluate(() => window.__a11y.tabbable());
    const seen = [];
    const problems = [];
    for (let i = 0; i < 2 * expected.length + 20; i++) {
      await p.keyboard.press("Tab");
      const f = await p.evaluate(() => window.__a11y.focused());
      if (!f || (seen.length > 0 && f.key === seen[0].key)) break;
      if (seen.length > 0 && f.key === seen[seen.length - 1].key) {
        problems.push(`${f.sel}: Tab does not move on from here`);
        break;
      }
      seen.push(f);
      for (const x of f.problems) problems.push(`${f.sel}: ${x}`);
    }
    await p.evaluate(() => document.getElementById("a11y-start")?.remove());
    const reached = new Set(seen.map((f) => f.key));
    for (const e of expected) if (!reached.has(e.key)) problems.push(`${e.sel}: not reached by Tab`);
    const firstNav = seen.findIndex((f) => f.nav);
    const firstMain = seen.findIndex((f) => f.inMain);
    if (firstNav < 0) problems.push("Tab never reaches the navigation");
    else if (firstMain >= 0 && firstMain < firstNav) problems.push("Tab reaches the content before the navigation");
    return { problems, stops: seen.length };
  };

  const a11yPage = await context.newPage();
  a11yPage.setDefaultTimeout(15000);

  await test("accessibility: every page has a title, a lang, one h1, ordered headings, a main landmark, and names for fields, buttons, links and images", async () => {
    await everyPage(a11yPage, (p) => p.evaluate(() => window.__a11y.names()));
  });

  await test("accessibility: all text on every page meets WCAG AA contrast (4.5:1, 3:1 large)", async () => {
    await everyPage(a11yPage, (p) => p.evaluate(() => window.__a11y.contrast()));
  });

  await test("keyboard: Tab reaches the navigation and every control of every page, each with a visible focus indicator", async () => {
    await everyPage(a11yPage, async (p) => (await tabWalk(p)).problems);
  });

  await test("keyboard: Enter on a navigation link changes page and focuses its heading; the skip link reaches the content", async () => {
    const p = a11yPage;
    await visit(p, PAGES[0]);
    let hops = 0;
    while (!(await p.evaluate(() => document.activeElement?.matches('nav a[href="#/agreements"]')))) {
      expect(++hops <= 12, "Tab did not reach the Agreements link in 12 presses");
      await p.keyboard.press("Tab");
    }
    await p.keyboard.press("Enter");
    await p.waitForFunction(() => location.hash === "#/agreements");
    await p.locator("#agreements-table").waitFor();
    expect(await p.evaluate(() => document.activeElement === document.querySelector("main h1")), "focus moved to the new page's heading");
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => !!document.activeElement?.closest("main")), "the next Tab stays in the page's content");
    // The skip link is the first Tab stop, and Enter on it lands in the
    // content without leaving the page.
    await visit(p, PAGES[3]);
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => document.activeElement?.matches("a.skip")), "the first Tab stop is the skip link");
    await p.keyboard.press("Enter");
    await p.waitForTimeout(200);
    expect(await p.evaluate(() => location.hash) === "#/agreements", `the skip link kept the page (now ${await p.evaluate(() => location.hash)})`);
    expect(await p.locator("#agreements-table").count() === 1, "the page is still shown after the skip link");
    expect(await p.evaluate(() => !!document.activeElement?.closest("main")), "the skip link moved focus into the content");
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => !!document.activeElement?.closest("main") && !document.activeElement.closest("nav")), "Tab after the skip link continues in the content");
  });

  if (meAvailable) {
    await test("keyboard: a citizen signs in and out with the keyboard alone", async () => {
      const p = a11yPage;
      await visit(p, PAGES.find((x) => x.name === "citizen"));
      const tabTo = async (selector, limit = 20) => {
        for (let i = 0; i < limit; i++) {
          await p.keyboard.press("Tab");
          if (await p.evaluate((s) => document.activeElement?.matches(s), selector)) return;
        }
        throw new Error(`Tab did not reach ${selector}`);
      };
      await tabTo("#me-stream");
      // Choose the meter stream with the arrow keys.
      const options = await p.evaluate(() => [...document.querySelectorAll("#me-stream option")].map((o) => o.value));
      const want = options.indexOf("energy.meter_readings");
      expect(want >= 0, "the meter stream is offered");
      for (let i = 0; i < options.length && (await p.inputValue("#me-stream")) !== "energy.meter_readings"; i++) {
        await p.keyboard.press(want > options.indexOf(await p.inputValue("#me-stream")) ? "ArrowDown" : "ArrowUp");
      }
      expect((await p.inputValue("#me-stream")) === "energy.meter_readings", "the arrow keys chose the meter stream");
      await p.keyboard.press("Tab");
      expect(await p.evaluate(() => document.activeElement?.id === "me-id"), "Tab goes from the stream to the identifier");
      await p.keyboard.type(A11Y_METER);
      await p.keyboard.press("Tab");
      expect(await p.evaluate(() => document.activeElement?.id === "me-code"), "Tab goes from the identifier to the claim code");
      await p.keyboard.type(a11yCode);
      await p.keyboard.press("Tab");
      expect(await p.evaluate(() => document.activeElement?.matches("#me-signin button[type=submit]")), "Tab goes from the claim code to the button");
      await p.keyboard.press("Enter");
      await p.locator("#me-summary").waitFor();
      expect(/holds [1-9]\d* record/.test(await p.locator("#me-summary").innerText()), "the records are shown");
      expect(await p.evaluate(() => document.activeElement === document.querySelector("main h1")), "focus moved to the heading after signing in");
      await tabTo("#sign-out-button", 80);
      await p.keyboard.press("Enter");
      await p.locator("#me-signin").waitFor();
      expect(await p.evaluate(() => document.activeElement === document.querySelector("main h1")), "focus moved to the heading after signing out");
    });
  }

  // The phone: a second browser with a 390x844 touch viewport.
  phoneBrowser = await chromium.launch({ executablePath: browserPath, headless: true, args: chromeArgs });
  const phoneContext = await phoneBrowser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phoneContext.route("**/*", blockForeign);
  const phone = await phoneContext.newPage();
  phone.setDefaultTimeout(15000);

  await test("phone: every page fits 390 px, keeps its navigation on screen, text >= 12 px, tap targets >= 24 px and AA contrast", async () => {
    await everyPage(phone, async (p, pg) => {
      const problems = await p.evaluate(() => [...window.__a11y.phone(), ...window.__a11y.contrast()]);
      await p.screenshot({ path: join(out, `phone-${pg.name}.png`), fullPage: true });
      return problems;
    });
  });

  // WCAG 1.4.10 (reflow): content fits 320 CSS px without scrolling sideways.
  await test("phone: at 320 px wide no page scrolls sideways", async () => {
    await phone.setViewportSize({ width: 320, height: 640 });
    try {
      await everyPage(phone, (p) => p.evaluate(() => window.__a11y.phone().filter((x) => x.startsWith("page is"))));
    } finally {
      await phone.setViewportSize({ width: 390, height: 844 });
    }
  });

  await test("phone: a tap on the navigation changes page", async () => {
    await visit(phone, PAGES[0]);
    await phone.tap('nav a[href="#/agreements"]');
    await phone.locator("#agreements-table").waitFor();
    await phone.tap('nav a[href="#/me"]');
    await phone.locator("main h1").waitFor();
    expect(await phone.evaluate(() => location.hash) === "#/me", "the citizen area is reached by tapping");
  });

  // The checks above must be able to fail: break a live page in known ways
  // and expect each check to name what was broken.
  await test("the accessibility checks catch a broken page", async () => {
    const found = (problems, re, what) => expect(problems.some((x) => re.test(x)), `${what} was not caught; got:\n  ${problems.join("\n  ")}`);
    const verify = PAGES.find((x) => x.name === "verify");
    await visit(a11yPage, verify);
    await a11yPage.evaluate(() => {
      document.querySelector('label[for="leaf-index"]').removeAttribute("for");
      const b = document.createElement("button");
      b.append(document.createElementNS("http://www.w3.org/2000/svg", "svg"));
      b.id = "icon-only";
      document.querySelector("main form").append(b);
      document.querySelector("main").append(document.createElement("h1"));
      document.querySelector("main").lastChild.textContent = "second";
      document.getElementById("checkpoint").style.color = "#aaa";
      const h3 = document.createElement("h3");
      h3.textContent = "skipped a level";
      document.querySelector("main h1").after(h3);
      document.title = "";
    });
    const names = await a11yPage.evaluate(() => window.__a11y.names());
    found(names, /#leaf-index: form field without a label/, "a field without a label");
    found(names, /#icon-only: button without an accessible name/, "an icon-only button");
    found(names, /2 <h1> elements/, "a second h1");
    found(names, /"skipped a level": h3 follows h1/, "a heading that skips a level");
    found(names, /no <title>/, "an empty title");
    found(await a11yPage.evaluate(() => window.__a11y.contrast()), /#checkpoint .*: 2\.\d+:1 < 4\.5:1/, "grey text on white");
    await visit(a11yPage, verify);
    await a11yPage.evaluate(() => {
      const s = document.createElement("style");
      s.textContent = "#leaf-index:focus-visible { outline: none !important; } main form button:focus-visible { outline-color: #eee !important; }";
      document.head.append(s);
      document.querySelector("footer a").addEventListener("focus", () => document.querySelector(".skip").focus());
      document.querySelector("#leaf-index").addEventListener("keydown", (e) => e.key === "Tab" && e.target.dataset.trap === "on" && e.preventDefault());
    });
    const walk = (await tabWalk(a11yPage)).problems;
    found(walk, /#leaf-index: no visible focus indicator/, "a field without a focus indicator");
    found(walk, /button.*: focus indicator contrast 1\.\d+:1/, "a pale focus ring");
    found(walk, /footer .*: not reached by Tab/, "a trap that skips an element");
    await a11yPage.evaluate(() => (document.querySelector("#leaf-index").dataset.trap = "on"));
    const trapped = (await tabWalk(a11yPage)).problems;
    found(trapped, /#leaf-index: Tab does not move on from here/, "a keyboard trap");
    found(trapped, /main form button.*not reached by Tab|form\.card > button: not reached by Tab/, "the control behind a keyboard trap");
    await visit(phone, verify);
    await phone.evaluate(() => {
      const wide = document.createElement("div");
      wide.id = "too-wide";
      wide.style.width = "600px";
      wide.textContent = "wide";
      document.querySelector("main").append(wide);
      document.querySelector("main p").style.fontSize = "10px";
      document.querySelector("main form button").style.cssText = "min-height: 0; height: 20px; padding: 0 4px";
      document.querySelector("nav li:last-child").style.cssText = "position: absolute; left: 500px";
    });
    const ph = await phone.evaluate(() => window.__a11y.phone());
    found(ph, /page is \d+px wide in a 390px viewport: .*#too-wide/, "horizontal overflow");
    found(ph, /text 10px < 12px/, "10 px text");
    found(ph, /button.*: tap target \d+x20 < 24x24/, "a 20 px button");
    found(ph, /navigation link .* is not on screen/, "a navigation link off screen");
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
  await phoneBrowser?.close().catch(() => undefined);
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
