"""Options of the [quotas] group: per-project limits."""

from oslo_config import cfg

group = cfg.OptGroup('quotas', title='Options for quotas')

opts = [
    cfg.IntOpt('max_clusters_per_project', default=20, min=0,
               help='How many clusters (bays) a project may have unless a '
                    'quota of its own (POST /v1/quotas) says otherwise.'),
]


def register_opts(conf):
    conf.register_group(group)
    conf.register_opts(opts, group=group)


def list_opts():
    return {group: opts}
