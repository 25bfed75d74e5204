"""Close relatives (近亲属) per rules.md, as Ibis expressions.

1. Household register: each member of a household with exactly one head
   stands to the head as its ``household_role`` says; ``other`` is no relative.
   Nothing links two non-head members (a head's child is not the spouse's child).
2. ``relations`` rows, as declared.
3. Every link both ways (parent <-> child, grandparent <-> grandchild,
   spouse and sibling mutual).
4. One step of inference: a parent's parent is a grandparent (and the reverse
   a grandchild); two people with a common parent are siblings.
"""

from __future__ import annotations

import ibis

from .exprs import label, s, sorted_concat
from .schema import INVERSE, ROLE_ZH

KIN_ROLES = ("spouse", "child", "parent", "sibling", "grandchild", "grandparent")
RELATIONS = tuple(INVERSE)


def _zh(role) -> ibis.Value:  # noqa: ANN001
    return ibis.cases(*((role == k, s(v)) for k, v in ROLE_ZH.items()), else_=role)


def household_heads(wh) -> ibis.Table:  # noqa: ANN001
    """(household_id, heads): how many heads each household with members has."""
    p = wh.table("persons")
    hh = p.filter(p.household_id.notnull())
    return hh.group_by("household_id").agg(
        heads=(hh.household_role == "head").sum().fill_null(0).cast("int64"),
        members=hh.count())


def household_links(wh) -> ibis.Table:  # noqa: ANN001
    p = wh.table("persons")
    counts = household_heads(wh)
    single = counts.filter(counts.heads == 1).select("household_id")
    heads = p.filter(p.household_role == "head").semi_join(single, "household_id").select(
        hh=lambda t: t.household_id, head_id=lambda t: t.id_number, head_name=lambda t: t.name)
    members = p.filter(p.household_role.isin(KIN_ROLES)).select(
        mhh=lambda t: t.household_id, mid=lambda t: t.id_number, mname=lambda t: t.name,
        role=lambda t: t.household_role)
    j = heads.join(members, heads.hh == members.mhh)
    j = j.filter(j.head_id != j.mid)
    return j.select(
        person_id=j.head_id, relative_id=j.mid, relation=j.role,
        evidence=s("household ") + j.hh + s(": 户主 ") + label(j.head_name, j.head_id) + s(", ")
        + _zh(j.role) + s(" ") + label(j.mname, j.mid),
    )


def relation_links(wh) -> ibis.Table:  # noqa: ANN001
    r = wh.table("relations")
    r = r.filter(r.id_number != r.relative_id_number, r.relation.isin(RELATIONS))
    p1 = wh.table("persons").select(aid=lambda t: t.id_number, aname=lambda t: t.name)
    p2 = wh.table("persons").select(bid=lambda t: t.id_number, bname=lambda t: t.name)
    j = r.left_join(p1, r.id_number == p1.aid).left_join(p2, r.relative_id_number == p2.bid)
    return j.select(
        person_id=j.id_number, relative_id=j.relative_id_number, relation=j.relation,
        evidence=s("relations row: ") + label(j.bname, j.relative_id_number) + s(" is ") + j.relation
        + s(" of ") + label(j.aname, j.id_number),
    )


def _inverse(rel) -> ibis.Value:  # noqa: ANN001
    return ibis.cases(*((rel == k, s(v)) for k, v in INVERSE.items()), else_=rel)


def close_relatives(wh, keep=None) -> ibis.Table:  # noqa: ANN001
    """``keep`` (a build's scratch) stores the direct links before the inference joins read
    them three times (PySpark would otherwise compute them once per reading)."""
    base = household_links(wh).union(relation_links(wh), distinct=False)
    both = base.union(base.select(person_id=base.relative_id, relative_id=base.person_id,
                                  relation=_inverse(base.relation), evidence=base.evidence),
                      distinct=False)
    both = both.distinct()
    if keep is not None:
        both = keep("kin_links", both)
    par = both.filter(both.relation == "parent").select(
        child=lambda t: t.person_id, parent=lambda t: t.relative_id, ev=lambda t: t.evidence)
    par = par.distinct()
    up = par.view().select(pc=lambda t: t.child, gp=lambda t: t.parent, ev2=lambda t: t.ev)
    gp = par.join(up, par.parent == up.pc)
    gp = gp.filter(gp.child != gp.gp)
    gpe = s("parent's parent (via ") + gp.parent + s("): ") + gp.ev + s("; ") + gp.ev2
    grand = gp.select(person_id=gp.child, relative_id=gp.gp, relation=s("grandparent"), evidence=gpe)
    grandr = gp.select(person_id=gp.gp, relative_id=gp.child, relation=s("grandchild"), evidence=gpe)
    other = par.view().select(c2=lambda t: t.child, p2=lambda t: t.parent, ev2=lambda t: t.ev)
    sb = par.join(other, par.parent == other.p2)
    sb = sb.filter(sb.child != sb.c2)
    sib = sb.select(person_id=sb.child, relative_id=sb.c2, relation=s("sibling"),
                    evidence=s("common parent ") + sb.parent + s(": ") + sb.ev + s("; ") + sb.ev2)
    allx = both.union(grand, distinct=False).union(grandr, distinct=False).union(sib, distinct=False)
    allx = allx.filter(allx.person_id != allx.relative_id)
    return allx.group_by(["person_id", "relative_id", "relation"]).agg(
        evidence=sorted_concat(allx.evidence, " | "))


def dq_kin(wh) -> ibis.Table:  # noqa: ANN001
    """Findings: self-relations, relations naming unknown people, households without one head."""
    r = wh.table("relations")
    p = wh.table("persons").select(pid=lambda t: t.id_number)
    key = r.id_number + s("|") + r.relative_id_number + s("|") + r.relation
    selfrel = r.filter(r.id_number == r.relative_id_number).select(
        kind=s("self_relation"), table_name=s("relations"), record_key=key,
        detail=s("relation row links ") + r.id_number + s(" to itself as ") + r.relation + s("; ignored"))
    out = selfrel
    for col, what in (("id_number", "person"), ("relative_id_number", "relative")):
        unk = r.anti_join(p, r[col] == p.pid)
        k = unk.id_number + s("|") + unk.relative_id_number + s("|") + unk.relation
        out = out.union(unk.select(
            kind=s("relation_unknown_person"), table_name=s("relations"), record_key=k,
            detail=s("the ") + s(what) + s(" ") + unk[col] + s(" is not in the household register; "
                                                             "the link is still used")), distinct=False)
    hc = household_heads(wh)
    bad = hc.filter(hc.heads != 1)
    out = out.union(bad.select(
        kind=ibis.ifelse(bad.heads == 0, s("household_without_head"), s("household_several_heads")),
        table_name=s("persons"), record_key=bad.household_id,
        detail=s("household ") + bad.household_id + s(" has ") + bad.heads.cast("string")
        + s(" heads among ") + bad.members.cast("string")
        + s(" members; its roles cannot be read relative to one head, so it adds no relatives")),
        distinct=False)
    return out


def dq_conflicts(relatives: ibis.Table) -> ibis.Table:
    """Two people linked by more than one kind of kinship (say parent and sibling): the
    links are all kept, and the pair is reported once."""
    r = relatives
    pairs = r.filter(r.person_id < r.relative_id).group_by(["person_id", "relative_id"]).agg(
        n=r.relation.nunique(),
        rels=sorted_concat(r.relation, ", "))
    bad = pairs.filter(pairs.n > 1)
    return bad.select(
        kind=s("conflicting_relations"), table_name=s("close_relatives"),
        record_key=bad.person_id + s("|") + bad.relative_id,
        detail=bad.relative_id + s(" is at once ") + bad.rels + s(" of ") + bad.person_id
        + s(" (from the household register and relations combined); all links are kept"))
