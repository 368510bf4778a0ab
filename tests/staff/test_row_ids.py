"""The console's pages that name a row by its id (takeovers, validations, staff accounts): an id
no row can have is a 404 page for a logged-in administrator, never a 500 (issue 9)."""

from __future__ import annotations

import re

import pytest

from tests.portal.support import Portal
from tests.portal.test_row_ids import ID_ROUTES, NO_ROW
from tests.staff.support import StaffBrowser

STAFF_ID_ROUTES = [(method, path) for method, path in ID_ROUTES if path.startswith("/staff/")]


def test_the_console_pages_with_ids_are_all_covered() -> None:
    prefixes = {"/staff/reprises/", "/staff/validations/", "/staff/administration/comptes/"}
    assert {
        prefix for prefix in prefixes for _m, path in STAFF_ID_ROUTES if path.startswith(prefix)
    } == prefixes


@pytest.mark.parametrize(("method", "template"), STAFF_ID_ROUTES)
async def test_an_id_no_row_can_have_is_not_found(
    portal: Portal, admin: StaffBrowser, method: str, template: str
) -> None:
    for segment in NO_ROW:
        path = re.sub(r"<\w+:id>", segment, template)
        if method == "GET":
            response = await admin.client.get(path)
        else:
            response = await admin.post(path, {"role": "agent", "message": "Bonjour"})
        assert response.status_code == 404, (method, path, response.text[:200])
        assert "Page introuvable" in response.text


@pytest.mark.parametrize("cursor", ["apres", "avant"])
async def test_a_list_cursor_no_row_can_have_is_a_400(
    portal: Portal, admin: StaffBrowser, cursor: str
) -> None:
    """The conversation list's page cursors are row ids too (PostgreSQL answered 500)."""
    for segment in [str(2**31), str(10**17), "0", "-1", "\u0663"]:
        response = await admin.client.get(f"/staff/conversations?{cursor}={segment}")
        assert response.status_code == 400, (cursor, segment)
        assert "Page inconnue" in response.text
    assert (await admin.client.get(f"/staff/conversations?{cursor}=1")).status_code == 200
