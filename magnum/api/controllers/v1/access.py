"""Fetch, then authorize: how a handler reaches the row it acts on.

NOTE: the row is read first, in the caller's scope (its project's rows; an
administrator's, any by UUID), and the policy is checked against the row's
own project and user. So a row the caller cannot see is a 404, never a 403
that would tell it the row exists; a 403 is for a row it can see but may
not do this to.
"""

from magnum.common import policy


def target(owner):
    """The policy target of ``owner`` (a row, or a request context)."""
    return {'project_id': owner.project_id, 'user_id': owner.user_id}


def fetch_authorized(context, getter, ident, rule, owner=None):
    """``getter(context, ident)``, once ``context`` may ``rule`` it.

    ``owner(found)``: whose project and user the rule is checked against,
    where that is not the row itself.
    """
    found = getter(context, ident)
    policy.authorize(context, rule,
                     target(found if owner is None else owner(found)))
    return found
