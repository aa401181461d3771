"""Where the suite's minutes go: a short report at the end of every run.

After pytest's own summary (and its ``--durations`` list) this prints:

- the wall-clock time of the run and the peak one-minute load average,
  read every few seconds while it ran (``/proc/loadavg``);
- the seconds spent per marker (``unit`` for everything under
  ``tests/unit``; the functional markers of ``tox.ini``: ``postgresql``,
  ``heat``, ``faults``, ``horizon``...), set-up and tear-down included. A
  test with several markers counts under each, so the lines overlap; with
  ``-n`` (pytest-xdist) they add the workers' seconds, which can exceed the
  wall clock;
- the seconds per functional module, the slowest first.

It changes nothing of what runs; ``--no-magnum-durations`` leaves it out.
"""

import collections
import os
import sys
import threading
import time

import pytest

_SAMPLE_SECONDS = 5


class _LoadSampler(threading.Thread):
    """Reads the one-minute load average every few seconds; keeps the peak.
    """

    def __init__(self):
        super().__init__(name='load-sampler', daemon=True)
        self.peak = 0.0
        self._stop = threading.Event()

    def sample(self):
        try:
            self.peak = max(self.peak, os.getloadavg()[0])
        except OSError:
            pass

    def run(self):
        while not self._stop.wait(_SAMPLE_SECONDS):
            self.sample()

    def stop(self):
        self._stop.set()
        self.sample()


class DurationReport:
    """The plugin: sums reports as they arrive (in the xdist controller
    too, where workers' reports are replayed), prints at the end."""

    def __init__(self, config):
        self.markers = {line.split(':', 1)[0].strip()
                        for line in config.getini('markers')}
        self.markers.add('unit')
        self.by_marker = collections.Counter()
        self.by_module = collections.Counter()
        self.started = time.monotonic()
        self.sampler = _LoadSampler()
        self.sampler.start()

    def pytest_runtest_logreport(self, report):
        seconds = getattr(report, 'duration', 0.0) or 0.0
        path = report.nodeid.split('::', 1)[0]
        # NOTE: the registered markers only; a test's other keywords (its
        # name, module, parametrize ids) get no line.
        names = set(report.keywords) & self.markers
        if '/unit/' in path:
            names.add('unit')
        for name in names or ('(no marker)',):
            self.by_marker[name] += seconds
        if '/unit/' not in path:
            self.by_module[path.rsplit('/', 1)[-1]] += seconds
        else:
            self.by_module['(unit tests)'] += seconds

    # NOTE: last, so the report closes the output, after --durations.
    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter):
        self.sampler.stop()
        wall = time.monotonic() - self.started
        write = terminalreporter.write_line
        terminalreporter.section('where the time went')
        write('wall clock %s; peak load average %.1f on %d cores' % (
            _minutes(wall), self.sampler.peak, os.cpu_count() or 0))
        write('per marker (set-up and tear-down included; a test counts '
              'under each of its markers):')
        for name, seconds in self.by_marker.most_common():
            write('  %-14s %s' % (name, _minutes(seconds)))
        write('per module, the slowest first:')
        for name, seconds in self.by_module.most_common(15):
            write('  %-36s %s' % (name, _minutes(seconds)))


def _minutes(seconds):
    return '%dm%04.1fs' % divmod(seconds, 60)


def pytest_addoption(parser):
    parser.addoption('--no-magnum-durations', action='store_true',
                     help='leave out the per-marker time report')


def pytest_configure(config):
    if config.getoption('--no-magnum-durations'):
        return
    # NOTE: in an xdist worker the controller prints; a worker's report
    # would be lost anyway.
    if hasattr(config, 'workerinput'):
        return
    config.pluginmanager.register(DurationReport(config),
                                  'magnum_durations')


# -- pytest-xdist: which tests go to one worker together ---------------------

# NOTE: each xdist worker has a session of its own, so a Heat of its own.
# The Heat bay module, the node-group module and the fault test are the
# longest stretches of the run (Heat's engine is the slowest part of them),
# each on a worker of its own: one Heat more than sharing would start, and
# a chain a third as long as the three in a row. They are handed out first,
# the longest first (see README).
# Modules that share a worker: the session's Glance, Nova API and
# neutron-server start once for the Heat bays on Neutron and the checks
# against the cloud.
_GROUPS = {'test_cloud_services.py': 'cloud',
           'test_cloud_checks.py': 'cloud',
           'test_heat_bays.py': 'cloud'}
_FIRST = ('cloud', 'test_heat_nodegroups.py', 'test_conductors.py')


def _group(item):
    """The xdist group of a functional test: its module's, or the one
    ``_GROUPS`` names; None for a unit test (spread one by one)."""
    path = item.nodeid.split('::', 1)[0]
    if '/functional/' not in path:
        return None
    module = path.rsplit('/', 1)[-1]
    return _GROUPS.get(module, module)


# NOTE: a wrapper, whose part before ``yield`` runs before every other
# plugin's hook: xdist's own (in each worker) reads the groups.
@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Marks every unit test ``unit``. With ``--dist loadgroup``, each
    functional module goes to one worker whole (its module-scoped Magnum,
    Docker Engine... start once), the slowest first; unit tests are spread
    one by one.
    """
    for item in items:
        if '/unit/' in item.nodeid.split('::', 1)[0]:
            item.add_marker(pytest.mark.unit)
    # NOTE: a worker sees --dist as "no" and xdist's own "loadgroup" flag.
    if (getattr(config.option, 'loadgroup', False)
            or getattr(config.option, 'dist', 'no') == 'loadgroup'):
        for item in items:
            group = _group(item)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))
        first = [i for i in items if _group(i) in _FIRST]
        first.sort(key=lambda i: _FIRST.index(_group(i)))
        rest = [i for i in items if _group(i) not in _FIRST]
        items[:] = first + rest
    return (yield)


def pytest_unconfigure(config):
    base = sys.modules.get('magnum.tests.base')
    if base is not None:
        base.remove_schema()
