"""Request bodies: JSON parsing and WSME field validation.

Each resource declares its fields once, as a WSME type; ``parse`` checks a
body against it field by field so every error names its field.
"""

import ipaddress
import json
import re

from oslo_utils import strutils
from oslo_utils import uuidutils
import pecan
import wsme
from wsme.rest import json as wsme_json
from wsme import types as wtypes

from magnum.common import exception
from magnum.common import spelling

INT32_MAX = 2 ** 31 - 1


def string(max_length=255):
    return wtypes.StringType(max_length=max_length)


def integer(minimum=None, maximum=INT32_MAX):
    return wtypes.IntegerType(minimum=minimum, maximum=maximum)


class NameType(wtypes.UserType):
    """A resource name: 1-255 characters, never shaped like a UUID.

    NOTE: a UUID-shaped name could never be addressed by name.
    """

    basetype = wtypes.text
    name = 'name'

    def __init__(self, pattern=None, hint=None):
        self.pattern = re.compile(pattern) if pattern else None
        self.hint = hint

    def validate(self, value):
        if not isinstance(value, str) or not 1 <= len(value) <= 255:
            raise ValueError('a name is 1 to 255 characters')
        if uuidutils.is_uuid_like(value):
            raise ValueError('a name must not look like a UUID')
        if self.pattern and not self.pattern.match(value):
            raise ValueError(self.hint)
        return value


class IPv4Type(wtypes.UserType):
    basetype = wtypes.text
    name = 'ipv4'

    def validate(self, value):
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError('%r is not an IPv4 address' % value)
        return value


class URLType(wtypes.UserType):
    basetype = wtypes.text
    name = 'url'

    def __init__(self, schemes=('http', 'https')):
        self.schemes = schemes

    def validate(self, value):
        if len(value) > 255:
            raise ValueError('a URL is at most 255 characters')
        scheme = value.split('://', 1)[0] if '://' in value else ''
        if scheme not in self.schemes:
            raise ValueError('%r is not a URL with scheme %s'
                             % (value, ' or '.join(self.schemes)))
        return value


class SSHPublicKeyType(wtypes.UserType):
    """One OpenSSH public key, as in an ``authorized_keys`` line."""

    basetype = wtypes.text
    name = 'ssh_public_key'

    def validate(self, value):
        if len(value) > 16384:
            raise ValueError('an SSH public key is at most 16384 characters')
        text = value.strip()
        if '\n' in text or '\r' in text:
            raise ValueError('one SSH public key, on one line')
        # NOTE: imported here: cryptography is ~10 MiB, which no other
        # request of an API worker needs.
        from cryptography import exceptions
        from cryptography.hazmat.primitives import serialization
        try:
            serialization.load_ssh_public_key(text.encode('utf-8'))
        except (ValueError, UnicodeEncodeError,
                exceptions.UnsupportedAlgorithm):
            raise ValueError('not an OpenSSH public key ("ssh-ed25519 '
                             'AAAA... comment", as in authorized_keys)')
        return text

    def frombasetype(self, value):
        # NOTE: stored as one authorized_keys line (a key read from a file
        # arrives with its line break).
        return None if value is None else value.strip()


def json_body():
    """The request's JSON body, which must be an object or a list."""
    body = pecan.request.body
    if not body:
        raise exception.Invalid(reason='the request has no JSON body')
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as e:  # RecursionError: deep nesting
        raise exception.Invalid(reason='the body is not valid JSON: %s' % e)


def _fields(wstype):
    return {attr.name: attr for attr in wtypes.list_attributes(wstype)}


def _basetype(datatype):
    while isinstance(datatype, wtypes.UserType):
        datatype = datatype.basetype
    return datatype


def check_text(field, text):
    """Text any database stores: valid UTF-8 and no NUL character."""
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise exception.InvalidParameterValue(
            field=field, reason='the text is not valid Unicode')
    if '\x00' in text:
        raise exception.InvalidParameterValue(
            field=field, reason='the text contains a NUL character')


def _check_json_type(field, datatype, value):
    """Refuse JSON values of the wrong kind before WSME converts them.

    NOTE: WSME turns 1.5 and true into integers and 5 into text; clients
    do send integers as strings ("3"), which stay accepted.
    """
    if value is None:
        return
    base = _basetype(datatype)
    if base is int:
        if isinstance(value, (bool, float)) or not isinstance(value,
                                                              (int, str)):
            raise exception.InvalidParameterValue(
                field=field, reason='%r is not an integer' % (value,))
    elif base in (str, wtypes.text):
        if not isinstance(value, str):
            raise exception.InvalidParameterValue(
                field=field, reason='%r is not a string' % (value,))
        check_text(field, value)
    elif isinstance(base, (dict, wtypes.DictType)):
        if not isinstance(value, dict):
            raise exception.InvalidParameterValue(
                field=field, reason='%r is not an object' % (value,))
        for key, item in value.items():
            if not isinstance(item, str):
                raise exception.InvalidParameterValue(
                    field='%s.%s' % (field, key),
                    reason='%r is not a string' % (item,))
            check_text(field, key)
            check_text('%s.%s' % (field, key), item)


def _scalar_labels(field, datatype, value):
    """Labels with JSON booleans or numbers as values get them as text,
    spelled as JSON spells them (false, 3), as Magnum always took them.

    NOTE: magnum-ui's cluster form puts its checkboxes into the labels as
    JSON booleans (auto_scaling_enabled: false).
    """
    base = _basetype(datatype)
    if not (field == 'labels' and isinstance(base, (dict, wtypes.DictType))
            and isinstance(value, dict)):
        return value
    return {key: json.dumps(item)
            if isinstance(item, (bool, int, float)) else item
            for key, item in value.items()}


def _boolean(field, text):
    """A boolean sent as text, in any case: python-magnumclient (and so
    magnum-ui) sends ``str(True)``, "True" and "False", which WSME's
    own conversion refuses (it knows only lower-case words).
    """
    try:
        return strutils.bool_from_string(text, strict=True)
    except ValueError:
        raise exception.InvalidParameterValue(
            field=field, reason='%r is not a boolean (true or false)'
            % (text,))


def parse(wstype, data, partial=False):
    """Check ``data`` against ``wstype``; returns {field: native value}.

    ``partial`` skips the mandatory-field check (for PATCH results).
    """
    if not isinstance(data, dict):
        raise exception.Invalid(reason='the body must be a JSON object')
    fields = _fields(wstype)
    holder = wstype()
    values = {}
    for key, value in data.items():
        attr = fields.get(key)
        if attr is None:
            raise exception.UnknownField(
                field=key, hint=spelling.did_you_mean(key, fields) or '.')
        if value == '' and isinstance(attr.datatype, URLType):
            # NOTE: magnum-ui sends a URL left empty in its form (the
            # cluster's discovery_url) as "": no URL.
            value = None
        value = _scalar_labels(key, attr.datatype, value)
        _check_json_type(key, attr.datatype, value)
        if attr.datatype is bool and isinstance(value, str):
            value = _boolean(key, value)
        try:
            native = wsme_json.fromjson(attr.datatype, value)
            setattr(holder, attr.key, native)
        except wsme.exc.InvalidInput as e:
            raise exception.InvalidParameterValue(field=key,
                                                  reason=_reason(e))
        except (ValueError, TypeError, AttributeError, OverflowError) as e:
            raise exception.InvalidParameterValue(
                field=key, reason='%r is not valid: %s' % (value, e))
        values[key] = native
    if not partial:
        for name, attr in fields.items():
            if attr.mandatory and values.get(name) is None:
                raise exception.InvalidParameterValue(
                    field=name, reason='the field is required')
    return values


def _reason(e):
    reason = e.msg or str(e)
    return '%r is not valid: %s' % (e.value, reason)
