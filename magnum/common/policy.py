"""Policy enforcement with oslo.policy; the rules live in policies/."""

from oslo_config import cfg
from oslo_policy import policy

from magnum.common import exception
from magnum.common import policies

_ENFORCER = None


def get_enforcer():
    """The enforcer, created once; also the oslo.policy.enforcer hook."""
    global _ENFORCER
    if _ENFORCER is None:
        _ENFORCER = policy.Enforcer(cfg.CONF)
        _ENFORCER.register_defaults(policies.list_rules())
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None


def authorize(context, action, target=None):
    """Raise PolicyNotAuthorized unless ``context`` may do ``action``.

    ``target`` is the row's project and user; by default the caller's own.
    """
    if target is None:
        target = {'project_id': context.project_id,
                  'user_id': context.user_id}
    return get_enforcer().authorize(
        action, target, context,
        do_raise=True, exc=exception.PolicyNotAuthorized, action=action)


def check(context, action, target=None):
    """True if ``context`` may do ``action``; never raises."""
    if target is None:
        target = {'project_id': context.project_id,
                  'user_id': context.user_id}
    return get_enforcer().authorize(action, target, context, do_raise=False)
