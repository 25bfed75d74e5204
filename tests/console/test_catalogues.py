"""The gettext catalogues cover every message the console shows, in Chinese."""

from __future__ import annotations

from oversight.console import catalogs, i18n


def test_every_message_has_a_chinese_translation():
    msgs = catalogs.extract()
    assert len(msgs) > 200
    zh = catalogs.existing("zh_CN")
    en = catalogs.existing("en")
    missing = [m for m in msgs if not zh.get(m)]
    assert not missing, f"untranslated (run python -m oversight.console.catalogs): {missing[:10]}"
    assert set(msgs) <= set(en), "the English catalogue is behind: run python -m oversight.console.catalogs"


def test_catalogues_compile_and_translate():
    i18n.translations.cache_clear()
    zh = i18n.translations("zh_CN")
    assert zh.gettext("Warnings") == "预警"
    assert zh.gettext("%(n)s warnings") % {"n": 3} == "共 3 条预警"
    assert i18n.translations("en").gettext("Warnings") == "Warnings"
    assert i18n.translations("xx").gettext("Warnings") == "预警"    # unknown: the default, Chinese
    for lang in i18n.LANGS:
        data = i18n.compile_po(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "oversight.po")
        assert data[:4] in (b"\xde\x12\x04\x95", b"\x95\x04\x12\xde")


def test_placeholders_survive_translation():
    import re

    zh = catalogs.existing("zh_CN")
    for msgid, msgstr in zh.items():
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", msgstr)), msgid
