#!/usr/bin/env python3
"""Magnum's Heat agent: runs the software deployments Heat has for this
server, and tells Heat how they went.

fragments/install-heat-agent.sh installs it at first boot on the servers
of a bay with TLS, and a systemd timer runs one pass every 30 seconds.
It speaks the protocol of os-collect-config's "heat" collector and
heat-config's "script" hook, for what Magnum's templates use (the
certificates deployment of common/server.yaml):

* the server's own credentials are those Heat wrote into its boot data
  (user_data_format SOFTWARE_CONFIG, software_config_transport
  POLL_SERVER_HEAT): the "os-collect-config" "heat" section of
  /var/lib/heat-cfntools/cfn-init-data;
* with them it reads the server's metadata from Heat's API, whose
  "deployments" are the configurations to run;
* a deployment of group "script" not run here before is run as a script,
  its inputs in the environment, and its outcome (stdout, stderr, exit
  status) signalled to its resource with the deployment's own credentials
  (signal_transport HEAT_SIGNAL); Heat fails the deployment on a non-zero
  status.

Python 3's standard library only, so every image with python3 runs it.
Passwords and the scripts' text (the certificates' keys) are never
printed; a script's own output goes back to Heat, so the scripts must
not print keys either.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

CREDENTIALS = '/var/lib/heat-cfntools/cfn-init-data'
STATE_DIR = '/var/lib/magnum/heat-agent'
SCRIPT_TIMEOUT = 1800
HTTP_TIMEOUT = 60
# Heat keeps a deployment's output; the end of a long one is what matters.
OUTPUT_LIMIT = 32768


class AgentError(Exception):
    pass


def log(message):
    sys.stderr.write('magnum-heat-agent: %s\n' % message)


def _call(method, url, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header('Accept', 'application/json')
    if data is not None:
        request.add_header('Content-Type', 'application/json')
    if token:
        request.add_header('X-Auth-Token', token)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
            raw = answer.read()
            return answer.headers, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raise AgentError('%s %s: %s' % (method, url.split('?')[0], e.code))
    except (urllib.error.URLError, OSError) as e:
        raise AgentError('%s %s: %s' % (method, url.split('?')[0], e))


def authenticate(auth_url, user_id, password, project_id, region=None):
    """A token of the user, scoped to the project, and the public
    orchestration endpoint of its catalog (in ``region`` when named)."""
    url = auth_url.rstrip('/')
    if not url.endswith('/v3'):
        url += '/v3'
    headers, body = _call('POST', url + '/auth/tokens', {'auth': {
        'identity': {'methods': ['password'], 'password': {
            'user': {'id': user_id, 'password': password}}},
        'scope': {'project': {'id': project_id}}}})
    token = headers['X-Subject-Token']
    for service in body['token'].get('catalog') or ():
        if service.get('type') != 'orchestration':
            continue
        for endpoint in service.get('endpoints') or ():
            if endpoint.get('interface') != 'public':
                continue
            if region and region not in (endpoint.get('region_id'),
                                         endpoint.get('region')):
                continue
            return token, endpoint['url'].rstrip('/')
    raise AgentError('no orchestration endpoint in the catalog')


def credentials(path=CREDENTIALS):
    """The "heat" section Heat gave this server, or None."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    heat = (data.get('os-collect-config') or {}).get('heat') or {}
    if not all(heat.get(k) for k in ('auth_url', 'user_id', 'password',
                                      'project_id', 'stack_id',
                                      'resource_name')):
        return None
    return heat


def deployments(heat):
    """The deployments in this server's metadata in Heat."""
    token, endpoint = authenticate(heat['auth_url'], heat['user_id'],
                                   heat['password'], heat['project_id'],
                                   heat.get('region_name'))
    _, body = _call('GET', '%s/stacks/%s/resources/%s/metadata' % (
        endpoint, heat['stack_id'], heat['resource_name']), token=token)
    return (body or {}).get('metadata', {}).get('deployments') or []


def _inputs(deployment):
    return {i['name']: i.get('value') for i in deployment.get('inputs') or ()
            if i.get('name')}


def _as_env(value):
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    return json.dumps(value)


def run(deployment, state_dir):
    """Run one script deployment; (stdout, stderr, status)."""
    inputs = _inputs(deployment)
    env = dict(os.environ)
    env.update({name: _as_env(value) for name, value in inputs.items()
                if not name.startswith('deploy_')})
    env['deploy_action'] = _as_env(inputs.get('deploy_action'))
    fd, path = tempfile.mkstemp(prefix='deployment-', dir=state_dir)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(deployment.get('config') or '')
        os.chmod(path, 0o700)
        try:
            done = subprocess.run([path], env=env, capture_output=True,
                                  stdin=subprocess.DEVNULL,
                                  timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired:
            return '', 'timed out after %d s' % SCRIPT_TIMEOUT, 124
        except OSError as e:
            return '', 'could not run: %s' % e, 126
        return (done.stdout.decode('utf-8', 'replace')[-OUTPUT_LIMIT:],
                done.stderr.decode('utf-8', 'replace')[-OUTPUT_LIMIT:],
                done.returncode)
    finally:
        os.unlink(path)


def signal(deployment, outcome, server_heat):
    """Tell Heat how the deployment went, the way it asked to be told."""
    inputs = _inputs(deployment)
    transport = inputs.get('deploy_signal_transport') or 'NO_SIGNAL'
    if transport == 'NO_SIGNAL':
        return
    if transport != 'HEAT_SIGNAL':
        raise AgentError('signal transport %s is not supported' % transport)
    token, endpoint = authenticate(
        inputs['deploy_auth_url'], inputs['deploy_user_id'],
        inputs['deploy_password'], inputs['deploy_project_id'],
        inputs.get('deploy_region_name') or server_heat.get('region_name'))
    stdout, stderr, status = outcome
    _call('POST', '%s/stacks/%s/resources/%s/signal' % (
        endpoint, inputs['deploy_stack_id'], inputs['deploy_resource_name']),
        {'deploy_stdout': stdout, 'deploy_stderr': stderr,
         'deploy_status_code': status}, token=token)


def _done_path(state_dir):
    return os.path.join(state_dir, 'done.json')


def _load_done(state_dir):
    try:
        with open(_done_path(state_dir)) as f:
            return set(json.load(f))
    except (OSError, ValueError):
        return set()


def _save_done(state_dir, done):
    path = _done_path(state_dir)
    with open(path + '.tmp', 'w') as f:
        json.dump(sorted(done), f)
    os.replace(path + '.tmp', path)


def one_pass(credentials_path=CREDENTIALS, state_dir=STATE_DIR):
    """Run the deployments not run yet; the ids of those run."""
    heat = credentials(credentials_path)
    if heat is None:
        return []
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    done = _load_done(state_dir)
    ran = []
    for deployment in deployments(heat):
        ident = deployment.get('id')
        if not ident or ident in done:
            continue
        if deployment.get('group') != 'script':
            log('deployment %s: group %s is not one this agent runs'
                % (ident, deployment.get('group')))
            continue
        name = deployment.get('name') or ident
        log('running deployment %s (%s)' % (name, ident))
        outcome = run(deployment, state_dir)
        log('deployment %s ended with status %d' % (name, outcome[2]))
        signal(deployment, outcome, heat)
        # NOTE: recorded once Heat knows: a signal that failed is sent
        # again, with the script run again, on the next pass.
        done.add(ident)
        _save_done(state_dir, done)
        ran.append(ident)
    return ran


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--credentials', default=CREDENTIALS)
    parser.add_argument('--state-dir', default=STATE_DIR)
    args = parser.parse_args(argv)
    try:
        one_pass(args.credentials, args.state_dir)
    except AgentError as e:
        log(str(e))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
