import { fetchCheckpoint, toHex, verifyInclusion } from "../log";
import { h, message } from "../dom";

export async function verifyPage(main: HTMLElement): Promise<void> {
  const cp = await fetchCheckpoint();
  main.append(
    h("h1", {}, "Verify the transparency log"),
    h("p", {}, "Your browser fetches one entry of the log, hashes it with SHA-256, and checks the inclusion proof against the signed checkpoint. Nothing is taken on trust."),
    h("p", { id: "checkpoint" }, `Current checkpoint: ${cp.origin}, ${cp.size} entries, root ${toHex(cp.root)}.`),
  );
  const input = h("input", { id: "leaf-index", name: "index", type: "number", min: 0, max: Math.max(0, cp.size - 1), value: Math.max(0, cp.size - 1), inputmode: "numeric", required: true });
  const out = h("div", { id: "verify-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card" },
    h("label", { for: "leaf-index" }, `Entry number (0 to ${cp.size - 1})`),
    input,
    h("button", { type: "submit" }, "Check inclusion"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    out.replaceChildren(message("Checking…"));
    try {
      const r = await verifyInclusion(Number(input.value));
      out.replaceChildren(
        r.ok
          ? h("p", { class: "ok", role: "status", "data-verified": "true" }, `Verified: entry ${input.value} is in the log of ${r.checkpoint.size} entries.`)
          : h("p", { class: "error", role: "alert", "data-verified": "false" }, "NOT verified: the proof does not lead to the checkpoint's root."),
        h("p", {}, r.signature === null ? "Checkpoint signature: not checked (this browser has no Ed25519)." : r.signature ? "Checkpoint signature: valid." : "Checkpoint signature: INVALID."),
        h("p", {}, `Leaf hash ${r.leafHashHex}; computed root ${r.computedRootHex}.`),
        h("pre", { class: "leaf" }, JSON.stringify(r.leaf, null, 2)),
      );
    } catch (err) {
      out.replaceChildren(message(`Could not check: ${(err as Error).message}`, "error"));
    }
  });
  main.append(form, out);
}
