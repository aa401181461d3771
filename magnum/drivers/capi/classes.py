"""Magnum's own ClusterClass, shipped in the package (pure functions, no
Kubernetes calls: the provisioner installs what ``objects`` returns).

class.yaml, next to this module, holds one ClusterClass
(cluster.x-k8s.io/v1beta2) and the templates it refers to: a
KubeadmControlPlaneTemplate, a KubeadmConfigTemplate, an
OpenStackClusterTemplate and two OpenStackMachineTemplates (CAPO,
infrastructure.cluster.x-k8s.io/v1beta1). Each is named ``CLASS_NAME`` or
``CLASS_NAME-<part>``, without a namespace.

Naming and versioning: the class is named after its content,
``magnum-<the first 10 hex digits of the sha256 of class.yaml>``, and
``objects`` puts that name in place of ``CLASS_NAME`` everywhere in the
file (names and the ClusterClass's template references). So:

* the objects of one content are never changed once installed: a release
  that changes class.yaml (a comment included) ships a new class under a
  new name, installed beside the old one, and creating objects that exist
  already is all an installer has to do;
* a cluster keeps the class it was made from, and an upgrade of Magnum
  does not roll its machines; it moves to the new class (its
  ``topology.classRef``) only when it is upgraded, which rolls its
  machines anyway;
* a class no cluster refers to any more may be deleted; every object
  carries the label ``magnum.openstack.org/class: <name>`` to find them.
"""

import functools
import hashlib
import json
import os

import yaml

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'class.yaml')
TOKEN = 'CLASS_NAME'
PREFIX = 'magnum-'
LABEL = 'magnum.openstack.org/class'
WORKER_CLASS = 'default-worker'


@functools.lru_cache(maxsize=1)
def _read():
    """The bytes of class.yaml (the package's file never changes while
    the process runs)."""
    with open(PATH, 'rb') as f:
        return f.read()


def _name(content):
    return PREFIX + hashlib.sha256(content).hexdigest()[:10]


def _replace(node, name):
    if isinstance(node, str):
        return node.replace(TOKEN, name)
    if isinstance(node, list):
        return [_replace(item, name) for item in node]
    if isinstance(node, dict):
        return {key: _replace(value, name) for key, value in node.items()}
    return node


def _documents(content):
    """The file's objects, every value its own copy (YAML aliases in the
    file share one object when loaded)."""
    loaded = [doc for doc in yaml.safe_load_all(content) if doc]
    return json.loads(json.dumps(loaded))


def name():
    """The class's name: ``magnum-`` and 10 hex digits of its sha256."""
    return _name(_read())


def objects(namespace):
    """The ClusterClass and its templates, named after the content, in
    ``namespace`` and labelled with the class's name: the templates in the
    file's order, then the ClusterClass (created in this order, the class
    finds its templates when it is first reconciled)."""
    content = _read()
    class_name = _name(content)
    result = []
    for doc in _documents(content):
        doc = _replace(doc, class_name)
        metadata = doc.setdefault('metadata', {})
        metadata['namespace'] = namespace
        metadata.setdefault('labels', {})[LABEL] = class_name
        result.append(doc)
    result.sort(key=lambda doc: doc['kind'] == 'ClusterClass')
    return result


def cluster_class():
    """The ClusterClass object of the file (no namespace, names replaced).
    """
    content = _read()
    for doc in _documents(content):
        if doc.get('kind') == 'ClusterClass':
            return _replace(doc, _name(content))
    raise ValueError('%s has no ClusterClass' % PATH)


def variable_names():
    """The names of the variables the ClusterClass declares."""
    return {variable['name']
            for variable in cluster_class()['spec'].get('variables', [])}


def worker_class():
    """The class of every worker MachineDeployment."""
    return WORKER_CLASS
