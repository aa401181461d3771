"""The management cluster's Clusters, MachineDeployments and Machines of
Magnum's bays, kept in memory by watching them.

One ``Watcher`` a process: a thread per kind lists the objects that carry
the label ``magnum.openstack.org/bay`` (in every namespace), then watches
them from the list's resourceVersion, each event updating the cache and
telling the subscribers which bay changed. A watch that ends (its
``[capi] watch_timeout``) is renewed from the last resourceVersion seen
(bookmarks keep it fresh); one that expired (410 Gone) or broke is followed
by a new list, and every bay whose objects the list changed is told.

The conductor subscribes: it acts on the bays it owns on the hash ring and
ignores the others, so when an owner dies its bays' new owners already
hold their objects (magnum/conductor/handlers/bay.py).
"""

import collections
import threading
import time

from kubernetes.client import exceptions as kube_exc
from kubernetes import watch as kube_watch
from oslo_config import cfg
from oslo_log import log as logging

from magnum.drivers.capi import kube

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

KINDS = (kube.CLUSTERS, kube.MACHINE_DEPLOYMENTS, kube.MACHINES)
_BACKOFF = (0.5, 1, 2, 5, 10)


def bay_of(obj):
    return ((obj.get('metadata') or {}).get('labels') or {}).get(
        kube.BAY_LABEL)


def _key(obj):
    meta = obj['metadata']
    return meta.get('namespace'), meta['name']


class Watcher:
    """Watches the three kinds; ``objects_of(bay uuid)`` answers from the
    cache once ``synced``."""

    def __init__(self):
        self._lock = threading.Lock()
        # {kind: {(namespace, name): object}}, {kind: {bay: set of keys}}
        self._objects = {kind: {} for kind in KINDS}
        self._by_bay = {kind: collections.defaultdict(set) for kind in KINDS}
        self._synced = {kind: False for kind in KINDS}
        self._subscribers = []
        self._stop = threading.Event()
        self._threads = []
        self._watches = {}

    # -- subscribers -------------------------------------------------------

    def subscribe(self, notify):
        with self._lock:
            self._subscribers.append(notify)
            first = not self._threads
            if first:
                # NOTE: an Event a run: threads of an earlier run that are
                # still reading their last event end on their own.
                self._stop = threading.Event()
                self._threads = [threading.Thread(
                    target=self._run, args=(kind, self._stop), daemon=True,
                    name='magnum-capi-watch-%s' % kind) for kind in KINDS]
        if first:
            for thread in self._threads:
                thread.start()

    def unsubscribe(self, notify):
        with self._lock:
            if notify in self._subscribers:
                self._subscribers.remove(notify)
            if self._subscribers or not self._threads:
                return
            threads, self._threads = self._threads, []
            self._stop.set()
            watches = list(self._watches.values())
        for watcher in watches:
            watcher.stop()
        for thread in threads:
            thread.join(timeout=0.5)
        with self._lock:
            for kind in KINDS:
                self._synced[kind] = False
                self._objects[kind].clear()
                self._by_bay[kind].clear()

    def _tell(self, bays):
        with self._lock:
            subscribers = list(self._subscribers)
        for bay in bays:
            if not bay:
                continue
            for notify in subscribers:
                try:
                    notify(bay)
                except Exception:
                    LOG.exception('A subscriber failed on bay %s', bay)

    # -- the cache ---------------------------------------------------------

    @property
    def synced(self):
        with self._lock:
            return bool(self._threads) and all(self._synced.values())

    def objects_of(self, bay_uuid):
        """(Cluster or None, [MachineDeployment], [Machine]) of the bay."""
        with self._lock:
            found = {kind: [self._objects[kind][key] for key in
                            self._by_bay[kind].get(bay_uuid, ())]
                     for kind in KINDS}
        clusters = found[kube.CLUSTERS]
        return (clusters[0] if clusters else None,
                found[kube.MACHINE_DEPLOYMENTS], found[kube.MACHINES])

    def bays(self):
        with self._lock:
            return {bay for kind in KINDS for bay in self._by_bay[kind]}

    def _put(self, kind, obj):
        key, bay = _key(obj), bay_of(obj)
        old = self._objects[kind].get(key)
        old_bay = bay_of(old) if old else None
        if old_bay and old_bay != bay:
            self._by_bay[kind][old_bay].discard(key)
        self._objects[kind][key] = obj
        if bay:
            self._by_bay[kind][bay].add(key)
        return {old_bay, bay}

    def _drop(self, kind, obj):
        key = _key(obj)
        old = self._objects[kind].pop(key, None)
        bay = bay_of(old or obj)
        if bay:
            keys = self._by_bay[kind].get(bay)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_bay[kind][bay]
        return {bay}

    # -- list and watch ----------------------------------------------------

    def _relist(self, kind):
        items, version = kube.list_objects(kind, kube.BAY_LABEL)
        with self._lock:
            old = self._objects[kind]
            fresh = {_key(item): item for item in items}
            changed = set()
            for key in set(old) | set(fresh):
                before, after = old.get(key), fresh.get(key)
                if before is None or after is None or (
                        before['metadata'].get('resourceVersion')
                        != after['metadata'].get('resourceVersion')):
                    changed |= {bay_of(before or {'metadata': {}}),
                                bay_of(after or {'metadata': {}})}
            self._objects[kind] = fresh
            by_bay = collections.defaultdict(set)
            for key, item in fresh.items():
                if bay_of(item):
                    by_bay[bay_of(item)].add(key)
            self._by_bay[kind] = by_bay
            self._synced[kind] = True
        self._tell(changed - {None})
        return version

    def _run(self, kind, stop):
        version, failures = None, 0
        while not stop.is_set():
            try:
                if version is None:
                    version = self._relist(kind)
                version = self._watch(kind, version, stop)
                failures = 0
            except _Expired:
                LOG.info('The watch of %s expired; listing again', kind)
                version = None
            except Exception as e:
                if stop.is_set():
                    break
                with self._lock:
                    self._synced[kind] = False
                delay = _BACKOFF[min(failures, len(_BACKOFF) - 1)]
                failures += 1
                LOG.warning('The watch of %s on the management cluster '
                            'broke (%s); listing again in %ss', kind,
                            kube.error_text(e) if isinstance(
                                e, kube_exc.ApiException) else e, delay)
                version = None
                stop.wait(delay)

    def _watch(self, kind, version, stop):
        """Watch from ``version`` until the server ends the watch; returns
        the last resourceVersion seen."""
        watcher = kube_watch.Watch()
        with self._lock:
            self._watches[kind] = watcher
        try:
            stream = watcher.stream(
                kube.custom().list_cluster_custom_object, kube.GROUP,
                kube.VERSION, kind, label_selector=kube.BAY_LABEL,
                resource_version=version, allow_watch_bookmarks=True,
                timeout_seconds=CONF.capi.watch_timeout,
                _request_timeout=CONF.capi.watch_timeout + 30)
            for event in stream:
                if stop.is_set():
                    break
                kind_of, obj = event['type'], event['object']
                if kind_of == 'ERROR':
                    if (obj or {}).get('code') == 410:
                        raise _Expired()
                    raise RuntimeError('watch error: %s'
                                       % (obj or {}).get('message'))
                meta = obj.get('metadata') or {}
                version = meta.get('resourceVersion') or version
                if kind_of == 'BOOKMARK':
                    continue
                with self._lock:
                    if kind_of == 'DELETED':
                        bays = self._drop(kind, obj)
                    else:
                        bays = self._put(kind, obj)
                self._tell(bays - {None})
        except kube_exc.ApiException as e:
            if e.status == 410:
                raise _Expired()
            raise
        finally:
            with self._lock:
                self._watches.pop(kind, None)
        return version


class _Expired(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


def wait_synced(watcher, timeout):
    """Wait up to ``timeout`` seconds for ``watcher`` to be synced."""
    deadline = time.monotonic() + timeout
    while not watcher.synced and time.monotonic() < deadline:
        time.sleep(0.05)
    return watcher.synced
