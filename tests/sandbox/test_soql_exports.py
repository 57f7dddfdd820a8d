"""The SOQL package's public surface: what the Salesforce emulator imports must stay exported."""

from __future__ import annotations

import connector.sandbox.salesforce.soql as soql


def test_public_api_is_exported() -> None:
    for name in ("parse_soql", "bind_query", "SoqlError", "SchemaLookup", "FieldInfo", "Query", "BoundQuery",
                 "IndexHint", "OrderItem", "StaticSchema", "sample_schema"):
        assert name in soql.__all__
        assert getattr(soql, name) is not None


def test_all_names_resolve() -> None:
    assert sorted(soql.__all__) == sorted(set(soql.__all__))
    for name in soql.__all__:
        assert hasattr(soql, name), name


def test_soql_error_is_an_exception_with_rest_body() -> None:
    err = soql.SoqlError("MALFORMED_QUERY", "unexpected token: 'x'", query="SELECT x", position=7)
    assert isinstance(err, Exception)
    assert err.status_code == 400
    assert err.to_json() == [{"message": "\nSELECT x\n       ^\nERROR at Row:1:Column:8\nunexpected token: 'x'",
                              "errorCode": "MALFORMED_QUERY"}]
