"""Default policy rules, in code. A policy file may override any of them."""

import itertools

from magnum.common.policies import base
from magnum.common.policies import bay
from magnum.common.policies import cluster
from magnum.common.policies import certificate
from magnum.common.policies import baymodel
from magnum.common.policies import container
from magnum.common.policies import kubernetes
from magnum.common.policies import magnum_service
from magnum.common.policies import node


def list_rules():
    return list(itertools.chain(
        base.list_rules(),
        baymodel.list_rules(),
        bay.list_rules(),
        certificate.list_rules(),
        container.list_rules(),
        magnum_service.list_rules(),
        kubernetes.list_rules(),
        node.list_rules(),
        cluster.list_rules(),
    ))
