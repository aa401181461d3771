"""Declarative periodic tasks.

``@periodic()`` marks a method to run every interval; ``@for_each_bay(...)``
marks one to run once for each bay in the given statuses that the conductor
owns on the hash ring, under that bay's lock. The interval is an option name
of the [conductor] group, read when the service starts, not at import.
"""

from futurist import periodics
from oslo_config import cfg
from oslo_log import log as logging

from magnum.common import context as magnum_context
from magnum.common import exception
from magnum.conductor import locks
from magnum.objects import bay as bay_obj

LOG = logging.getLogger(__name__)
_MARK = '_magnum_periodic'


def periodic(interval_option='periodic_interval'):
    def decorate(method):
        setattr(method, _MARK, {'option': interval_option, 'statuses': None})
        return method
    return decorate


def for_each_bay(statuses, interval_option='periodic_interval'):
    def decorate(method):
        setattr(method, _MARK, {'option': interval_option,
                                'statuses': tuple(statuses)})
        return method
    return decorate


def _run_for_each_bay(method, statuses, host, rings):
    def run():
        context = magnum_context.make_admin_context()
        ring = rings.get() if rings is not None else None
        for bay in bay_obj.Bay.list_by_status(context, statuses):
            if ring is not None and not ring.owns(host, bay.uuid):
                continue  # another conductor's
            try:
                with locks.bay_lock(context, bay.uuid, host) as locked:
                    if locked.status in statuses:
                        method(context, locked)
            except (exception.BayLocked, exception.BayNotFound):
                continue  # someone else is on it, or it is gone
            except Exception:
                LOG.exception('Periodic %s failed for bay %s',
                              method.__name__, bay.uuid)
    run.__name__ = method.__name__
    return run


def _guarded(method):
    def run():
        try:
            method()
        except Exception:
            LOG.exception('Periodic %s failed', method.__name__)
    run.__name__ = method.__name__
    return run


def collect(host, *owners, rings=None):
    """The (callable, args, kwargs) list for a futurist PeriodicWorker.

    ``rings`` (a ``hash_ring.RingCache``) limits ``for_each_bay`` tasks to
    the bays that ``host`` owns; None: every bay.
    """
    tasks = []
    for owner in owners:
        for name in dir(owner):
            method = getattr(owner, name)
            spec = getattr(method, _MARK, None)
            if spec is None:
                continue
            spacing = getattr(cfg.CONF.conductor, spec['option'])
            if spec['statuses'] is None:
                body = _guarded(method)
            else:
                body = _run_for_each_bay(method, spec['statuses'], host,
                                         rings)
            task = periodics.periodic(spacing, run_immediately=True)(body)
            tasks.append((task, (), {}))
    return tasks


def make_worker(host, *owners, rings=None):
    return periodics.PeriodicWorker(collect(host, *owners, rings=rings))
