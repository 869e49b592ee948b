// A tiny DOM builder. Text is always set as text, never parsed as HTML, so
// strings from the API (config text, citizens' comments) cannot inject markup.
export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

// A table with a caption and column headers (scope=col), inside a scrolling
// wrapper so it fits a phone.
export function table(caption: string, headers: string[], rows: Child[][], attrs: Attrs = {}): HTMLElement {
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h(
      "table",
      attrs,
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))),
      ),
    ),
  );
}

// A polite live region message (errors use role=alert).
export function message(text: string, kind: "info" | "error" = "info"): HTMLElement {
  return h("p", kind === "error" ? { class: "error", role: "alert" } : { class: "note", role: "status" }, text);
}

// Moves focus to the page's heading (or `main`), so keyboard and screen
// reader users land on new content after the page changes under them.
export function focusHeading(main: HTMLElement): void {
  const target = main.querySelector<HTMLElement>("h1") ?? main;
  target.setAttribute("tabindex", "-1");
  target.focus();
}

export function link(href: string, text: string): HTMLAnchorElement {
  return h("a", { href }, text);
}
