"""Policy enforcement with oslo.policy; the rules live in policies/."""

import functools
import inspect
import threading
import time

from oslo_config import cfg
from oslo_policy import _checks
from oslo_policy import policy

from magnum.common import exception
from magnum.common import policies

_ENFORCER = None


class Enforcer(policy.Enforcer):
    """oslo.policy's Enforcer, looking for changed policy files once a
    second, and safe to share between a worker's threads.

    NOTE: the stock one searches the config directories for the policy file
    and policy.d on every check (16 stat calls a request here); a policy
    file edited by an operator still takes effect within a second.

    NOTE: oslo.policy loads a policy file by replacing its rules with the
    file's and then adding the registered defaults one by one: a check on
    another thread in between finds no rule for, say,
    ``clustertemplate:create`` and falls to the default rule (a 403 that
    was seen on a fresh API's first concurrent requests). Loading and
    checking hold one lock; a check takes microseconds.
    """

    RECHECK_SECONDS = 1.0
    _next_check = 0.0

    def __init__(self, *args, **kwargs):
        self._lock = threading.RLock()
        super().__init__(*args, **kwargs)

    def load_rules(self, force_reload=False):
        with self._lock:
            now = time.monotonic()
            if not force_reload and self.rules and now < self._next_check:
                return
            super().load_rules(force_reload=force_reload)
            self._next_check = now + self.RECHECK_SECONDS

    def enforce(self, *args, **kwargs):
        with self._lock:
            return super().enforce(*args, **kwargs)


class _SignaturesOnce:
    """The ``inspect`` module as oslo.policy's check evaluation sees it,
    with the signature of each check class's ``__call__`` worked out once.

    NOTE: oslo.policy inspects the signature of every check it evaluates,
    on every evaluation, to know whether the check takes the rule's name:
    five a GET here, two thirds of the time its checks take. The
    signature is the class's (a bound method's includes ``self``, as its
    function's does), so the cache holds one entry a check class.
    """

    def __getattr__(self, name):
        return getattr(inspect, name)

    @staticmethod
    @functools.lru_cache(maxsize=256)
    def _of(function):
        return inspect.getfullargspec(function)

    def getfullargspec(self, func):
        function = getattr(func, '__func__', None)
        if function is None:
            return inspect.getfullargspec(func)
        return self._of(function)


def _cache_check_signatures():
    """Let oslo.policy inspect each check class's signature once (a later
    oslo.policy that no longer inspects keeps its own behaviour)."""
    if getattr(_checks, 'inspect', None) is inspect:
        _checks.inspect = _SignaturesOnce()


_CREATING = threading.Lock()


def get_enforcer():
    """The enforcer, created once; also the oslo.policy.enforcer hook.

    NOTE: published only once every rule is registered: a request on
    another thread that got it half-registered loaded the rules it found
    and was refused clustertemplate:create, whose rule names
    baymodel:create, not registered yet (a 403 on a fresh API's first
    concurrent requests).
    """
    global _ENFORCER
    if _ENFORCER is None:
        with _CREATING:
            if _ENFORCER is None:
                _cache_check_signatures()
                enforcer = Enforcer(cfg.CONF)
                enforcer.register_defaults(policies.list_rules())
                _ENFORCER = enforcer
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None


def _creds(context):
    """The context's policy values, worked out once per request.

    NOTE: oslo.policy rebuilds them from the context on every check; they
    change only with is_admin, which the API sets once.
    """
    cached = getattr(context, '_magnum_policy_creds', None)
    if cached is None or cached[0] != context.is_admin:
        cached = (context.is_admin, context.to_policy_values())
        context._magnum_policy_creds = cached
    return cached[1]


def _target(context, target):
    if target is None:
        target = {'project_id': context.project_id,
                  'user_id': context.user_id}
    return target


def authorize(context, action, target=None):
    """Raise PolicyNotAuthorized unless ``context`` may do ``action``.

    ``target`` is the row's project and user; by default the caller's own.
    """
    return get_enforcer().authorize(
        action, _target(context, target), _creds(context),
        do_raise=True, exc=exception.PolicyNotAuthorized, action=action)


def check(context, action, target=None):
    """True if ``context`` may do ``action``; never raises."""
    return get_enforcer().authorize(action, _target(context, target),
                                    _creds(context), do_raise=False)
