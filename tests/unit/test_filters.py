"""inspector.filters: the --filter grammar, on rows a user would filter."""

import pytest

from inspector.filters import FAILED, FilterError, combine, compile_filter

SIP_FAIL = {"flow_id": 2, "outcome": "failed", "server_port": 5061, "client_ip": "10.10.1.20",
            "alerts": ["server:fatal:unknown_ca"], "sni": None, "certs_visible": True,
            "tls_version": "TLS 1.2", "resumed": False, "server_chain_sha256": ["ab" * 32]}
HTTPS_OK = {"flow_id": 3, "outcome": "established", "server_port": 443, "client_ip": "10.10.1.30",
            "alerts": [], "sni": "cucm1.example.lab", "certs_visible": False,
            "tls_version": "TLS 1.3", "resumed": True, "server_chain_sha256": []}
ROWS = [SIP_FAIL, HTTPS_OK]


def ids(expr):
    f = compile_filter(expr)
    return [r["flow_id"] for r in ROWS if f.matches(r)]


@pytest.mark.parametrize("expr, expected", [
    ('outcome == "failed" and server_port == 5061', [2]),
    ("outcome == 'established' or server_port == 5061", [2, 3]),
    ("server_port in [5061, 2443]", [2]),
    ("server_port not in [5061, 2443]", [3]),
    ('not outcome == "failed"', [3]),
    ('alerts contains "unknown_ca"', [2]),
    ('sni contains "cucm"', [3]),
    ('sni startswith "cucm1."', [3]),
    ("sni == null", [2]),
    ("sni != null", [3]),
    ("not certs_visible", [3]),
    ("resumed", [3]),
    ("alerts", [2]),  # a list alone: true when not empty
    ("server_port >= 1000", [2]),
    ('server_port == "443"', [3]),  # numeric text against a number
    ('tls_version > "TLS 1.2"', [3]),
    ('(outcome == "failed" or resumed) AND NOT server_port == 443', [2]),
    ('client_ip in ["10.10.1.20"]', [2]),
    ('"unknown_ca" in alerts', []),  # membership is exact: the element is server:fatal:unknown_ca
    ('"server:fatal:unknown_ca" in alerts', [2]),
    (FAILED, [2]),
])
def test_expressions_select_the_expected_flows(expr, expected):
    assert ids(expr) == expected


def test_missing_values_never_match_an_order_comparison():
    assert not compile_filter('sni < "z"').matches(SIP_FAIL)
    assert not compile_filter('sni contains ""').matches(SIP_FAIL)


def test_escapes_in_strings():
    f = compile_filter(r'sni == "a\"b"')
    assert f.matches({"sni": 'a"b'})


@pytest.mark.parametrize("expr, message", [
    ("outcome ==", "expected a column, a value or '(' at column 11, found the end"),
    ('outcome == "failed', "unclosed string at column 12"),
    ("outcom == 'failed'", "unknown column 'outcom' at column 1"),
    ("server_port == 5061 and", "at column 24"),
    ("(outcome == 'failed'", "expected ')'"),
    ("outcome = 'failed'", "unexpected character '=' at column 9"),
    ("server_port in [1, 2", "expected ',' or ']'"),
    ("outcome 'failed'", "expected and/or or the end"),
    ("", "empty filter"),
    ("__import__('os').system('true')", "unexpected character '.' at column 17"),
    ("__import__('os')", "unknown column '__import__' at column 1"),
])
def test_bad_expressions_are_one_clear_error(expr, message):
    with pytest.raises(FilterError) as e:
        compile_filter(expr)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_in_needs_a_list_and_says_so():
    f = compile_filter("server_port in 5061")
    with pytest.raises(FilterError, match="in needs a list"):
        f.matches(SIP_FAIL)


def test_hostile_nesting_and_length_are_bounded():
    with pytest.raises(FilterError, match="nested deeper"):
        compile_filter("(" * 100 + "resumed" + ")" * 100)
    with pytest.raises(FilterError, match="nested deeper"):
        compile_filter("not " * 100 + "resumed")
    with pytest.raises(FilterError, match="longer than"):
        compile_filter("resumed or " * 1000 + "resumed")


def test_combine_joins_with_and_and_keeps_the_users_columns():
    f = combine(["server_port == 5061", FAILED])
    assert [r["flow_id"] for r in ROWS if f.matches(r)] == [2]
    assert combine([None, ""]) is None
    with pytest.raises(FilterError, match="at column 1"):
        combine([FAILED, "nope == 1"])


def test_mask_on_a_flows_dataframe(lab_capture):
    import inspector
    cap = inspector.read_capture(lab_capture)
    m = compile_filter('outcome == "failed" and alerts contains "unknown_ca"').mask(cap.flows)
    assert list(cap.flows[m].flow_id) == list(cap.flows[cap.flows.outcome == "failed"].flow_id)
    assert m.sum() >= 1


def test_mask_compares_times_as_iso_text(lab_capture):
    import inspector
    flows = inspector.read_capture(lab_capture).flows
    first = flows.ts_start.min().isoformat()
    m = compile_filter(f'ts_start > "{first}"').mask(flows)
    assert m.sum() == (flows.ts_start > flows.ts_start.min()).sum() and m.sum() >= 1
