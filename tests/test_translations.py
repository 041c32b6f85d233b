"""The project's catalogue never overrides a word Django or an installed app uses in another sense.

Catalogues in LOCALE_PATHS win over every app's, so a context-less msgid the project translates
its own way ("Change" → 切换 for the language switcher) would rename that word all over the admin.
The project's own senses live under a context (pgettext / `{% translate ... context ... %}`).
"""

import gettext as gettext_module
import re
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

PROJECT_PO = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def context_less_msgids(po: Path) -> list[str]:
    """The msgids of the singular entries without msgctxt: the ones that can collide."""
    msgids = []
    for entry in po.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in entry.splitlines() if not line.startswith("#")]
        if any(line.startswith(("msgctxt", "msgid_plural")) for line in lines):
            continue
        text = "\n".join(lines)
        found = re.search(r'^msgid ((?:".*"\n?)+)', text + "\n", re.M)
        msgid = found and "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', found.group(1)))
        if msgid:
            msgids.append(msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8"))
    return msgids


def django_catalogue_zh_hans() -> dict[str, str]:
    """What Django would say in zh-hans without the project's catalogue.

    Django's own precedence: its conf/locale first, then the installed apps, an app listed
    earlier winning over one listed later (the admin's "历史" over django-simple-history's).
    """
    locale_dirs = [Path(django.__file__).parent / "conf" / "locale"]
    locale_dirs += [Path(config.path) / "locale" for config in reversed(list(apps.get_app_configs()))]
    merged: dict[str, str] = {}
    for locale_dir in locale_dirs:
        mo = locale_dir / "zh_Hans" / "LC_MESSAGES" / "django.mo"
        if locale_dir.parent == settings.BASE_DIR or not mo.exists():
            continue
        with mo.open("rb") as file:
            catalogue = gettext_module.GNUTranslations(file)._catalog  # type: ignore[attr-defined]  # no public accessor
        merged.update({msgid: msgstr for msgid, msgstr in catalogue.items() if isinstance(msgid, str) and msgid})
    return merged


def test_the_admins_words_keep_their_meaning():
    with translation.override("zh-hans"):
        assert translation.gettext("Change") == "修改"
        assert translation.gettext("All") == "全部"
        assert translation.gettext("History") == "历史"
        assert translation.gettext("Log out") == "注销"
        assert translation.gettext("Filter") == "过滤器"


def test_the_projects_own_senses_live_under_a_context():
    with translation.override("zh-hans"):
        assert translation.pgettext("switch language", "Change") == "切换"
        assert translation.pgettext("select every proposal", "All") == "全选"
        assert translation.pgettext("steps of handling a request", "History") == "办理记录"
        assert translation.pgettext("request", "Summary") == "诉求摘要"


def test_no_context_less_message_translates_differently_from_django_or_an_installed_app():
    theirs = django_catalogue_zh_hans()
    msgids = context_less_msgids(PROJECT_PO)
    assert "Change" in msgids and "Change" in theirs  # the parser and the loader both see something
    with translation.override("zh-hans"):
        collisions = {
            msgid: (translation.gettext(msgid), theirs[msgid])
            for msgid in msgids
            if msgid in theirs and translation.gettext(msgid) != theirs[msgid]
        }
    assert not collisions, "give these a context (ours, Django's): " + repr(collisions)


@pytest.mark.django_db
def test_the_admin_reads_as_django_wrote_it_in_chinese(world):
    client = Client(raise_request_exception=True)
    client.force_login(world.administrator)

    index = client.get(reverse("admin:index")).content.decode()
    assert ">修改<" in index and ">切换<" not in index
    assert "注销" in index

    changelist = client.get(reverse("admin:members_contact_changelist")).content.decode()
    assert "全部" in changelist and "全选" not in changelist
    assert "过滤器" in changelist

    change = client.get(reverse("admin:members_contact_change", args=[world.contact_a1.pk])).content.decode()
    assert ">历史<" in change and "办理记录" not in change
