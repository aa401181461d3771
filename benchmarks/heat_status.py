#!/usr/bin/env python3
"""Heat bay status: Heat's notifications against the reconcile pass alone.

On the real Heat engine (``tools/heat.sh``'s virtualenv; Keystone from
``tools/keystone.sh``), in one run: two Magnums (API and one conductor
each, a database each) on the same Heat, the same ``[conductor]
periodic_interval`` (10 s by default): one hears Heat's notifications,
the other listens on an exchange nobody sends to, so only its reconcile
pass follows its bays. Each creates ``--bays`` docker bays of one node
(the tests' instant server stand-in) at once; for each bay, the time from
Heat showing its stack CREATE_COMPLETE to the API showing the bay so,
both watched side by side every 0.1 s (``heat_status.follow``).

    .venv/bin/python benchmarks/heat_status.py [--bays 10]
        [--periodic-interval 10] [--timeout 600]

Prints the median, p90 and max of each mode and their ratio.
"""

import argparse
from concurrent import futures
import os
import statistics
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
warnings.simplefilter('ignore')

from magnum.tests.functional import heat as heat_mod  # noqa: E402
from magnum.tests.functional import heat_status  # noqa: E402
from magnum.tests.functional import keystone as keystone_mod  # noqa: E402
from magnum.tests.functional import processes  # noqa: E402


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _row(name, lags):
    return '%-22s %3d  %8.2f  %8.2f  %8.2f' % (
        name, len(lags), statistics.median(lags), _percentile(lags, 0.9),
        max(lags))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bays', type=int, default=10,
                        help='bays a mode, created at once (default 10)')
    parser.add_argument('--periodic-interval', type=int, default=10,
                        help="both Magnums' [conductor] periodic_interval "
                             '(default 10, the production default)')
    parser.add_argument('--timeout', type=int, default=600,
                        help='seconds for the bays of a mode to complete')
    args = parser.parse_args()

    started = time.monotonic()
    with processes.running(keystone_mod.Keystone()) as keystone, \
            processes.running(heat_mod.Heat(keystone)) as heat, \
            heat_status.deployment(keystone, heat,
                                   args.periodic_interval) as heard, \
            heat_status.deployment(keystone, heat, args.periodic_interval,
                                   hear=False) as deaf:
        sys.stderr.write('Keystone, Heat and two Magnums up in %.0f s\n'
                         % (time.monotonic() - started))
        project = processes.unique_name('status-project')
        name = processes.unique_name('status')
        password = processes.unique_name('pw')
        keystone.create_user(name, password,
                             keystone.create_project(project), ['member'])
        token = keystone.token_for(name, password, project)
        apis = {mode: processes.Client(magnum, headers={
            'X-Auth-Token': token}) for mode, magnum in (
                ('notifications', heard), ('poll alone', deaf))}
        magnums = {'notifications': heard, 'poll alone': deaf}
        # NOTE: both modes' bays at once, so Heat's load is the same.
        uuids = {mode: heat_status.create(
            api, heat_status.baymodel(api), args.bays)
            for mode, api in apis.items()}
        times = _follow_both(keystone, apis, magnums, uuids, args.timeout)
        lags = {mode: heat_status.lags(times[mode]) for mode in apis}
        for api in apis.values():
            api.close()
    print('%-22s %3s  %8s  %8s  %8s' % ('mode', 'n', 'p50 s', 'p90 s',
                                        'max s'))
    for mode, values in lags.items():
        print(_row(mode, values))
    fast, slow = lags['notifications'], lags['poll alone']
    print('poll alone / notifications: p50 %.1fx  p90 %.1fx' % (
        statistics.median(slow) / max(statistics.median(fast), 0.001),
        _percentile(slow, 0.9) / max(_percentile(fast, 0.9), 0.001)))
    print('target: p90 < 1 s with notifications: %.2f s, %s' % (
        _percentile(fast, 0.9),
        'met' if _percentile(fast, 0.9) < 1 else 'NOT met'))
    return 0


def _follow_both(keystone, apis, magnums, uuids, timeout):
    """Both modes' bays watched at once, a thread (and Heat client) each,
    so neither waits for the other's."""
    modes = list(apis)
    with futures.ThreadPoolExecutor(len(modes)) as pool:
        found = pool.map(lambda mode: heat_status.follow(
            apis[mode], magnums[mode], heat_mod.client(keystone),
            uuids[mode], timeout), modes)
        return dict(zip(modes, found))


if __name__ == '__main__':
    sys.exit(main())
