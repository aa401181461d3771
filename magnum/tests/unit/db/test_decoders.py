"""What the reads decode faster than their libraries, decoded as they do.

``models._loads`` (JSON columns) and ``mysql.convert_datetime`` (PyMySQL's
DATETIME) take a short way for the text they usually get and hand anything
else to ``json.loads`` and PyMySQL's own converter: every value here must
come out as the library's does, or fail with the library's exception.
"""

import datetime
import json
from unittest import mock

from pymysql import converters
import sqlalchemy as sa

from magnum.db import mysql
from magnum.db.sqlalchemy import models
from magnum.tests import base


def _outcome(function, value):
    try:
        return 'value', function(value)
    except Exception as e:  # noqa: BLE001 - the kind of failure is compared
        return 'raised', type(e)


class TestJSONColumns(base.TestCase):

    DOCUMENTS = [
        '{"a": 1, "b": [1, 2, {"c": null}]}', '[]', '{}', '"text"', '1.5',
        'null', 'true', 'NaN', '-Infinity', '{"k": "caf\\u00e9"}',
        # not one document with nothing around it: json.loads' way
        ' {"a": 1}', '{"a": 1}\n', '{"a": 1} x', '{"a": 1}{"b": 2}', '',
        '   ', '{', '\ufeff{"a": 1}', b'{"a": 1}', bytearray(b'[1]'),
        '{"a": 1', '[1,]',
    ]

    def test_every_document_decodes_as_json_loads_does(self):
        for text in self.DOCUMENTS:
            self.assertEqual(_outcome(json.loads, text),
                             _outcome(models._loads, text), repr(text))

    def test_what_the_column_stored_comes_back(self):
        column = models.JSONEncoded()
        for value in ({'labels': {'kube_tag': 'v1.30'}}, ['10.0.0.3'], None,
                      'x', 0):
            stored = column.process_bind_param(value, None)
            self.assertEqual(value,
                             column.process_result_value(stored, None))


class TestMySQLDatetimes(base.TestCase):

    TEXTS = [
        '2026-12-04 10:11:12', '1970-01-01 00:00:00', '9999-12-31 23:59:59',
        # PyMySQL's own answers: a zero date, an impossible one, hour 24,
        # fractions, a date alone, a T, garbage, bytes
        '0000-00-00 00:00:00', '2026-02-30 10:00:00', '2026-12-04 24:00:00',
        '2026-12-04 10:11:12.123456', '2026-12-04 10:11:12.5', '2026-12-04',
        '2026-12-04T10:11:12', 'not a date at all!!', b'2026-12-04 10:11:12',
        '2026-12-04 10:11:1x', '+026-12-04 10:11:12',
    ]

    def test_every_text_converts_as_pymysql_does(self):
        for text in self.TEXTS:
            self.assertEqual(_outcome(converters.convert_datetime, text),
                             _outcome(mysql.convert_datetime, text),
                             repr(text))

    def test_the_servers_form_is_a_datetime(self):
        self.assertEqual(datetime.datetime(2026, 12, 4, 10, 11, 12),
                         mysql.convert_datetime('2026-12-04 10:11:12'))

    def test_only_datetime_changes_in_the_conversions(self):
        changed = {key for key, value in mysql.CONVERSIONS.items()
                   if converters.conversions.get(key) is not value}
        self.assertEqual({converters.FIELD_TYPE.DATETIME}, changed)


class TestPackedStatements(base.TestCase):
    """Which statements ``mysql.packed`` reads as one JSON array a row (the
    rows themselves are compared on MariaDB: functional
    test_migrations)."""

    def setUp(self):
        super().setUp()
        from sqlalchemy.dialects.mysql import pymysql as mysql_pymysql
        self.dialect = mysql_pymysql.dialect()

    def test_every_table_of_the_models_is_packed(self):
        for table in models.Base.metadata.sorted_tables:
            packed = mysql.packed(sa.select(table), self.dialect)
            self.assertIsNotNone(packed, table.name)
            sql = str(packed.statement.compile(dialect=self.dialect))
            self.assertTrue(sql.startswith('SELECT json_array(%s.id, '
                                           % table.name), sql)
            self.assertEqual(tuple(table.c.keys()),
                             packed.make_row(range(len(table.c)))._fields)

    def test_a_column_of_another_type_keeps_the_plain_statement(self):
        table = sa.Table('t', sa.MetaData(), sa.Column('id', sa.Integer),
                         sa.Column('ratio', sa.Float),
                         sa.Column('blob', sa.LargeBinary))
        self.assertIsNone(mysql.packed(sa.select(table.c.id, table.c.ratio),
                                       self.dialect))
        self.assertIsNone(mysql.packed(sa.select(table.c.blob),
                                       self.dialect))
        self.assertIsNotNone(mysql.packed(sa.select(table.c.id),
                                          self.dialect))

    def test_only_mysql_through_pymysql_reads_packed(self):
        from magnum.db import api as db_api
        from sqlalchemy.dialects.mysql import mysqldb
        from sqlalchemy.dialects.postgresql import psycopg2
        from sqlalchemy.dialects.sqlite import pysqlite
        stmt = sa.select(models.BayModel.__table__)
        self.assertIsNotNone(db_api._packed(stmt, self.dialect))
        for dialect in (mysqldb.dialect(), psycopg2.dialect(),
                        pysqlite.dialect()):
            self.assertIsNone(db_api._packed(stmt, dialect), dialect.name)

    def test_a_row_the_server_could_not_pack_reads_the_page_plainly(self):
        # NOTE: the server packs a row longer than its max_allowed_packet
        # into NULL; a stand-in for the connection gives that NULL (the
        # setting is the whole server's, shared by the tests).
        packed = mysql.packed(sa.select(models.BayModel.__table__),
                              self.dialect)
        asked = []

        class Connection:
            def execute(self, stmt, params):
                asked.append(stmt)
                return mock.Mock(**{
                    'scalars.return_value.all.return_value': [None, '[]'],
                    'all.return_value': ['the plain rows']})

        self.assertEqual(['the plain rows'], packed.rows(Connection(), {}))
        self.assertEqual([packed.statement, packed.plain], asked)
