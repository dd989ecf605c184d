"""The page registry: every dashboard page, who may see it, and where it sits in the menu.

`app.py` builds `st.navigation` from the entries whose `roles` include the signed-in user's
role. Hiding a page is not access control: every page's `render()` calls
`riskmap.ui.state.require(*roles)` first, and every write goes through the service, which
checks the role again.

To add a page: write `src/riskmap/ui/pages/<name>.py` exposing `render() -> None`, then
append a `PageSpec` to `PAGES` (the order of the list is the order of the menu; sections
appear in the order they first occur).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from riskmap import vocabulary
from riskmap.vocabulary import Role

ALL_ROLES: tuple[str, ...] = vocabulary.ROLES

# Menu sections (use these names so pages of one kind sit together).
ASSESSMENT = "Assessment"
OVERSIGHT = "Oversight"
ADMINISTRATION = "Administration"
REFERENCE = "Reference"
SECTION_ORDER = (ASSESSMENT, OVERSIGHT, ADMINISTRATION, REFERENCE)

# The page each role lands on after signing in (by `url_path`); the first allowed page if
# that one is not registered.
HOME = {
    Role.OFFICER: "assess",
    Role.MANAGER: "overview",
    Role.AUDITOR: "overview",
    Role.ADMIN: "users",
}


@dataclass(frozen=True)
class PageSpec:
    """One page: `module` is a dotted path ("riskmap.ui.pages.assess") or a bare name under
    `riskmap.ui.pages` ("assess"); it must expose `render() -> None`."""

    module: str
    title: str
    icon: str
    roles: tuple[str, ...]
    section: str

    @property
    def module_path(self) -> str:
        return self.module if "." in self.module else f"riskmap.ui.pages.{self.module}"

    @property
    def url_path(self) -> str:
        """The page's address in the browser (the module's last name, e.g. `assess`)."""
        return self.module_path.rsplit(".", 1)[-1]

    def render_function(self) -> Callable[[], None]:
        """The page's `render`, imported when the page runs (a broken page breaks only itself)."""

        def run() -> None:
            importlib.import_module(self.module_path).render()

        run.__name__ = self.url_path
        return run

    def allows(self, role: str | None) -> bool:
        return role is not None and role in self.roles


PAGES: list[PageSpec] = [
    # -- issue 5: sign-in, walk-through, cycle, units, incidents, users, catalogue ----------
    PageSpec("riskmap.ui.pages.assess", "Assess", ":material/checklist:", ALL_ROLES, ASSESSMENT),
    PageSpec(
        "riskmap.ui.pages.cycle",
        "Cycle",
        ":material/event_repeat:",
        (Role.OFFICER, Role.MANAGER, Role.ADMIN),
        ASSESSMENT,
    ),
    PageSpec(
        "riskmap.ui.pages.units",
        "Units",
        ":material/account_tree:",
        (Role.OFFICER, Role.MANAGER, Role.ADMIN),
        ASSESSMENT,
    ),
    PageSpec(
        "riskmap.ui.pages.incidents",
        "Incidents",
        ":material/report:",
        (Role.OFFICER, Role.MANAGER, Role.ADMIN),
        ASSESSMENT,
    ),
    PageSpec("riskmap.ui.pages.users", "Users", ":material/group:", (Role.ADMIN,), ADMINISTRATION),
    PageSpec(
        "riskmap.ui.pages.catalogue",
        "Catalogue",
        ":material/menu_book:",
        ALL_ROLES,
        REFERENCE,
    ),
    # -- issue 6: manager pages (overview, heat maps, plan, trends, audit trail) ------------
    # (appended below by the issue-6 pages)
    PageSpec("riskmap.ui.pages.overview", "Overview", ":material/dashboard:", ALL_ROLES, OVERSIGHT),
    PageSpec(
        "riskmap.ui.pages.heatmaps",
        "Heat maps",
        ":material/grid_on:",
        (Role.OFFICER, Role.MANAGER, Role.AUDITOR),
        OVERSIGHT,
    ),
    PageSpec(
        "riskmap.ui.pages.plan",
        "Remediation plan",
        ":material/construction:",
        (Role.OFFICER, Role.MANAGER, Role.AUDITOR),
        OVERSIGHT,
    ),
    PageSpec(
        "riskmap.ui.pages.trends",
        "Trends",
        ":material/trending_up:",
        (Role.MANAGER, Role.AUDITOR),
        OVERSIGHT,
    ),
    PageSpec(
        "riskmap.ui.pages.briefing",
        "Briefing",
        ":material/summarize:",
        (Role.MANAGER, Role.AUDITOR),
        OVERSIGHT,
    ),
    PageSpec(
        "riskmap.ui.pages.audit_trail",
        "Audit trail",
        ":material/history:",
        (Role.AUDITOR, Role.ADMIN),
        OVERSIGHT,
    ),
    # -- issue 7: Excel, the auditor's workbook and the offline questionnaire -------------
    PageSpec(
        "riskmap.ui.pages.exports",
        "Exports",
        ":material/download:",
        (Role.AUDITOR, Role.MANAGER, Role.OFFICER, Role.ADMIN),
        OVERSIGHT,
    ),
]


def roles_of(url_path: str) -> tuple[str, ...]:
    """Who may see the page at `url_path`: the one list a page's own `require` checks too."""
    for page in PAGES:
        if page.url_path == url_path:
            return page.roles
    raise KeyError(f"no page {url_path!r} in the registry")


def pages_for(role: str | None) -> list[PageSpec]:
    """The pages a user in `role` may open, in menu order."""
    return [p for p in PAGES if p.allows(role)]


def by_section(pages: list[PageSpec]) -> dict[str, list[PageSpec]]:
    """`pages` grouped by section: known sections in `SECTION_ORDER`, others after them in
    order of first appearance; pages keep their registry order within a section."""
    out: dict[str, list[PageSpec]] = {}
    for p in pages:
        out.setdefault(p.section, []).append(p)
    rank = {name: i for i, name in enumerate(SECTION_ORDER)}
    order = sorted(out, key=lambda s: (rank.get(s, len(rank)), list(out).index(s)))
    return {s: out[s] for s in order}


def home_for(role: str | None) -> PageSpec | None:
    """The page a user in `role` lands on."""
    pages = pages_for(role)
    wanted = HOME.get(role or "")
    return next((p for p in pages if p.url_path == wanted), pages[0] if pages else None)
