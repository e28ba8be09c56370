from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "kefu.org"
    label = "org"
    verbose_name = "组织与权限"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kefu.core import refdata

        from .models import ApiToken, Department, Site, SiteCalendar, SiteDayOverride, Skill, Staff

        refdata.watch(Site, Department, SiteCalendar, SiteDayOverride)
        # What an API call's token lookup keeps (queries.token_holder, decision 0013): the
        # token, its staff member, their account and their sites.
        refdata.watch(ApiToken, Staff)
        m2m_changed.connect(_links_changed, sender=Staff.sites.through, dispatch_uid="refdata.m2m.staff_sites")
        # And whom the dispatch rule may pick (tickets.services.dispatch): staff by site,
        # department and skill.
        refdata.watch(Skill)
        m2m_changed.connect(_links_changed, sender=Staff.skills.through, dispatch_uid="refdata.m2m.staff_skills")
        user = get_user_model()
        post_save.connect(_account_saved, sender=user, dispatch_uid="refdata.save.account")
        post_delete.connect(refdata.changed, sender=user, dispatch_uid="refdata.delete.account")


# A sign-in writes only the account's last_login: nothing a token lookup keeps.
_SIGN_IN_FIELDS = frozenset({"last_login"})


def _account_saved(update_fields: frozenset[str] | None = None, **signal: object) -> None:
    from kefu.core import refdata

    if update_fields is not None and set(update_fields) <= _SIGN_IN_FIELDS:
        return
    refdata.changed()


def _links_changed(action: str = "", **signal: object) -> None:
    """A staff member's sites or skills were changed (either side of the relation)."""
    from kefu.core import refdata

    if action in ("post_add", "post_remove", "post_clear"):
        refdata.changed()
