"""The forms of the library's pages and the names they show: a document's metadata and files, a register entry,
each read from a POST into the values the actions take, with a message per field for what cannot be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accord.alliances import library_files
from accord.records.envelope import TLPS, Audience

TEXT_LANGUAGES = ("en", "ru", "zh")
TEXT_LANGUAGE_NAMES: dict[str, Promise] = {"en": _("English"), "ru": _("Russian"), "zh": _("Chinese")}
TYPES: dict[str, Promise] = {
    "guideline": _("Guideline"),
    "protocol": _("Protocol"),
    "curriculum": _("Curriculum"),
    "legal_instrument": _("Legal instrument"),
    "report": _("Report"),
}
STATUSES: dict[str, Promise] = {
    "in_force": _("In force"),
    "amended": _("Amended"),
    "repealed": _("Repealed"),
    "draft": _("Draft"),
}
TOPICS: dict[str, Promise] = {
    "ihr_implementing_law": _("IHR implementing law"),
    "sanitary_epidemiological_law": _("Sanitary-epidemiological law"),
    "quarantine": _("Quarantine"),
    "cross_border_data_sharing": _("Cross-border data sharing"),
    "other": _("Other"),
}
DOCUMENT_FIELDS = ("alliance", "type", "title", "abstract", "tags", "languages", "date", "authors", "file", "audience")
INSTRUMENT_FIELDS = (
    "member",
    "title",
    "title_translations",
    "original_language",
    "adopted",
    "status",
    "citation",
    "link",
    "summary",
    "topics",
    "audience",
)


def _texts(post: QueryDict, prefix: str) -> dict[str, str]:
    return {code: post.get(f"{prefix}_{code}", "").strip() for code in TEXT_LANGUAGES}


def _audience(post: QueryDict, own: str) -> tuple[str, list[str], str]:
    mode = post.get("audience", "everyone")
    members = sorted(set(post.getlist("audience_members")) | ({own, "SCO"} if mode == "named" and own else set()))
    tlp = post.get("tlp", "GREEN")
    return mode, members, tlp


@dataclass
class DocumentForm:
    alliance: str = ""
    doc_type: str = "guideline"
    title: dict[str, str] = field(default_factory=dict)
    abstract: dict[str, str] = field(default_factory=dict)
    tags: str = ""
    languages: list[str] = field(default_factory=list)
    date: str = ""
    authors: str = ""
    audience_mode: str = "everyone"
    audience_members: list[str] = field(default_factory=list)
    tlp: str = "GREEN"
    uploads: list[library_files.Upload] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]

    def audience(self) -> Audience:
        if self.audience_mode == "named":
            return Audience(members=self.audience_members)
        return Audience(everyone=True)

    def error_list(self) -> list[dict[str, str]]:
        found = [{"anchor": "error-summary", "message": self.errors["form"]}] if "form" in self.errors else []
        return found + [
            {"anchor": anchor(name), "message": self.errors[name]} for name in DOCUMENT_FIELDS if name in self.errors
        ]


def anchor(name: str) -> str:
    """The id of the control a field's error leads to."""
    return {
        "title": "title_en",
        "abstract": "abstract_en",
        "languages": "languages",
        "audience": "audience-everyone",
    }.get(name, name)


def document_from_post(post: QueryDict, files: MultiValueDict[str, Any], own: str) -> DocumentForm:
    mode, members, tlp = _audience(post, own)
    form = DocumentForm(
        alliance=post.get("alliance", ""),
        doc_type=post.get("type", ""),
        title=_texts(post, "title"),
        abstract=_texts(post, "abstract"),
        tags=post.get("tags", ""),
        languages=post.getlist("languages"),
        date=post.get("date", "").strip(),
        authors=post.get("authors", ""),
        audience_mode=mode,
        audience_members=members,
        tlp=tlp,
    )
    form.uploads = [library_files.Upload(f.name or "", f.read()) for f in files.getlist("file")]
    if not any(form.title.values()):
        form.errors["title"] = str(_("Give the title in at least one of English, Russian or Chinese."))
    if not form.languages:
        form.errors["languages"] = str(_("Choose the languages the document is written in."))
    if not form.date:
        form.errors["date"] = str(_("Give the year, the month or the day of the document."))
    if tlp not in TLPS:
        form.errors["audience"] = str(_("Choose a TLP label."))
    if mode == "named" and not post.getlist("audience_members"):
        form.errors["audience"] = str(_("Choose the members who may see it."))
    return form


@dataclass
class InstrumentForm:
    member: str = ""
    title: str = ""
    title_translations: dict[str, str] = field(default_factory=dict)
    original_language: str = ""
    adopted: str = ""
    status: str = "in_force"
    citation: str = ""
    link: str = ""
    summary: dict[str, str] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    audience_mode: str = "everyone"
    audience_members: list[str] = field(default_factory=list)
    tlp: str = "GREEN"
    errors: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "member": self.member,
            "title": self.title,
            "title_translations": {k: v for k, v in self.title_translations.items() if v},
            "original_language": self.original_language,
            "status": self.status,
            "citation": self.citation,
            "link": self.link,
            "summary": {k: v for k, v in self.summary.items() if v},
            "topics": self.topics,
        }
        if self.adopted:
            found["adopted"] = self.adopted
        return found

    def audience(self) -> Audience:
        if self.audience_mode == "named":
            return Audience(members=self.audience_members)
        return Audience(everyone=True)

    def error_list(self) -> list[dict[str, str]]:
        anchors = {"title_translations": "title_en", "summary": "summary_en", "topics": "topics", "audience": "tlp"}
        found = [{"anchor": "error-summary", "message": self.errors["form"]}] if "form" in self.errors else []
        return found + [
            {"anchor": anchors.get(name, name), "message": self.errors[name]}
            for name in INSTRUMENT_FIELDS
            if name in self.errors
        ]

    @classmethod
    def of(cls, out: dict[str, Any]) -> InstrumentForm:
        """The form filled with an entry (for its edit page)."""
        audience = out.get("audience") or {}
        return cls(
            member=str(out["member"]),
            title=str(out["title"]),
            title_translations=dict(out.get("title_translations") or {}),
            original_language=str(out["original_language"]),
            adopted=str(out.get("adopted") or ""),
            status=str(out["status"]),
            citation=str(out["citation"]),
            link=str(out.get("link") or ""),
            summary=dict(out.get("summary") or {}),
            topics=list(out["topics"]),
            audience_mode="everyone" if audience.get("everyone") else "named",
            audience_members=list(audience.get("members") or []),
            tlp=str(out["tlp"]),
        )


def instrument_from_post(post: QueryDict, own: str) -> InstrumentForm:
    mode, members, tlp = _audience(post, own)
    form = InstrumentForm(
        member=post.get("member", ""),
        title=post.get("title", "").strip(),
        title_translations=_texts(post, "title"),
        original_language=post.get("original_language", ""),
        adopted=post.get("adopted", "").strip(),
        status=post.get("status", ""),
        citation=post.get("citation", "").strip(),
        link=post.get("link", "").strip(),
        summary=_texts(post, "summary"),
        topics=post.getlist("topics"),
        audience_mode=mode,
        audience_members=members,
        tlp=tlp,
    )
    if not form.title:
        form.errors["title"] = str(_("Give the title in the original language."))
    if not form.citation:
        form.errors["citation"] = str(_("Give the citation."))
    if not form.topics:
        form.errors["topics"] = str(_("Choose at least one topic."))
    if tlp not in TLPS:
        form.errors["audience"] = str(_("Choose a TLP label."))
    if mode == "named" and not post.getlist("audience_members"):
        form.errors["audience"] = str(_("Choose the members who may see it."))
    return form
