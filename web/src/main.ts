// The portal: a hash router over framework-free pages.
import "leaflet/dist/leaflet.css";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { streams } from "./api";
import { focusHeading, h, message } from "./dom";
import { mapPage } from "./pages/map";
import { streamPage, streamsPage } from "./pages/streams";
import { agreementsPage } from "./pages/agreements";
import { releasesPage } from "./pages/releases";
import { accessPage } from "./pages/access";
import { verifyPage } from "./pages/verify";
import { citizenPage } from "./pages/citizen";

type Page = (main: HTMLElement, arg: string) => Promise<void>;

const ROUTES: [RegExp, Page, string][] = [
  [/^\/?$/, mapPage, "Sensor map"],
  [/^\/streams\/?$/, streamsPage, "Streams"],
  [/^\/streams\/(.+)$/, streamPage, "Stream"],
  [/^\/agreements\/?$/, agreementsPage, "Agreements"],
  [/^\/releases\/?$/, releasesPage, "Open statistics"],
  [/^\/access\/?$/, accessPage, "Who accessed what"],
  [/^\/verify\/?$/, verifyPage, "Verify the log"],
  [/^\/me\/?$/, citizenPage, "My data"],
];

let generation = 0;

async function route(): Promise<void> {
  const main = document.getElementById("main")!;
  const path = decodeURIComponent(location.hash.replace(/^#/, "").split("?")[0] || "/");
  const mine = ++generation;
  main.replaceChildren();
  main.setAttribute("aria-busy", "true");
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    const target = a.getAttribute("href")!.slice(1);
    const current = target === "/" ? path === "/" : path.startsWith(target);
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const match = ROUTES.map(([re, page, title]) => [re.exec(path), page, title] as const).find(([m]) => m);
  try {
    if (!match) {
      document.title = "Page not found: privacity";
      main.append(h("h1", {}, "Page not found"), message("No page here. Choose a page from the menu above.", "error"));
      return;
    }
    const [m, page, title] = match;
    document.title = `${title}: privacity`;
    await page(main, m![1] ?? "");
  } catch (e) {
    if (mine === generation) {
      if (!main.querySelector("h1")) main.append(h("h1", {}, "Could not load this page"));
      main.append(message(`Could not load this page: ${(e as Error).message}`, "error"));
    }
  } finally {
    if (mine === generation) {
      main.removeAttribute("aria-busy");
      if (document.activeElement !== document.body) focusHeading(main);
    }
  }
}

window.addEventListener("hashchange", () => void route());
// The skip link's "#main" would be taken for a route: move focus instead.
document.querySelector("a.skip")?.addEventListener("click", (e) => {
  e.preventDefault();
  focusHeading(document.getElementById("main")!);
});
void route();
streams()
  .then((d) => {
    document.getElementById("city-name")!.textContent = d.city;
  })
  .catch(() => undefined);
