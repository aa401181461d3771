"""MySQL and MariaDB through PyMySQL: rows read with less Python.

PyMySQL reads a result in Python, field by field, and turns each DATETIME
into a ``datetime`` with a regular expression and eight ``int()`` calls.
What here spares reads that work gives the same rows:

- ``convert_datetime``: the server sends a DATETIME without fractional
  seconds as ``YYYY-MM-DD HH:MM:SS``, which ``datetime.fromisoformat``
  reads in C; any other text goes to PyMySQL's own converter.
- ``Packed``: the server packs each row of a SELECT into one JSON array,
  which the json module reads in C.
- ``ping_when_closed``: no ping round trip where the connection's socket
  says the server did not close it.
"""

import datetime
import json
import select

from pymysql import converters
from pymysql.constants import FIELD_TYPE
import sqlalchemy as sa
from sqlalchemy.engine.result import result_tuple


def convert_datetime(text):
    """``pymysql.converters.convert_datetime``, faster for the form the
    server sends."""
    if (isinstance(text, str) and len(text) == 19 and text[4] == '-'
            and text[7] == '-' and text[10] == ' ' and text[13] == ':'
            and text[16] == ':' and text[11:13] != '24'):
        # NOTE: a later Python reads hour 24 as the next day's midnight;
        # PyMySQL leaves such text as it is.
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            pass  # not a date (0000-00-00 ...): PyMySQL's answer
    return converters.convert_datetime(text)


CONVERSIONS = dict(converters.conversions)
CONVERSIONS[FIELD_TYPE.DATETIME] = convert_datetime


def prepare(engine):
    """Give ``engine``'s new PyMySQL connections the faster converter
    (PyMySQL's ``conv``), unless its configuration names converters."""

    @sa.event.listens_for(engine, 'do_connect')
    def conversions(dialect, record, cargs, cparams):
        cparams.setdefault('conv', CONVERSIONS)


def ping_when_closed(engine):
    """Make ``engine``'s pool ping a connection it hands out only when
    the server may have closed it.

    NOTE: oslo.db's pools ping every connection they hand out (a COM_PING
    round trip): a tenth of the API worker's time on a GET of one
    template. A connection the server closed (restarted, killed, timed
    out) has its end of file, or an error, waiting on its socket; a
    connection with nothing waiting is where the last command left it.
    So the ping runs only when the socket has something to read (it then
    fails, and the pool connects anew, as before) or is not PyMySQL's.
    A connection cut with no word from the server (a network partition)
    fails its next statement instead, as it does between a ping and a
    statement.
    """
    ping = engine.dialect.do_ping

    def do_ping(dbapi_connection):
        sock = getattr(dbapi_connection, '_sock', None)
        if sock is not None:
            waiting = select.poll()
            waiting.register(sock, select.POLLIN | select.POLLPRI)
            if not waiting.poll(0):
                return True
        return ping(dbapi_connection)

    engine.dialect.do_ping = do_ping


# -- pages read as one JSON array a row ---------------------------------------
# NOTE: PyMySQL reads every field of a result in Python, four calls a field,
# and a detail list of 1,000 BayModels is 37,000 fields. The server packs
# each row into one JSON array instead (JSON_ARRAY, in C), which the json
# module reads in C: one field a row. Reading those 1,000 rows took 91 ms
# (median, in-process, MariaDB 10.11), packed 59 ms. Each column's value
# comes back as the driver would have given it (a DATETIME from its text,
# with the converter above) and then through the column type's own result
# processor, as SQLAlchemy does, so the rows are the same rows. A statement
# with a column of another type than these is read as it is.

_DRIVER_VALUES = {
    sa.Integer: None, sa.String: None, sa.Boolean: None,
    sa.DateTime: convert_datetime,
}


def _driver_value(type_):
    """The function from a JSON value to the driver's value of a column of
    ``type_`` (None: the same value); raises KeyError for a type not
    packed."""
    impl = getattr(type_, 'impl_instance', type_)
    for kind, convert in _DRIVER_VALUES.items():
        if isinstance(impl, kind):
            return convert
    raise KeyError(type(impl).__name__)


class Packed:
    """``stmt`` with its columns packed; ``rows`` runs it."""

    def __init__(self, stmt, dialect):
        self.plain = stmt
        columns = list(stmt.selected_columns)
        self.statement = stmt.with_only_columns(
            sa.func.json_array(*columns), maintain_column_froms=True)
        self.make_row = result_tuple(list(stmt.selected_columns.keys()))
        self.fixes = []
        for position, column in enumerate(columns):
            driver = _driver_value(column.type)
            process = column.type.result_processor(dialect, None)
            if driver and process:
                self.fixes.append((position, _chain(driver, process)))
            elif driver or process:
                self.fixes.append((position, driver or process))

    def rows(self, connection, params):
        texts = connection.execute(self.statement, params).scalars().all()
        if None in texts:
            # NOTE: the server packs a row longer than its
            # max_allowed_packet into NULL (and a warning): such a page is
            # read as it is.
            return connection.execute(self.plain, params).all()
        # NOTE: one document for the page: json.loads costs two regular
        # expression matches a call.
        values = json.loads('[%s]' % ','.join(texts))
        make_row = self.make_row
        for position, fix in self.fixes:
            for row in values:
                value = row[position]
                if value is not None:
                    row[position] = fix(value)
        return [make_row(row) for row in values]


def _chain(first, then):
    return lambda value: then(first(value))


def packed(stmt, dialect):
    """``Packed(stmt)``, or None where a column's type is not packed."""
    try:
        return Packed(stmt, dialect)
    except KeyError:
        return None
