"""The relation path behind a warning, as a small graph laid out in columns (drawn as SVG).

person → relative → official; company → company → person.  The graph comes from the
warning's evidence when a rule puts one there (``evidence["graph"] = {"nodes": [{"id",
"label", "kind"}], "edges": [{"from", "to", "label"}]}``), otherwise from the identity tables
(``insiders``, ``company_links``) for the people and companies the warning's records name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import labels

#: rules whose warnings rest on a relation path
RELATION_RULES = ("insider", "company_owner")

PERSON_COLUMNS = ("worker_id_number", "recipient_id_number")
KIND_COLUMNS = (("lessee_kind", "lessee_id"), ("payee_kind", "payee_id"))
COMPANY_COLUMNS = ("contractor_credit_code",)


@dataclass
class Node:
    id: str
    label: str
    kind: str               # person | official | company
    sub: str = ""
    x: float = 0
    y: float = 0


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    width: int = 0
    height: int = 0

    def __bool__(self) -> bool:
        return bool(self.edges)


def wants_graph(rule: str, evidence: dict) -> bool:
    return isinstance(evidence.get("graph"), dict) or any(k in rule for k in RELATION_RULES)


def subjects_of(evidence: dict, source: dict[str, dict]) -> tuple[list[str], list[str]]:
    """People and companies the warning's records are about."""
    people: list[str] = []
    companies: list[str] = []
    if isinstance(evidence.get("person"), str):
        people.append(evidence["person"])
    for block in source.values():
        for row in block.get("rows", []):
            for c in PERSON_COLUMNS:
                if row.get(c):
                    people.append(str(row[c]))
            for kind_col, id_col in KIND_COLUMNS:
                if row.get(id_col):
                    (companies if row.get(kind_col) == "company" else people).append(str(row[id_col]))
            for c in COMPANY_COLUMNS:
                if row.get(c):
                    companies.append(str(row[c]))
    return list(dict.fromkeys(people)), list(dict.fromkeys(companies))


def position_name(code: str, lang: str) -> str:
    from ..contract.schema import POSITIONS

    if lang != "en" and code in POSITIONS:
        return POSITIONS[code][0]
    return code.replace("_", " ")


def from_facts(facts: dict[str, list[dict]], page: Any) -> Graph:
    names = {p["id_number"]: p["name"] for p in facts.get("persons", [])}
    cnames = {c["credit_code"]: c["name"] for c in facts.get("companies", [])}
    nodes: dict[str, Node] = {}
    edges: list[dict[str, Any]] = []

    def person(pid: str, sub: str = "") -> str:
        if pid not in nodes:
            nodes[pid] = Node(pid, names.get(pid) or pid, "person", sub or pid)
        return pid

    def company(cc: str) -> str:
        if cc not in nodes:
            nodes[cc] = Node(cc, cnames.get(cc) or cc, "company", cc)
        return cc

    def edge(a: str, b: str, label: str) -> None:
        if not any(e["from"] == a and e["to"] == b for e in edges):
            edges.append({"from": a, "to": b, "label": label})

    for link in facts.get("company_links", [])[:12]:
        pid = person(str(link["person_id"]))
        chain = [c for c in str(link.get("path") or link["credit_code"]).split(">") if c]
        prev = pid
        for i, cc in enumerate(chain):
            company(cc)
            if link.get("link") == "legal_rep" and i == 0:
                label = page.label(labels.RELATION, "legal_rep")
            else:
                label = page.label(labels.RELATION, "shareholder")
                if i == len(chain) - 1 and link.get("share_ratio") is not None:
                    label += f" {float(link['share_ratio']):.0%}"
            edge(prev, cc, label)
            prev = cc
    for ins in facts.get("insiders", [])[:12]:
        pid = person(str(ins["person_id"]))
        pos = position_name(ins.get("position") or "", page.lang)
        if ins.get("relation") == "self":
            nodes[pid].kind = "official"
            nodes[pid].sub = pos
            continue
        oid = str(ins["official_id"])
        if oid not in nodes:
            nodes[oid] = Node(oid, ins.get("official_name") or names.get(oid) or oid, "official", pos)
        nodes[oid].kind, nodes[oid].sub = "official", pos
        edge(pid, oid, page.label(labels.RELATION, ins.get("relation")))
    return layout(list(nodes.values()), edges)


def from_evidence(graph: dict) -> Graph:
    nodes = []
    for n in graph.get("nodes", [])[:40]:
        if isinstance(n, dict) and n.get("id"):
            nodes.append(Node(str(n["id"]), str(n.get("label") or n["id"]), str(n.get("kind") or "person"),
                              str(n.get("sub") or "")))
    ids = {n.id for n in nodes}
    edges = [{"from": str(e["from"]), "to": str(e["to"]), "label": str(e.get("label") or "")}
             for e in graph.get("edges", [])[:60]
             if isinstance(e, dict) and str(e.get("from")) in ids and str(e.get("to")) in ids]
    return layout(nodes, edges)


COL_W, ROW_H, NODE_W, NODE_H, PAD = 220, 80, 170, 48, 10


def layout(nodes: list[Node], edges: list[dict[str, Any]]) -> Graph:
    """Columns by distance from the sources (nodes nothing points at); rows in order of appearance."""
    if not edges:
        return Graph()
    targets = {e["to"] for e in edges}
    col: dict[str, int] = {n.id: 0 for n in nodes if n.id not in targets}
    if not col:
        col = {nodes[0].id: 0}
    for _ in range(len(nodes)):
        changed = False
        for e in edges:
            if e["from"] in col and col.get(e["to"], -1) < col[e["from"]] + 1 and col[e["from"]] + 1 < len(nodes):
                col[e["to"]] = col[e["from"]] + 1
                changed = True
        if not changed:
            break
    rows: dict[int, int] = {}
    for n in nodes:
        c = col.get(n.id, 0)
        r = rows.get(c, 0)
        rows[c] = r + 1
        n.x, n.y = PAD + c * COL_W, PAD + r * ROW_H
    by_id = {n.id: n for n in nodes}
    out_edges = []
    for e in edges:
        a, b = by_id[e["from"]], by_id[e["to"]]
        x1, y1 = a.x + NODE_W, a.y + NODE_H / 2
        x2, y2 = b.x, b.y + NODE_H / 2
        if b.x <= a.x:                      # same column or backwards: go below
            x1, y1, x2, y2 = a.x + NODE_W / 2, a.y + NODE_H, b.x + NODE_W / 2, b.y
        out_edges.append({**e, "x1": x1, "y1": y1, "x2": x2, "y2": y2, "mx": (x1 + x2) / 2, "my": (y1 + y2) / 2 - 6})
    width = PAD * 2 + (max(col.values(), default=0)) * COL_W + NODE_W
    height = PAD * 2 + (max(rows.values(), default=1) - 1) * ROW_H + NODE_H
    return Graph(nodes, out_edges, int(width), int(height))
