"""Options of the [kubernetes] group: pods, services and RCs on bays.

How the conductor authenticates to a bay's Kubernetes API, how projects map
to namespaces, and the rules for fetching ``manifest_url``.
"""

from oslo_config import cfg

group = cfg.OptGroup('kubernetes',
                     title='Kubernetes objects (pods, services, RCs)')

opts = [
    cfg.StrOpt('kubeconfig',
               help='A kubeconfig file, read by the conductor only, with '
                    'Magnum\'s credentials for the Kubernetes API servers '
                    'of bays: for a bay, the context whose cluster '
                    '"server" is the bay\'s api_address is used (its '
                    'user\'s token, token file or client certificate and '
                    'key, and its certificate-authority). A bay whose '
                    'endpoint is not in the file is spoken to without '
                    'credentials. Keep the file readable by the conductor '
                    'alone: nothing in it is ever returned by the API or '
                    'logged.'),
    cfg.StrOpt('namespace_prefix', default='magnum-',
               regex=r'^[a-z0-9]([a-z0-9-]{0,20})$',
               help='Each project\'s objects live in the namespace '
                    '<prefix><project id> of each bay; an id that would '
                    'not make a valid namespace name (lower case letters, '
                    'digits and "-", at most 63 characters) becomes a '
                    'readable part of it and a hash of all of it. The '
                    'conductor creates the namespace on first use and '
                    'labels it with the project id.'),
    cfg.FloatOpt('request_timeout', default=15.0, min=0.1,
                 help='Seconds to wait for a bay\'s Kubernetes API to '
                      'answer one request.'),
    cfg.IntOpt('manifest_max_bytes', default=512 * 1024, min=1,
               help='The largest manifest accepted, in bytes, whether in '
                    'the request or fetched from manifest_url.'),
    cfg.FloatOpt('manifest_fetch_timeout', default=10.0, min=0.1,
                 help='Seconds the conductor waits for a manifest_url to '
                      'connect, and again between bytes.'),
    cfg.ListOpt('manifest_allowed_networks', default=[],
                help='Networks (CIDR, e.g. 10.1.0.0/16 or 127.0.0.1/32) '
                     'that manifest_url may point into although they are '
                     'loopback, link-local, private or otherwise not '
                     'global. By default only global addresses are '
                     'fetched: a manifest_url is a request the conductor '
                     'makes on a user\'s behalf from inside the cloud.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
