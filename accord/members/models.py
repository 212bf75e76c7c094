"""Members, organisations, accounts, roles, API tokens and this node's identity."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Localised(models.Model):
    """Names in the three working languages; `name` picks the one of the active language."""

    name_en = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)
    name_ru = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        language = (get_language() or "en").lower()
        if language.startswith("zh") and self.name_zh:
            return self.name_zh
        if language.startswith("ru") and self.name_ru:
            return self.name_ru
        return self.name_en


class Member(Localised):
    class Kind(models.TextChoices):
        STATE = "state", _("Member state")
        SECRETARIAT = "secretariat", _("Secretariat")
        OBSERVER = "observer", _("Observer")
        DIALOGUE_PARTNER = "dialogue_partner", _("Dialogue partner")

    code = models.CharField(max_length=8, unique=True)  # ISO 3166 alpha-2, or "SCO"
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STATE)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Organisation(Localised):
    class Kind(models.TextChoices):
        HEALTH_MINISTRY = "health_ministry", _("Ministry of health")
        EMERGENCY_MINISTRY = "emergency_ministry", _("Ministry of emergencies")
        SANITARY_SERVICE = "sanitary_service", _("Sanitary-epidemiological service")
        SECRETARIAT = "secretariat", _("Secretariat")
        MINISTRY = "ministry", _("Ministry")
        AGENCY = "agency", _("Agency")
        UNIVERSITY = "university", _("University")
        INSTITUTE = "institute", _("Research institute")
        HOSPITAL = "hospital", _("Hospital")
        LABORATORY = "laboratory", _("Laboratory")
        OTHER = "other", _("Other")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="organisations")
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)

    class Meta:
        ordering = ["member__code", "slug"]

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    FOCAL_POINT = "focal_point", _("Focal point")
    COORDINATOR = "coordinator", _("Coordinator")
    ANALYST = "analyst", _("Analyst")
    EXPERT = "expert", _("Expert")
    VIEWER = "viewer", _("Viewer")
    ADMIN = "admin", _("Administrator")


class Account(AbstractUser):
    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "中文（简体）"
        RU = "ru", "Русский"
        KK = "kk", "Қазақ тілі"
        KY = "ky", "Кыргызча"
        TG = "tg", "Тоҷикӣ"
        UZ = "uz", "Oʻzbekcha"
        HI = "hi", "हिन्दी"
        UR = "ur", "اردو"
        FA = "fa", "فارسی"
        BE = "be", "Беларуская"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="accounts", null=True, blank=True
    )
    # The interface language this person chose on their profile ("" = as the browser or the language menu say),
    # and the IANA time zone in which pages show times ("" = UTC, the node's TIME_ZONE).
    language = models.CharField(max_length=10, choices=Language.choices, blank=True, default="")
    time_zone = models.CharField(max_length=64, blank=True, default="")

    @property
    def member_code(self) -> str | None:
        return self.organisation.member.code if self.organisation is not None else None

    def role_names(self) -> set[str]:
        return set(self.roles.values_list("role", flat=True))

    def has_role(self, role: str) -> bool:
        return self.roles.filter(role=role).exists()


class AccountRole(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "role"], name="account_role_unique")]


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once at creation."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")
        FEED = "feed", _("Alert feeds only")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.WRITE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class NodeIdentity(models.Model):
    """This node. Exactly one row (id=1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    node_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    url = models.CharField(max_length=300, blank=True)  # where peers reach this node, as its admin says
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="node_identity_singleton")]


class NodeKey(models.Model):
    """A public key of a node (this one or, later, a peer). Old keys stay to verify old versions."""

    node_id = models.UUIDField(db_index=True)
    kid = models.CharField(max_length=40, unique=True)
    public_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
