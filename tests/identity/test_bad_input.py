"""Bad reference data: reported in dq_findings, never silently used or dropped."""

from __future__ import annotations

from oversight.identity import build
from oversight.identity.evaluate import resolution_scores
from oversight.ingest import ingest
from oversight.warehouse import open_warehouse

from .conftest import V, cc, pid, write_csv

H = pid("19600101", 11)
K = pid("19850303", 31)
M = pid("19620202", 22)


def test_two_households_invalid_legal_rep_and_empty_tables(tmp_path, warehouse_url):
    wh = open_warehouse(warehouse_url)
    try:
        # empty warehouse: every table builds, empty
        rep = build(wh)
        assert all(v == 0 for v in rep.counts.values())
        persons = [
            dict(id_number=H, name="甲", household_id="H1", household_role="head", region_code=V),
            dict(id_number=K, name="乙", household_id="H1", household_role="child", region_code=V),
            dict(id_number=M, name="丙", household_id="H2", household_role="head", region_code=V),
            # K listed again, in H2: the register keeps one listing; the other is a finding
            dict(id_number=K, name="乙", household_id="H2", household_role="child", region_code=V),
        ]
        bad_rep = H[:17] + ("0" if H[17] != "0" else "1")
        companies = [dict(credit_code=cc(1), name="甲公司", status="active", legal_rep_id_number=bad_rep,
                          legal_rep_name="甲")]
        relations = [dict(id_number=M, relative_id_number=K, relation="sibling")]   # K is M's child by the register
        files = [write_csv(tmp_path, "persons", persons), write_csv(tmp_path, "companies", companies),
                 write_csv(tmp_path, "relations", relations)]
        ingest(files, wh)
        build(wh)
        found = {(k, key): d for k, key, d in wh.execute('SELECT kind, record_key, detail FROM "dq_findings"')}
        assert ("person_in_two_households", K) in found
        assert "H1" in found[("person_in_two_households", K)] and "H2" in found[("person_in_two_households", K)]
        assert ("legal_rep_id_invalid", cc(1)) in found
        pair = "|".join(sorted((M, K)))
        assert ("conflicting_relations", pair) in found and "child" in found[("conflicting_relations", pair)]
        # the mistyped legal representative id is kept as given (and reported)
        assert wh.execute('SELECT person_id, link FROM "company_links"') == [(bad_rep, "legal_rep")]
    finally:
        wh.close()


def test_generator_shaped_truth(family_wh):
    build(family_wh)
    from .conftest import C1, W1

    truth = {"resolutions": [
        {"table": "labor", "id": "L02", "true_id_number": C1, "given_id": None, "given_name": "李明",
         "village": V, "kind": "typo", "ambiguous": False},
        {"table": "labor", "id": "L05", "true_id_number": W1, "given_id": None, "given_name": "王芳",
         "village": V, "kind": "missing", "ambiguous": True},
    ], "namesakes": [[W1, pid("19800520", 172)]]}
    s = resolution_scores(family_wh, truth)
    assert (s["rows"], s["resolved"], s["correct"], s["namesake_merges"]) == (2, 1, 1, 0)
    assert s["precision"] == 1.0 and s["recall"] == 0.5
    assert s["ambiguous_rows"] == 1 and s["recall_unambiguous"] == 1.0
