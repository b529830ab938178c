"""Related reports: same named person, computed from hashes, only among cases the viewer sees."""

from __future__ import annotations

from sqlalchemy.orm import Session
from support.caselist import related_world

from cases.access.related import related_cases, related_ids


def test_related_lists_visible_twins_and_marks_name_matches_as_possible(
    db_session: Session,
) -> None:
    """An exact twin is related, a name-only twin possibly related, another person not at all."""
    made = related_world(db_session)
    viewer = made.world.people[made.viewer].account

    found = {r.id: r.certain for r in related_cases(db_session, viewer, made.origin.id)}

    assert found == {made.visible_twin.id: True, made.by_name.id: False}


def test_a_related_case_the_viewer_may_not_see_is_neither_listed_nor_counted(
    db_session: Session,
) -> None:
    """The hidden twin appears in no related list, and flags no case as related."""
    made = related_world(db_session)
    viewer = made.world.people[made.viewer].account
    colleague = made.world.people["colleague@corp.example"].account

    listed = {r.id for r in related_cases(db_session, viewer, made.origin.id)}
    lonely = related_cases(db_session, viewer, made.lonely.id)
    flagged = related_ids(db_session, viewer, [made.lonely.id, made.origin.id, made.unrelated.id])
    seen_by_colleague = {r.id for r in related_cases(db_session, colleague, made.lonely.id)}

    assert made.hidden_twin.id not in listed
    assert lonely == []
    assert flagged == {made.origin.id}
    assert seen_by_colleague == {made.lonely_hidden.id}
