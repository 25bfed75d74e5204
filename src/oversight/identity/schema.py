"""The derived tables the identity layer writes: an interface the rules read.

Column names and meanings are fixed (add columns, never rename):

- ``person_of_record``: one row per person-bearing activity row, the person it
  is about (``person_id``) and how that was decided.
- ``close_relatives``: 近亲属 per rules.md, symmetric, one row per
  (person, relative, relation): "relative_id is the <relation> of person_id".
- ``insiders``: per official's serving period, the official and each close
  relative, with the village and the term.
- ``company_links``: every company a person represents or holds shares in,
  directly or through a chain, with the chain's interval and effective ratio.
- ``dq_findings``: data-quality problems met while deriving the above.
"""

from __future__ import annotations

DERIVED: dict[str, tuple[tuple[str, str], ...]] = {
    "person_of_record": (
        ("table_name", "VARCHAR"),     # labor | subsidies | leases | payments
        ("record_id", "VARCHAR"),      # the row's key (record_id, contract_id, payment_id)
        ("region_code", "VARCHAR"),    # the village of the row
        ("given_id", "VARCHAR"),       # the id as the row gives it (normalised), may be null/mistyped
        ("given_name", "VARCHAR"),     # the name as the row gives it
        ("person_id", "VARCHAR"),      # resolved id_number, null when unresolved
        ("method", "VARCHAR"),         # id | id_repair | name_birth | name_village | worker_history | splink
        ("confidence", "DOUBLE"),      # 0..1 (1 for a valid id)
        ("status", "VARCHAR"),         # valid | resolved | unresolved
        ("reason", "VARCHAR"),         # why unresolved ('no candidate', 'several namesakes: …')
        ("person_name", "VARCHAR"),    # the register's name of person_id (null when not registered)
        ("detail", "VARCHAR"),         # human-readable account of the resolution
    ),
    "close_relatives": (
        ("person_id", "VARCHAR"),
        ("relative_id", "VARCHAR"),
        ("relation", "VARCHAR"),       # spouse | parent | child | sibling | grandparent | grandchild
        ("evidence", "VARCHAR"),
    ),
    "insiders": (
        ("village_code", "VARCHAR"),
        ("person_id", "VARCHAR"),
        ("official_id", "VARCHAR"),
        ("official_name", "VARCHAR"),
        ("position", "VARCHAR"),
        ("relation", "VARCHAR"),       # self | spouse | parent | child | sibling | grandparent | grandchild
        ("start_date", "DATE"),        # the official's term; null = since ever
        ("end_date", "DATE"),          # null = serving
        ("evidence", "VARCHAR"),
    ),
    "company_links": (
        ("person_id", "VARCHAR"),
        ("credit_code", "VARCHAR"),
        ("link", "VARCHAR"),           # legal_rep | shareholder
        ("depth", "BIGINT"),           # 0 legal rep, 1 direct holding, n through n-1 companies
        ("share_ratio", "DOUBLE"),     # effective ratio (product along the chain); null for legal_rep
        ("start_date", "DATE"),        # intersection of the chain's intervals; null = open
        ("end_date", "DATE"),          # null = current
        ("chain", "VARCHAR"),          # "A ← 40% B ← 60% person"
        ("path", "VARCHAR"),           # credit codes from the person outwards, '>'-joined
    ),
    "dq_findings": (
        ("kind", "VARCHAR"),
        ("table_name", "VARCHAR"),
        ("record_key", "VARCHAR"),
        ("detail", "VARCHAR"),
    ),
}

#: the relations close_relatives may hold and their reverse
INVERSE = {"spouse": "spouse", "parent": "child", "child": "parent", "sibling": "sibling",
           "grandparent": "grandchild", "grandchild": "grandparent"}

ROLE_ZH = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "sibling": "兄弟姐妹",
           "grandchild": "孙子女", "grandparent": "祖父母", "other": "其他"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


ARROW_TYPES = {"VARCHAR": "string", "DOUBLE": "float64", "DATE": "date32", "BIGINT": "int64"}


def arrow_schema(name: str):  # noqa: ANN201 - a pyarrow.Schema
    import pyarrow as pa

    return pa.schema([(c, getattr(pa, ARROW_TYPES[ty])()) for c, ty in DERIVED[name]])


def ensure_derived(wh) -> None:  # noqa: ANN001 - a Warehouse
    """Create the derived tables that do not exist yet (empty).  On PySpark they are empty
    views until the first build writes them (a build writes every column, so a table written
    before a column was added gains it then)."""
    if wh.engine == "pyspark":
        from ..warehouse import spark

        spark.empty_views(wh, {name: arrow_schema(name) for name in DERIVED})
        return
    existing = wh.tables()
    stmts = []
    for name, cols in DERIVED.items():
        if name in existing:
            have = {c.lower() for c in wh.table(name).columns}
            for c, ty in cols:
                if c.lower() not in have:   # a column added to the interface since
                    stmts.append(f"ALTER TABLE {_quote(name)} ADD COLUMN {_quote(c)} {wh.sql_type(ty)}")
            continue
        body = ", ".join(f"{_quote(c)} {wh.sql_type(ty)}" for c, ty in cols)
        stmts.append(f"CREATE TABLE {_quote(name)} ({body})")
    if stmts:
        with wh.transaction():
            for s in stmts:
                wh.execute(s)
