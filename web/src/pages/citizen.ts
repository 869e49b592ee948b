// The citizen area: sign in with an identifier and a claim code, then see
// your records, export them, change consents, and erase.
import { ApiError, getJson, sendJson, streams } from "../api";
import { focusHeading, h, message, table } from "../dom";

interface Session {
  token: string;
  expires: string;
}
interface RecordsDoc {
  streams: { stream: string; records: { record_id: number; time: string; fields: Record<string, unknown> }[] }[];
}
interface Consent {
  purpose: string;
  description: string | null;
  legal_basis: string;
  mandatory: boolean;
  state: string | null;
}

let session: Session | null = null; // in memory only

const auth = () => ({ Authorization: `Bearer ${session!.token}` });

export async function citizenPage(main: HTMLElement): Promise<void> {
  main.append(h("h1", {}, "My data"));
  if (session) return signedIn(main);
  const doc = await streams();
  const personal = doc.streams.filter((s) => s.personal);
  const stream = h("select", { id: "me-stream", name: "stream" }, personal.map((s) => h("option", { value: s.id }, s.description)));
  const id = h("input", { id: "me-id", name: "id", autocomplete: "off", required: true, spellcheck: "false" });
  const code = h("input", { id: "me-code", name: "code", autocomplete: "one-time-code", required: true, spellcheck: "false" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", id: "me-signin" },
    h("p", {}, "Enter the identifier of your meter, card or vehicle and the claim code the data office gave you. Nothing is stored in your browser."),
    h("label", { for: "me-stream" }, "Data about"),
    stream,
    h("label", { for: "me-id" }, "Your identifier"),
    id,
    h("label", { for: "me-code" }, "Claim code"),
    code,
    h("button", { type: "submit" }, "Show my data"),
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.replaceChildren();
    try {
      session = await sendJson<Session>("POST", "/v1/me/session", { stream: stream.value, id: id.value.trim(), code: code.value.trim() });
      id.value = "";
      code.value = "";
      main.replaceChildren(h("h1", {}, "My data"));
      await signedIn(main);
      focusHeading(main);
    } catch (err) {
      status.append(message(err instanceof ApiError ? err.message : "Could not sign in.", "error"));
    }
  });
  main.append(form);
}

async function download(format: "json" | "csv", status: HTMLElement): Promise<void> {
  const res = await fetch(`/v1/me/export?format=${format}`, { headers: auth() });
  if (!res.ok) throw new Error(`export failed (${res.status})`);
  const blob = await res.blob();
  const a = h("a", { href: URL.createObjectURL(blob), download: `privacity-export.${format}`, id: `export-${format}` }, `Download your ${format.toUpperCase()} export`);
  status.replaceChildren(h("p", { role: "status" }, a));
  a.click();
}

async function signedIn(main: HTMLElement): Promise<void> {
  const records = await getJson<RecordsDoc>("/v1/me/records", { headers: auth() });
  const total = records.streams.reduce((n, s) => n + s.records.length, 0);
  main.append(h("p", { id: "me-summary", role: "status" }, `Signed in. The trust holds ${total} record(s) about you.`));
  for (const s of records.streams) {
    const cols = [...new Set(s.records.flatMap((r) => Object.keys(r.fields)))];
    main.append(
      table(
        `Your records in ${s.stream} (${s.records.length})`,
        ["Time", ...cols],
        s.records.slice(0, 200).map((r) => [r.time, ...cols.map((c) => (r.fields[c] === undefined ? "" : String(typeof r.fields[c] === "object" ? JSON.stringify(r.fields[c]) : r.fields[c])))]),
        { class: "me-records", "data-stream": s.stream },
      ),
    );
    if (s.records.length > 200) main.append(h("p", { class: "muted" }, "The first 200 are shown; the export has them all."));
  }

  const exportStatus = h("div", { "aria-live": "polite" });
  main.append(
    h("section", { class: "card", "aria-labelledby": "exp" }, h("h2", { id: "exp" }, "Export"),
      h("button", { type: "button", id: "export-json-button", onclick: () => void download("json", exportStatus).catch((e) => exportStatus.replaceChildren(message(e.message, "error"))) }, "Export as JSON"),
      " ",
      h("button", { type: "button", id: "export-csv-button", onclick: () => void download("csv", exportStatus).catch((e) => exportStatus.replaceChildren(message(e.message, "error"))) }, "Export as CSV"),
      exportStatus),
  );

  const consentSection = h("section", { class: "card", "aria-labelledby": "cons", id: "consents" }, h("h2", { id: "cons" }, "Consents and objections"));
  main.append(consentSection);
  await renderConsents(consentSection);

  const eraseStatus = h("div", { "aria-live": "polite" });
  const confirm = h("input", { type: "checkbox", id: "erase-confirm" });
  main.append(
    h("section", { class: "card danger", "aria-labelledby": "era" }, h("h2", { id: "era" }, "Erase my data"),
      h("p", {}, "Erasure destroys the keys that encrypt your records: they can never be read again, by anyone. Records the city must keep by law are listed in the receipt."),
      h("span", {}, confirm, " ", h("label", { for: "erase-confirm" }, "I understand this cannot be undone")),
      " ",
      h("button", {
        type: "button",
        id: "erase-button",
        onclick: async () => {
          if (!confirm.checked) {
            eraseStatus.replaceChildren(message("Tick the box first.", "error"));
            return;
          }
          try {
            const receipt = await sendJson<{ records_erased: number; keys_destroyed: number; request_id: string }>("POST", "/v1/me/erasure", {}, session!.token);
            eraseStatus.replaceChildren(h("p", { role: "status", id: "erase-receipt" }, `Erased: ${receipt.records_erased} record(s), ${receipt.keys_destroyed} key(s) destroyed. Receipt ${receipt.request_id}.`));
          } catch (e) {
            eraseStatus.replaceChildren(message((e as Error).message, "error"));
          }
        },
      }, "Erase everything"),
      eraseStatus),
    h("button", {
      type: "button",
      id: "sign-out-button",
      onclick: async () => {
        await fetch("/v1/me/session", { method: "DELETE", headers: auth() }).catch(() => undefined);
        session = null;
        main.replaceChildren();
        await citizenPage(main);
        focusHeading(main);
      },
    }, "Sign out"),
  );
}

async function renderConsents(section: HTMLElement): Promise<void> {
  const { consents } = await getJson<{ consents: Consent[] }>("/v1/me/consents", { headers: auth() });
  const status = h("div", { "aria-live": "polite" });
  const rows = consents.map((c) => {
    const act = (action: "grant" | "withdraw" | "object") => async () => {
      try {
        await sendJson("PUT", `/v1/me/consents/${encodeURIComponent(c.purpose)}`, { action }, session!.token);
        section.replaceChildren(h("h2", { id: "cons" }, "Consents and objections"));
        await renderConsents(section);
        section.append(message(`Done: ${action} for ${c.purpose}.`));
      } catch (e) {
        status.replaceChildren(message((e as Error).message, "error"));
      }
    };
    return [
      h("span", {}, c.purpose, c.description ? h("span", { class: "muted" }, ` (${c.description})`) : null),
      c.legal_basis,
      h("span", { "data-consent-state": c.purpose }, c.state ?? (c.legal_basis === "consent" ? "not given" : "applies")),
      c.mandatory
        ? "required by law or contract"
        : h("span", { class: "actions" },
            c.legal_basis === "consent"
              ? [h("button", { type: "button", onclick: act("grant"), "aria-label": `Give consent for ${c.purpose}` }, "Give"), " ",
                 h("button", { type: "button", onclick: act("withdraw"), "aria-label": `Withdraw consent for ${c.purpose}` }, "Withdraw")]
              : h("button", { type: "button", onclick: act("object"), "aria-label": `Object to ${c.purpose}` }, "Object")),
    ];
  });
  section.append(table("Purposes", ["Purpose", "Legal basis", "State", "Change"], rows), status);
}
