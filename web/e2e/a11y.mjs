// In-page accessibility checks for the end-to-end tests, written for this
// project (no external checker is available offline). `installAudit` is
// serialised by Playwright and run inside the page: it must not reference
// anything outside its own body. It defines window.__a11y with:
//   names()          landmarks, h1, heading order, lang, title, accessible names
//                    of fields and controls
//   contrast()       WCAG 2.x contrast of every visible text against its background
//   snapshotRings()  the unfocused outline/box-shadow of every focusable element
//   focused()        the focused element, its focus ring and the ring's contrast
//   tabbable()       every element Tab should reach, in document order
//   phone()          horizontal overflow, the navigation, text size, tap targets
// Each check returns a list of problems (strings naming a selector).
export function installAudit() {
  if (window.__a11y) return;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  // Any CSS colour (rgb(), color(srgb ...), oklch(), names) as sRGB [r, g, b, a].
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgba(0, 0, 0, 0)";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  // Relative luminance and contrast ratio as defined by WCAG 2.x.
  const luminance = ([r, g, b]) => {
    const f = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const fmt = ([r, g, b]) => `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;

  // A short, readable CSS path for reports.
  const sel = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 5; e = e.parentElement) {
      let s = e.localName;
      if (e.id) {
        parts.unshift(`${s}#${CSS.escape(e.id)}`);
        break;
      }
      s += [...e.classList].slice(0, 2).map((c) => `.${CSS.escape(c)}`).join("");
      const p = e.parentElement;
      if (p) {
        const same = [...p.children].filter((c) => c.localName === e.localName);
        if (same.length > 1) s += `:nth-of-type(${same.indexOf(e) + 1})`;
      }
      parts.unshift(s);
    }
    return parts.join(" > ");
  };
  const rendered = (el) => el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  const boxed = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const shown = (el) => rendered(el) && boxed(el);

  // Text of a subtree as an accessible name: text nodes, img alt, svg <title>;
  // aria-hidden and unrendered parts contribute nothing.
  const subtreeText = (node) => {
    let out = "";
    for (const c of node.childNodes) {
      if (c.nodeType === Node.TEXT_NODE) out += c.data;
      else if (c.nodeType === Node.ELEMENT_NODE) {
        if (c.getAttribute("aria-hidden") === "true" || !rendered(c)) continue;
        if (c.localName === "img") out += ` ${c.getAttribute("alt") ?? ""} `;
        else if (c.localName === "svg") out += ` ${c.querySelector(":scope > title")?.textContent ?? ""} `;
        else if (c.getAttribute("aria-label")) out += ` ${c.getAttribute("aria-label")} `;
        else out += ` ${subtreeText(c)} `;
      }
    }
    return out.replace(/\s+/g, " ").trim();
  };
  const byIds = (ids) =>
    ids
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id));
  const FIELD = 'input:not([type="hidden"]), select, textarea';
  // The accessible name, simplified from accname-1.2: aria-labelledby,
  // aria-label, then <label> for fields, then contents for controls, then title.
  const name = (el) => {
    const lb = el.getAttribute("aria-labelledby");
    if (lb) {
      const t = byIds(lb)
        .filter(Boolean)
        .map((e) => subtreeText(e))
        .join(" ")
        .trim();
      if (t) return t;
    }
    const al = (el.getAttribute("aria-label") ?? "").trim();
    if (al) return al;
    if (el.matches(FIELD)) {
      const t = [...(el.labels ?? [])].map((l) => subtreeText(l)).join(" ").trim();
      if (t) return t;
      if (el.matches('input[type="submit"], input[type="button"], input[type="reset"]')) return (el.value ?? "").trim();
      return "";
    }
    const t = subtreeText(el);
    if (t) return t;
    return (el.getAttribute("title") ?? "").trim();
  };

  // The colour painted behind `el`: ancestors' backgrounds composited up to
  // the first opaque one (white below the page). `null` when an image lies
  // behind, where no single colour can be measured.
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.backgroundImage !== "none") return null;
      const c = rgba(cs.backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let bg = [255, 255, 255, 1];
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  // Opacity of `el` and its ancestors, applied to its text colour.
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  // Elements that paint text: those with a non-blank text node child, and
  // text fields (their value).
  const textElements = () =>
    [...document.body.querySelectorAll("*")].filter((el) => {
      if (["script", "style", "noscript", "template", "option", "title"].includes(el.localName)) return false;
      if (!shown(el)) return false;
      if (el.matches('select, textarea, input:not([type="hidden"], [type="checkbox"], [type="radio"], [type="range"], [type="color"], [type="file"], [type="image"])')) return true;
      return [...el.childNodes].some((c) => c.nodeType === Node.TEXT_NODE && c.data.trim() !== "");
    });
  const textSample = (el) => (el.matches(FIELD) ? `[${el.localName}]` : [...el.childNodes].filter((c) => c.nodeType === Node.TEXT_NODE).map((c) => c.data).join("").trim().slice(0, 40));

  const FOCUSABLE = 'a[href], area[href], button, input:not([type="hidden"]), select, textarea, summary, iframe, [tabindex], [contenteditable="true"]';
  const ring = (el) => {
    const cs = getComputedStyle(el);
    return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) || 0, color: cs.outlineColor, offset: parseFloat(cs.outlineOffset) || 0, shadow: cs.boxShadow };
  };
  const unfocused = new WeakMap();

  window.__a11y = {
    names() {
      const problems = [];
      if (!(document.documentElement.getAttribute("lang") ?? "").trim()) problems.push("<html> has no lang");
      if (!document.title.trim()) problems.push("the page has no <title>");
      const h1s = [...document.querySelectorAll("h1")].filter(rendered);
      if (h1s.length !== 1) problems.push(`${h1s.length} <h1> elements (want exactly 1)`);
      const mains = [...document.querySelectorAll('main, [role="main"]')].filter(rendered);
      if (mains.length !== 1) problems.push(`${mains.length} main landmarks (want exactly 1)`);
      // Headings go down one level at a time (h1, h2, h3), never h1 to h3.
      let level = 0;
      for (const hd of [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].filter(rendered)) {
        const l = Number(hd.localName[1]);
        if (l > level + 1) problems.push(`${sel(hd)} "${subtreeText(hd).slice(0, 40)}": h${l} follows h${level || "(none)"}`);
        level = l;
      }
      const ids = new Map();
      for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
      for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" is used ${n} times`);
      for (const el of document.querySelectorAll("[aria-labelledby], [aria-describedby], label[for]")) {
        for (const attr of ["aria-labelledby", "aria-describedby", "for"]) {
          const v = el.getAttribute(attr);
          if (v && byIds(v).some((e) => !e)) problems.push(`${sel(el)}: ${attr}="${v}" names a missing element`);
        }
      }
      for (const el of document.querySelectorAll(FIELD)) {
        if (!rendered(el)) continue;
        // Fields take their name from a label or ARIA only, not a placeholder or title.
        const lb = el.getAttribute("aria-labelledby");
        const fromIds = lb ? byIds(lb).filter(Boolean).map(subtreeText).join(" ").trim() : "";
        const fromLabels = [...(el.labels ?? [])].map(subtreeText).join(" ").trim();
        const aria = (el.getAttribute("aria-label") ?? "").trim();
        if (!fromIds && !fromLabels && !aria) problems.push(`${sel(el)}: form field without a label`);
      }
      const controls = 'a[href], button, [role="button"], [role="link"], [role="tab"], [role="menuitem"], summary, input[type="submit"], input[type="button"], input[type="reset"]';
      for (const el of document.querySelectorAll(controls)) {
        if (!rendered(el)) continue;
        if (!name(el)) problems.push(`${sel(el)}: ${el.localName === "a" ? "link" : "button"} without an accessible name`);
      }
      for (const el of document.querySelectorAll("img")) {
        if (rendered(el) && !el.hasAttribute("alt")) problems.push(`${sel(el)}: image without alt`);
      }
      for (const el of document.querySelectorAll('[role="img"], svg[role="img"], [role="region"], [role="dialog"], figure[aria-label]')) {
        if (rendered(el) && !name(el)) problems.push(`${sel(el)}: role=${el.getAttribute("role")} without a name`);
      }
      // Something reachable by Tab that is not a native control must say what it is.
      for (const el of document.querySelectorAll("[tabindex]")) {
        if (!rendered(el) || el.tabIndex < 0 || el.matches(controls) || el.matches(FIELD)) continue;
        if (!el.getAttribute("role") || !name(el)) problems.push(`${sel(el)}: focusable without a role and a name`);
      }
      return problems;
    },

    contrast() {
      const problems = [];
      let checked = 0;
      for (const el of textElements()) {
        if (el.closest(":disabled, [aria-disabled='true']")) continue; // exempt by WCAG
        const cs = getComputedStyle(el);
        const bg = background(el);
        if (!bg) continue;
        const c = rgba(cs.color);
        c[3] *= opacity(el);
        const fg = over(c, bg);
        const size = parseFloat(cs.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
        const need = large ? 3 : 4.5;
        const r = ratio(fg, bg);
        checked++;
        if (r < need) problems.push(`${sel(el)} "${textSample(el)}": ${r.toFixed(2)}:1 < ${need}:1 (${fmt(fg)} on ${fmt(bg)}, ${size}px)`);
      }
      if (checked === 0) problems.push("no text was checked");
      return problems;
    },

    snapshotRings() {
      for (const el of document.querySelectorAll(FOCUSABLE)) if (el !== document.activeElement) unfocused.set(el, ring(el));
    },

    // Every element Tab should stop at, in document order (no positive
    // tabindex is used in the portal, so document order is Tab order).
    tabbable() {
      return [...document.querySelectorAll(FOCUSABLE)]
        .filter((el) => el.tabIndex >= 0 && !el.disabled && shown(el) && !el.closest("[inert]"))
        .map((el) => {
          el.dataset.a11yTab ??= String(Math.random()).slice(2);
          return { key: el.dataset.a11yTab, sel: sel(el), nav: !!el.closest("nav") };
        });
    },

    // The focused element: does it show a focus indicator (an outline or a
    // box-shadow that it does not have unfocused), with 3:1 contrast against
    // what is around it (WCAG 1.4.11), and is it on screen?
    focused() {
      const el = document.activeElement;
      if (!el || el === document.body || el === document.documentElement) return null;
      el.dataset.a11yTab ??= String(Math.random()).slice(2);
      const now = ring(el);
      const before = unfocused.get(el) ?? { style: "none", width: 0, color: "", offset: 0, shadow: "none" };
      const problems = [];
      const outline = now.style !== "none" && now.width >= 1 && rgba(now.color)[3] > 0 && (before.style === "none" || before.width !== now.width || before.color !== now.color);
      const shadow = now.shadow !== "none" && now.shadow !== before.shadow;
      if (!outline && !shadow) problems.push("no visible focus indicator");
      else {
        // An outline outside the box sits on the parent's background; one
        // drawn inside sits on the element's own.
        const behind = background(now.offset < 0 ? el : el.parentElement ?? el);
        const color = outline ? now.color : (now.shadow.match(/(rgba?|color|oklch|oklab|lab|lch|hsla?)\([^)]*\)/) ?? [""])[0];
        if (behind && color) {
          const r = ratio(over(rgba(color), behind), behind);
          if (r < 3) problems.push(`focus indicator contrast ${r.toFixed(2)}:1 < 3:1 (${color} on ${fmt(behind)})`);
        }
      }
      // A stop that is not a native control must say what it is.
      const native = el.matches('a[href], area[href], button, input, select, textarea, summary, iframe');
      if (!native && !(el.getAttribute("role") && name(el))) problems.push("focusable without a role and a name");
      const r = el.getBoundingClientRect();
      if (!(r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight)) problems.push("focused element is off screen");
      return { key: el.dataset.a11yTab, sel: sel(el), nav: !!el.closest("nav"), inMain: !!el.closest("main"), problems };
    },

    phone() {
      const problems = [];
      // The layout viewport: a phone browser zooms out (growing innerWidth)
      // to fit a page that is too wide.
      const vw = document.documentElement.clientWidth;
      const sw = document.documentElement.scrollWidth;
      if (sw > vw) {
        // Name what sticks out: the outermost elements past the edge that no
        // scrolling container clips.
        const clipped = (el) => {
          for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
            if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(e).overflowX)) return true;
          }
          return false;
        };
        // An element's box past the edge, or its text (a long unbroken word
        // overflows its box).
        const past = (el) => {
          if (el.getBoundingClientRect().right > vw + 0.5) return true;
          const range = document.createRange();
          range.selectNodeContents(el);
          return [...el.childNodes].some((c) => c.nodeType === Node.TEXT_NODE) && range.getBoundingClientRect().right > vw + 0.5;
        };
        const wide = [...document.body.querySelectorAll("*")].filter((el) => shown(el) && !clipped(el) && past(el));
        const outer = wide.filter((el) => !wide.includes(el.parentElement)).slice(0, 5).map(sel);
        problems.push(`page is ${sw}px wide in a ${vw}px viewport: ${outer.join("; ")}`);
      }
      window.scrollTo(0, 0);
      const links = [...document.querySelectorAll("nav a[href]")];
      if (links.length === 0) problems.push("no navigation links");
      for (const a of links) {
        const r = a.getBoundingClientRect();
        if (!shown(a) || r.left < 0 || r.right > vw || r.top < 0 || r.bottom > innerHeight) {
          problems.push(`navigation link ${sel(a)} is not on screen`);
          continue;
        }
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!hit || !(hit === a || a.contains(hit))) problems.push(`navigation link ${sel(a)} is covered by ${hit ? sel(hit) : "nothing"}`);
      }
      for (const el of textElements()) {
        const size = parseFloat(getComputedStyle(el).fontSize);
        if (size < 12) problems.push(`${sel(el)} "${textSample(el)}": text ${size}px < 12px`);
      }
      const targets = 'nav a[href], button, [role="button"], input:not([type="hidden"]), select, textarea, .leaflet-control a';
      for (const el of document.querySelectorAll(targets)) {
        if (!shown(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.width < 24 || r.height < 24) problems.push(`${sel(el)}: tap target ${r.width.toFixed(0)}x${r.height.toFixed(0)} < 24x24`);
      }
      return problems;
    },
  };
}
