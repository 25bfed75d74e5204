"""Insiders: each official per serving period, and each of the official's close relatives."""

from __future__ import annotations

import ibis

from .exprs import label, s


def insiders(wh, relatives: ibis.Table) -> ibis.Table:  # noqa: ANN001
    o = wh.table("officials")
    o = o.select(village_code=o.region_code, official_id=o.id_number, official_name=o.name,
                 position=o.position, start_date=o.start_date, end_date=o.end_date)
    selves = o.select(
        village_code=o.village_code, person_id=o.official_id, official_id=o.official_id,
        official_name=o.official_name, position=o.position, relation=s("self"),
        start_date=o.start_date, end_date=o.end_date,
        evidence=s("official: ") + label(o.official_name, o.official_id) + s(", ") + o.position,
    )
    r = relatives.select(rp=relatives.person_id, rid=relatives.relative_id, rel=relatives.relation,
                         rev=relatives.evidence)
    j = o.join(r, o.official_id == r.rp)
    kin = j.select(
        village_code=j.village_code, person_id=j.rid, official_id=j.official_id,
        official_name=j.official_name, position=j.position, relation=j.rel,
        start_date=j.start_date, end_date=j.end_date,
        evidence=j.rid + s(" is the ") + j.rel + s(" of official ") + label(j.official_name, j.official_id)
        + s(" (") + j.position + s("): ") + j.rev,
    )
    return selves.union(kin, distinct=False)
