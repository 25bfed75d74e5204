"""Name normalisation and one-slip id repairs."""

from __future__ import annotations

from oversight.identity.names import birth_part, id_distance, id_repairs, id_valid, normalise_name
from oversight.identity.resolve import Person, Resolver

from .conftest import pid


def test_normalise_name():
    assert normalise_name("張 三") == normalise_name("张三") == "张三"
    assert normalise_name("陈\u3000巧梅") == "陈巧梅"
    assert normalise_name("周亚萍\u3000") == "周亚萍"
    assert normalise_name("何建華") == "何建华"
    assert normalise_name("陳澔") == "陈浩"
    assert normalise_name("买买提•艾力") == normalise_name("買買提·艾力")
    assert normalise_name("ＺＨＡＮＧ san") == "ZHANGSAN"
    assert normalise_name("  ") is None and normalise_name(None) is None


def test_repairs_of_each_slip():
    good = pid("19800520", 172)
    assert id_valid(good)
    for i in range(17):                                       # every digit of the body
        for d in "0123456789":
            bad = good[:i] + d + good[i + 1:]
            if bad != good and not id_valid(bad):
                assert good in dict(id_repairs(bad)), (i, d)
    for i in range(17):                                       # adjacent swaps
        bad = good[:i] + good[i + 1] + good[i] + good[i + 2:]
        if bad != good and not id_valid(bad):
            assert good in dict(id_repairs(bad))
    assert good in dict(id_repairs(good[:17]))                # check character dropped
    assert good in dict(id_repairs(good[:5] + good[4] + good[5:]))   # one character doubled
    assert good in dict(id_repairs(good[:17] + "Z"))
    assert id_repairs(None) == [] and id_repairs("") == []
    # with a register to look in, only registered repairs come back
    bad = good[:10] + ("1" if good[10] != "1" else "2") + good[11:]
    assert [c for c, _ in id_repairs(bad, {good})] == [good]
    assert id_repairs(bad, {"110105198005201720"}) == []


def test_birth_and_distance():
    good = pid("19800520", 172)
    assert birth_part(good) == "19800520" and birth_part(good[:15]) == "19800520"
    assert birth_part("11010519801340") is None and birth_part(None) is None
    assert id_distance(good, good) == 0
    i = next(k for k in range(17) if good[k] != good[k + 1])
    assert id_distance(good, good[:i] + good[i + 1] + good[i] + good[i + 2:]) == 1
    assert id_distance(good, good[:15]) == 99


def _resolver(people, history=None, bar=0.9):
    return Resolver([Person(i, n, normalise_name(n), v, birth_part(i)) for i, n, v in people], history or {}, bar)


def test_namesakes_never_merged():
    v = "110105001001"
    a, b = pid("19750315", 161), pid("19750315", 173)          # same name, same birth date, same village
    r = _resolver([(a, "王芳", v), (b, "王芳", v)])
    for given in (None, a[:15], a[:14]):
        res = r.resolve(given, "王芳", v)
        assert res.person_id is None and res.reason.startswith("several namesakes"), given
    # the sequence digits still tell them apart when the id is only one slip off
    bad = a[:16] + ("0" if a[16] != "0" else "1") + a[17]
    assert r.resolve(bad, "王芳", v).person_id == a


def test_history_does_not_break_namesakes_and_conflicts_block():
    v = "110105001001"
    a = pid("19750315", 161)
    outsider = pid("19900101", 193)
    hist = {(normalise_name("王芳"), v): {outsider: 3}}
    r = _resolver([(a, "王芳", v)], hist)
    res = r.resolve(None, "王芳", v)
    assert res.person_id is None and "several namesakes" in res.reason


def test_truncated_id_tells_namesakes_apart_by_what_is_left():
    v = "110105001001"
    a, b = pid("19750315", 161), pid("19750315", 161, area="110101")   # same name, birth, sequence
    assert id_distance(a[:15], a) == 0 and id_distance(a[:15], b) > 0
    r = _resolver([(a, "王芳", v), (b, "王芳", v)])
    assert r.resolve(a[:15], "王芳", v).person_id == a
    c = pid("19750315", 162)                                            # differs only in the last digits
    r = _resolver([(a, "王芳", v), (c, "王芳", v)])
    res = r.resolve(a[:15], "王芳", v)
    assert res.person_id is None and res.reason.startswith("several namesakes")
