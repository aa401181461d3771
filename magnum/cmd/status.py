"""magnum-status: is this installation ready to run?

``magnum-status upgrade check`` reads the configuration the services read
and runs the checks below through oslo.upgradecheck, which prints one row a
check (``--json`` for a machine) and exits with the worst result: 0 when
everything passed, 1 for a warning worth a look, 2 for a failure to fix
before the services start (255 when a check itself crashed).

Run it after ``magnum-db-manage upgrade`` and before restarting the
services, and again once they run. It only reads: the database, the policy
file, one login to each RabbitMQ host; it writes nothing anywhere.
"""

import os
import re
import ssl
import sys

from alembic import script as alembic_script
import kombu
from oslo_config import cfg
import oslo_messaging as messaging
from oslo_upgradecheck import upgradecheck
from oslo_utils import timeutils
from sqlalchemy.engine import url as sa_url

from magnum.cmd import service
from magnum.common import exception
from magnum.common import keystore
from magnum.common import policy
from magnum.conductor import rpc
from magnum import conf  # noqa: F401  (registers every option)
from magnum.db import migration
from magnum.objects import magnum_service

CONF = cfg.CONF
Code = upgradecheck.Code
Result = upgradecheck.Result

# Seconds one RabbitMQ host may take to accept a login.
BROKER_TIMEOUT = 3
RABBIT_PORT = 5672

# The "user:password@" of a URL, wherever an error's text repeats one.
_CREDENTIALS = re.compile(r'([/,][^:/@,\s]*):[^@\s/]*@')
_OPERATOR_SET = (cfg.Locations.user, cfg.Locations.command_line,
                 cfg.Locations.environment)


def _reason(error, *secrets):
    """An error's first line, with no password left in it."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    text = _CREDENTIALS.sub(r'\1:***@', text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, '***')
    return text


def _fix(problem, fix):
    return '%s. %s' % (str(problem).rstrip('.'), fix)


def _operator_set(name, group):
    """True if a configuration file, the command line or the environment
    gave the option a value (not a default)."""
    location = CONF.get_location(name, group)
    return location is not None and location.location in _OPERATOR_SET


def _database_url():
    """[database] connection parsed, or None if it is not a URL."""
    try:
        return sa_url.make_url(CONF.database.connection)
    except Exception:  # the database check says what is wrong with it
        return None


def _missing_sqlite_file(url):
    """The path of a SQLite database file that does not exist, or None.

    NOTE: SQLite would make an empty file on connecting; a check changes
    nothing.
    """
    if url is None or url.get_backend_name() != 'sqlite':
        return None
    path = url.database
    if not path or path == ':memory:' or path.startswith('file:'):
        return None
    return None if os.path.exists(path) else path


def _revisions():
    """This code's alembic revisions: the newest, and every one known."""
    scripts = alembic_script.ScriptDirectory.from_config(migration._config())
    return (scripts.get_current_head(),
            {script.revision for script in scripts.walk_revisions()})


def _host_port(host):
    name = host.hostname or 'localhost'
    if ':' in name:
        name = '[%s]' % name
    return '%s:%d' % (name, host.port or RABBIT_PORT)


def _rabbit_ssl(host):
    """kombu's ``ssl`` argument from [oslo_messaging_rabbit]."""
    options = CONF.oslo_messaging_rabbit
    if not options.ssl:
        return False
    files = {'ca_certs': options.ssl_ca_file,
             'certfile': options.ssl_cert_file,
             'keyfile': options.ssl_key_file}
    params = {key: value for key, value in files.items() if value}
    if options.ssl_ca_file:
        params['cert_reqs'] = ssl.CERT_REQUIRED
        params['server_hostname'] = host.hostname
    return params or True


def _amqp_login(url, host):
    """Log in to one RabbitMQ host once, within BROKER_TIMEOUT seconds."""
    broker = kombu.Connection(
        hostname=host.hostname or 'localhost', port=host.port or RABBIT_PORT,
        userid=host.username, password=host.password,
        virtual_host=url.virtual_host or '/', ssl=_rabbit_ssl(host),
        transport='pyamqp', connect_timeout=BROKER_TIMEOUT)
    try:
        # NOTE: max_retries=0 is one attempt; connect() tries twice, with a
        # two-second pause between.
        broker.ensure_connection(max_retries=0)
    finally:
        broker.release()


def _heartbeat(row, now):
    """How a conductor's record reads to an operator."""
    if row.forced_down:
        return '%s (stopped)' % row.host
    seen = row.last_seen_up or row.updated_at or row.created_at
    if seen is None:
        return '%s (no heartbeat)' % row.host
    age = (now - seen.replace(tzinfo=None)).total_seconds()
    return '%s (last heartbeat %d s ago)' % (row.host, age)


class Checks(upgradecheck.UpgradeCommands):
    """The checks of ``magnum-status upgrade check``, in the order run."""

    def check(self):
        _settle()
        return super().check()

    def _database(self):
        """The database answers and is at this code's newest revision."""
        try:
            url = sa_url.make_url(CONF.database.connection)
        except Exception as e:
            return Result(Code.FAILURE, _fix(
                '[database] connection is not a database URL: %s'
                % _reason(e), 'Correct it in the configuration file.'))
        shown = url.render_as_string(hide_password=True)
        missing = _missing_sqlite_file(url)
        if missing:
            return Result(Code.FAILURE, _fix(
                'There is no SQLite database at %s' % missing,
                'Create it with `magnum-db-manage upgrade` (magnum-all '
                'creates its own when it starts).'))
        # NOTE: any failure here (a server down, a wrong password, a driver
        # not installed) is one to report, not a traceback.
        try:
            current = migration.version()
        except Exception as e:
            return Result(Code.FAILURE, _fix(
                'Cannot read the database %s: %s'
                % (shown, _reason(e, url.password)),
                'Check [database] connection, and that the database server '
                'runs and lets this user in.'))
        head, known = _revisions()
        if current == head:
            return Result(Code.SUCCESS, 'The database %s is at revision %s, '
                                        'the newest.' % (shown, head))
        if current is None:
            return Result(Code.FAILURE, _fix(
                'The database %s has no schema (no revision); this Magnum '
                'needs revision %s' % (shown, head),
                'Create it with `magnum-db-manage upgrade`.'))
        if current not in known:
            return Result(Code.FAILURE, _fix(
                'The database %s is at revision %s, which this Magnum does '
                'not know (its newest is %s): a newer Magnum migrated it'
                % (shown, current, head),
                'Run the Magnum release that did.'))
        return Result(Code.FAILURE, _fix(
            'The database %s is at revision %s; this Magnum needs revision '
            '%s' % (shown, current, head),
            'Run `magnum-db-manage upgrade` before starting the services.'))

    def _encryption_key(self):
        """With Keystone, the key that encrypts the bays' private keys."""
        if (CONF.auth_strategy != 'keystone'
                and not CONF.certificates.encryption_key):
            # NOTE: keystore.check() would make the all-in-one's key file.
            return Result(Code.SUCCESS, (
                'auth_strategy is %s: without [certificates] encryption_key '
                'the all-in-one keeps a random key of its own in '
                '$state_path/%s.' % (CONF.auth_strategy, keystore.KEY_FILE)))
        try:
            keystore.check()
        except exception.MagnumException as e:
            return Result(Code.FAILURE, _fix(e, (
                'Set [certificates] encryption_key to a string of at least '
                '%d characters (for example the output of `openssl rand '
                '-base64 32`), the same on every conductor; '
                'previous_encryption_keys need as many.'
                % keystore.MIN_KEY_CHARS)))
        return Result(Code.SUCCESS, '[certificates] encryption_key is set '
                                    '(auth_strategy is %s).'
                      % CONF.auth_strategy)

    def _policy_file(self):
        """A policy file, if there is one, loads."""
        enforcer = policy.get_enforcer()
        name = CONF.oslo_policy.policy_file
        # NOTE: whatever is wrong in an operator's file (unreadable, not
        # YAML, not a mapping) is a failure to report, not a traceback.
        try:
            enforcer.load_rules(force_reload=True)
        except Exception as e:
            return Result(Code.FAILURE, _fix(
                'The policy file %s does not load: %s'
                % (enforcer.policy_path or name, _reason(e)),
                'Make it readable by the services\' user and valid YAML '
                '(etc/magnum/policy.yaml.sample shows every rule).'))
        path = enforcer.policy_path
        if path is None and _operator_set('policy_file', 'oslo_policy'):
            return Result(Code.WARNING, _fix(
                '[oslo_policy] policy_file = %s is not found (a relative '
                'path is looked for next to the configuration files and in '
                '/etc/magnum); the built-in rules apply' % name,
                'Correct the path, or remove the option if the built-in '
                'rules are meant.'))
        if path is None:
            return Result(Code.SUCCESS, 'No policy file (%s): the built-in '
                                        'rules apply.' % name)
        # NOTE: oslo.policy reads a file it cannot open (but for a denied
        # permission) as an empty one, and only logs why.
        if not os.path.isfile(path):
            return Result(Code.FAILURE, _fix(
                'The policy file %s is not a file; the built-in rules apply'
                % path, 'Point [oslo_policy] policy_file at the policy file '
                        '(policy_dirs takes directories).'))
        if not enforcer.check_rules():
            return Result(Code.WARNING, _fix(
                'The policy in %s refers to rules that are not defined, or '
                'that refer to each other in a loop (standard error names '
                'them)' % path,
                'Correct those rules (etc/magnum/policy.yaml.sample shows '
                'every rule).'))
        return Result(Code.SUCCESS, 'The policy file %s loads (%d rules).'
                      % (path, len(enforcer.file_rules)))

    def _rpc_transport(self):
        """The API and the conductors can reach RabbitMQ."""
        try:
            url = messaging.TransportURL.parse(CONF)
            # Loads the driver (and its options) as the services do.
            messaging.get_rpc_transport(CONF).cleanup()
        except messaging.MessagingException as e:
            return Result(Code.FAILURE, _fix(
                '[DEFAULT] transport_url is not usable: %s' % _reason(e),
                'Correct it (rabbit://USER:PASS@HOST:5672/).'))
        if url.transport == 'fake':
            return Result(Code.SUCCESS, (
                'transport_url is fake://, the in-process transport: the API '
                'and the conductor reach each other only inside one process '
                '(magnum-all).'))
        if url.transport not in ('rabbit', 'kombu'):
            return Result(Code.WARNING, (
                'magnum-status tries only RabbitMQ (rabbit://); the %s:// '
                'transport is not checked.' % url.transport))
        hosts = url.hosts or [messaging.TransportHost(hostname=None)]
        down = []
        for host in hosts:
            # NOTE: any failure (refused, timed out, login refused, TLS)
            # is what the check reports.
            try:
                _amqp_login(url, host)
            except Exception as e:
                down.append('%s (%s)' % (_host_port(host),
                                         _reason(e, host.password)))
        if not down:
            return Result(Code.SUCCESS, 'RabbitMQ accepted a login at %s.'
                          % ', '.join(_host_port(h) for h in hosts))
        fix = ('Check that RabbitMQ runs there and that the user, password '
               'and virtual host of [DEFAULT] transport_url exist on it '
               '(rabbitmqctl list_users, list_permissions).')
        if len(down) < len(hosts):
            return Result(Code.WARNING, _fix(
                'Could not log in to RabbitMQ at %s (%d s allowed a host); '
                'the services use the other hosts'
                % (', '.join(down), BROKER_TIMEOUT),
                fix))
        return Result(Code.FAILURE, _fix(
            'Could not log in to RabbitMQ at %s (%d s allowed a host)'
            % (', '.join(down), BROKER_TIMEOUT), fix))

    def _conductors(self):
        """At least one conductor heartbeats within service_down_time."""
        missing = _missing_sqlite_file(_database_url())
        if missing:
            return Result(Code.FAILURE, _fix(
                'Cannot read the conductors\' heartbeats: there is no SQLite '
                'database at %s' % missing, 'See the database check.'))
        try:
            rows = magnum_service.MagnumService.conductors()
        except Exception as e:
            return Result(Code.FAILURE, _fix(
                'Cannot read the conductors\' heartbeats: %s'
                % _reason(e, getattr(_database_url(), 'password', None)),
                'See the database check.'))
        if not rows:
            return Result(Code.WARNING, (
                'No magnum-conductor has registered yet; nothing builds, '
                'changes or deletes bays until one runs. Start '
                'magnum-conductor (it registers as it starts).'))
        now = timeutils.utcnow()
        down_time = CONF.conductor.service_down_time
        live, down, disabled = [], [], []
        for row in rows:
            if magnum_service.state_of(row, now, down_time) == (
                    magnum_service.DOWN):
                down.append(row)
            elif row.disabled:
                disabled.append(row)
            else:
                live.append(row)
        if not live:
            idle = [_heartbeat(row, now) for row in down]
            idle += ['%s (disabled)' % row.host for row in disabled]
            return Result(Code.FAILURE, _fix(
                'No conductor is up (a heartbeat within [conductor] '
                'service_down_time, %d s, and not disabled): %s'
                % (down_time, ', '.join(idle)),
                'Start magnum-conductor on one of these hosts and read its '
                'log; until one is up, nothing builds, changes or deletes '
                'bays.'))
        # NOTE: a disabled conductor that is down is one an operator
        # retired; it is not reported again.
        down = [row for row in down if not row.disabled]
        hosts = 'Up: %s.' % ', '.join(row.host for row in live)
        if disabled:
            hosts += ' Disabled: %s.' % ', '.join(r.host for r in disabled)
        if down:
            return Result(Code.WARNING, _fix(
                'Down (no heartbeat within [conductor] service_down_time, '
                '%d s): %s; the conductors up took over their bays. %s'
                % (down_time, ', '.join(_heartbeat(row, now) for row in down),
                   hosts),
                'Restart magnum-conductor there or, for a host gone for '
                'good, disable its record (PATCH /v1/mservices/<id> with '
                'disabled true) so it is not reported again.'))
        return Result(Code.SUCCESS, hosts)

    _upgrade_checks = (
        ('Database schema', _database),
        ('Certificate encryption key', _encryption_key),
        ('Policy file', _policy_file),
        ('RPC transport', _rpc_transport),
        ('Conductors', _conductors),
    )


def _settle():
    """What magnum's commands do once the command line is read (which
    upgradecheck.main does just before it runs the checks)."""
    service._production_auth_default()
    # NOTE: magnum-all's defaults: with no configuration file the checks
    # look at the all-in-one.
    if not CONF.config_file and not CONF.config_dir:
        rpc.set_default_url('fake:///')
    # NOTE: oslo.db tries a database it cannot reach [database] max_retries
    # times, retry_interval apart (100 s by default, for ever with -1); a
    # check answers at once.
    CONF.set_override('max_retries', 0, 'database')


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return upgradecheck.main(CONF, 'magnum', Checks(), argv)
