import { agreements } from "../api";
import { h, link, table } from "../dom";
import { duties, level } from "../words";

export async function agreementsPage(main: HTMLElement): Promise<void> {
  const all = await agreements();
  main.append(
    h("h1", {}, "Data-sharing agreements"),
    h("p", {}, "Nobody receives data without one of these agreements. Each names who, what, for which purposes, and under which conditions."),
    table(
      "Agreements",
      ["Agreement", "Who", "Stream", "What", "Purposes", "Fields", "Conditions"],
      all.map((a) => [
        a.id,
        a.party_name ?? a.party,
        link(`#/streams/${encodeURIComponent(a.stream)}`, a.stream),
        level(a),
        a.purposes.join(", "),
        a.fields.join(", ") || "-",
        duties(a),
      ]),
      { id: "agreements-table" },
    ),
  );
}
